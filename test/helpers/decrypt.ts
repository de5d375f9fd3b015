/**
 * Captures through the real pipeline (lib.ts analyze) into an AnalyzerFactory that decrypts with a
 * key log, for tests of decryption (lib.ts wires `--keylog` itself; this only needs `streams`).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { analyze } from '../../src/lib.js';
import { AnalyzerFactory } from '../../src/analyzers/index.js';
import { KeyLog, loadKeyLogFile } from '../../src/analyzers/tls/index.js';
import { readChunks } from '../../src/capture/testing.js';
import type { FlowRecord, StreamFactory, StreamHandler } from '../../src/model/flow.js';
import type { FlowAnalysis } from '../../src/model/protocol.js';

export interface DecryptedFlow {
  flow: FlowRecord;
  analysis: FlowAnalysis;
}

/** Remembers the flows it opened, so that their analyses can be taken at the end. */
class RecordingFactory implements StreamFactory {
  readonly flows: FlowRecord[] = [];
  constructor(readonly analyzers: AnalyzerFactory) {}
  open(flow: FlowRecord): StreamHandler {
    this.flows.push(flow);
    return this.analyzers.open(flow);
  }
}

/** Every flow of a capture as the analyzers see it with these secrets. */
export async function analyzeWithKeys(capture: string, keyLog: KeyLog): Promise<DecryptedFlow[]> {
  const recording = new RecordingFactory(new AnalyzerFactory({ keyLog }));
  await analyze(capture, { streams: recording, retainFlows: false });
  return recording.flows.map((flow) => ({ flow, analysis: recording.analyzers.take(flow) }));
}

/** A key log file as `--keylog` gives it. */
export function keyLogFile(path: string): KeyLog {
  return loadKeyLogFile(path);
}

/** The TLS key logs of a pcapng's Decryption Secrets Blocks, as the capture stage hands them over. */
export function keyLogOfDsb(capture: string): KeyLog {
  const bytes = readFileSync(capture);
  const { sink } = readChunks(bytes, [bytes]);
  const keyLog = new KeyLog();
  for (const { type, data } of sink.secretBlocks) keyLog.addSecrets(type, data);
  return keyLog;
}

/** What decryption shows of a capture, as sets that tshark and kwire can both give. */
export interface Seen {
  certificates: string[];
  certificateRequest: boolean;
  http1Targets: string[];
  http2Paths: string[];
}

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

function runTshark(capture: string, keylog: string | null, fields: string[], filter: string, decodeAs: string[]): string[][] {
  const args = ['-r', capture, '-2', '-Y', filter, '-T', 'fields', '-E', 'separator=\t', ...fields.flatMap((f) => ['-e', f]), ...decodeAs.flatMap((d) => ['-d', d])];
  if (keylog) args.push('-o', `tls.keylog_file:${keylog}`);
  const out = execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').filter((line) => line.trim() !== '').map((line) => line.split('\t'));
}

/**
 * What tshark reads from the capture with the secrets (a DSB's are read by tshark itself);
 * `decodeAs` for ports it does not take for TLS by itself (`tcp.port==6443,tls`, `tls.port==6443,http`).
 */
export function tsharkSees(capture: string, keylog: string | null, decodeAs: string[] = []): Seen {
  const tshark = (fields: string[], filter: string) => runTshark(capture, keylog, fields, filter, decodeAs);
  const certificates = tshark(['tls.handshake.certificate'], 'tls.handshake.certificate')
    .flatMap(([ders]) => ders.split(','))
    .map((der) => createHash('sha256').update(Buffer.from(der.replace(/:/g, ''), 'hex')).digest('hex'));
  const requests = tshark(['tls.handshake.type'], 'tls.handshake.type == 13');
  const http1 = tshark(['http.request.uri'], 'http.request').map(([uri]) => uri);
  const http2 = tshark(['http2.headers.path'], 'http2.headers.path').flatMap(([paths]) => paths.split(','));
  return { certificates: sorted(certificates), certificateRequest: requests.length > 0, http1Targets: sorted(http1), http2Paths: sorted(http2) };
}

export function kwireSees(flows: DecryptedFlow[]): Seen {
  const analyses = flows.map((f) => f.analysis);
  const tls = analyses.filter((a) => a.tls !== null);
  // tshark lists requests in clear too: those of every flow.
  const requests = (version: (v: string | null) => boolean) => analyses.flatMap((a) => (a.http && version(a.http.version) ? a.http.requests.map((r) => r.target) : []));
  return {
    certificates: sorted(tls.flatMap((a) => [...a.tls!.serverChain, ...a.tls!.clientChain].map((c) => c.sha256))),
    certificateRequest: tls.some((a) => a.tls!.clientCertRequested === true),
    http1Targets: sorted(requests((v) => v !== '2')),
    http2Paths: sorted(requests((v) => v === '2')),
  };
}

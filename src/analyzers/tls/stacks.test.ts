/**
 * TLS 1.3 on real stacks (Go, kubectl, OpenSSL, curl, Node: the captures of captures/tls13/, see
 * captures/README.md): the encrypted records the analyzer lists are those tshark reads, and
 * `established` follows what each scenario did.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { analyze } from '../../lib.js';
import type { FlowRecord } from '../../model/flow.js';
import { repoRoot } from '../../../test/helpers/corpus.js';
import { TlsAnalyzer, newTlsInfo } from './analyzer.js';

vi.mock('./tls13-inference.js', () => ({
  inferTls13ClientAuth: () => ({ clientCertRequested: null, clientCertPresented: null, rejected: false, rejectedBy: null, reasoning: '' }),
}));

const dir = path.join(repoRoot, 'captures', 'tls13');

/** Per TLS connection of each capture: did both sides exchange data? (From the scenarios: a rejection on either side stops it.) */
const ESTABLISHED: Record<string, boolean[]> = {
  'curl-openssl-require-withcert-aes128': [true],
  'go-client-rejects-server': [false],
  'go-noclientcert': [true],
  'go-requireclientcert-nocert': [false],
  'go-requireclientcert-withcert': [true],
  // kubectl sends its request before the server's alert: data from one side only.
  'kubectl-go-require-nocert': [false],
  'kubectl-go-require-withcert': [true],
  'node-client-rejects-server': [false],
  'node-none': [true],
  'node-reject-client': [false],
  'node-request-withcert': [true],
  'node-require-empty': [false],
  'node-resumed': [true, true],
  'openssl-client-rejects-server': [false],
  'openssl-reject-client': [false],
  'openssl-request-empty-chacha': [true],
};

/**
 * The lengths of the encrypted records tshark reads per TCP stream, `c53`-style in order, the
 * servers' ports decoded as TLS. tshark names no content type for TLS 1.3 encrypted records, so
 * they are told by position: every record after each side's hello, less ChangeCipherSpecs (1 byte)
 * and clear alerts (2 bytes), which no encrypted record can be as short as.
 */
function tsharkRecords(file: string, flows: FlowRecord[]): Map<number, string[]> {
  const decodeAs = [...new Set(flows.map((f) => f.dport))].flatMap((port) => ['-d', `tcp.port==${port},tls`]);
  const fields = ['tcp.stream', 'tcp.srcport', 'tls.record.length'].flatMap((f) => ['-e', f]);
  const out = spawnSync('tshark', ['-r', file, ...decodeAs, '-Y', 'tls', '-T', 'fields', ...fields], { encoding: 'utf8' }).stdout;
  // tcp.stream counts from 0 in order of first packet, as flow ids count from 1.
  const clientPorts = new Map(flows.map((f) => [f.id - 1, f.sport]));
  const streams = new Map<number, string[]>();
  const hellosSeen = new Set<string>();
  for (const line of out.split('\n').filter(Boolean)) {
    const [stream, port, lengths] = line.split('\t');
    const side = clientPorts.get(Number(stream)) === Number(port) ? 'c' : 's';
    for (const length of lengths.split(',').filter(Boolean).map(Number)) {
      if (!hellosSeen.has(stream + side)) {
        hellosSeen.add(stream + side);
        continue;
      }
      if (length <= 2) continue;
      const list = streams.get(Number(stream)) ?? [];
      list.push(`${side}${length}`);
      streams.set(Number(stream), list);
    }
  }
  return streams;
}

const captures = readdirSync(dir)
  .filter((name) => name.endsWith('.pcap'))
  .map((name) => name.slice(0, -'.pcap'.length));

describe.each(captures)('captures/tls13/%s', (name) => {
  it('lists the records tshark reads, and is established as the scenario went', async () => {
    const opened: [FlowRecord, TlsAnalyzer][] = [];
    const file = path.join(dir, `${name}.pcap`);
    await analyze(file, {
      streams: {
        open(flow) {
          const analyzer = new TlsAnalyzer(newTlsInfo());
          opened.push([flow, analyzer]);
          return analyzer;
        },
      },
    });
    const tls = opened.filter(([, a]) => a.info.version === '1.3');
    // A capture added since this table was written is checked for its records only.
    if (name in ESTABLISHED) expect(tls.map(([, a]) => a.info.established)).toEqual(ESTABLISHED[name]);
    const records = tsharkRecords(file, opened.map(([flow]) => flow));
    for (const [flow, a] of tls) {
      const ours = a.encryptedRecords.map((r) => `${r.from[0]}${r.length}`);
      expect(ours).toEqual(records.get(flow.id - 1));
    }
  });
});

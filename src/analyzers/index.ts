/**
 * analyzers/: one analyzer per protocol per flow, chosen by content (detect.ts). The factory
 * gives flow/ a FlowAnalyzer for every connection; the FlowAnalyzer holds the first bytes until
 * the protocol is known, then hands every byte, in order, to that protocol's analyzer, and at the
 * end completes what needs the whole flow (certificate chains and their verdict).
 */
import type { Direction, EndReason, FlowRecord, StreamFactory, StreamHandler } from '../model/flow.js';
import type { CertificateInfo, FlowAnalysis } from '../model/protocol.js';
import { chainVerdict, parseCertificate, TrustAnchors } from '../pki/index.js';
import { detectProtocol, DETECTION_BYTES, type Detection } from './detect.js';
import { Http1Analyzer, newHttpInfo } from './http1/index.js';
import { Http2Analyzer } from './http2/index.js';
import { SshAnalyzer, newSshInfo } from './ssh/index.js';
import { TlsAnalyzer, newTlsInfo, type KeyLog } from './tls/index.js';

/** The key store and its loaders, for the pipeline that wires `--keylog` and Decryption Secrets Blocks. */
export { KeyLog, KeyLogFile, loadKeyLogFile, TLS_KEY_LOG_SECRETS } from './tls/index.js';

export interface AnalyzerOptions {
  /** Trust anchors for server certificate verdicts (`--ca`, the cluster file's `ca`). */
  anchors?: TrustAnchors;
  /**
   * TLS secrets (`--keylog`, a pcapng Decryption Secrets Block): the store is consulted as flows
   * need it, so secrets added while reading still serve. Decryption is tried when it holds any
   * secret or was told to expect some (KeyLog.expectSecrets).
   */
  keyLog?: KeyLog;
}

export class AnalyzerFactory implements StreamFactory {
  private readonly anchors: TrustAnchors;
  private readonly keyLog: KeyLog | undefined;
  private readonly live = new Map<FlowRecord, FlowAnalyzer>();

  constructor(options: AnalyzerOptions = {}) {
    this.anchors = options.anchors ?? TrustAnchors.empty();
    this.keyLog = options.keyLog;
  }

  open(flow: FlowRecord): StreamHandler {
    const analyzer = new FlowAnalyzer(flow, this.anchors, this.keyLog);
    this.live.set(flow, analyzer);
    return analyzer;
  }

  /** What was learnt of an ended flow (once: the factory forgets it). */
  take(flow: FlowRecord): FlowAnalysis {
    const analyzer = this.live.get(flow);
    this.live.delete(flow);
    return analyzer?.analysis ?? unknownAnalysis();
  }
}

interface Pending {
  dir: Direction;
  bytes: Buffer;
  ts: number;
  packet: number;
}

export class FlowAnalyzer implements StreamHandler {
  readonly analysis: FlowAnalysis = unknownAnalysis();
  private protocolHandler: StreamHandler | null = null;
  private tls: TlsAnalyzer | null = null;
  private decided = false;
  /**
   * Bytes seen before the protocol was known, in arrival order (copies), of the directions that
   * may still tell it: a few chunks at most.
   */
  private pending: Pending[] = [];
  /**
   * The first bytes of each direction, gathered only when a protocol's opening is split over
   * chunks. Own small buffers (Buffer.alloc is not pooled): a slice of the shared pool would pin a
   * whole 8 KiB slab for as long as the flow lives.
   */
  private heads: [Buffer, Buffer] | null = null;
  private readonly headLengths: [number, number] = [0, 0];
  /** Whether a direction's first bytes already said 'unknown'. */
  private readonly unrecognised: [boolean, boolean] = [false, false];
  /** Bytes of an unrecognised direction that were not kept: the protocol's analyzer gets them as a gap. */
  private readonly dropped: [number, number] = [0, 0];
  /** Decrypted application data without ALPN is told by its bytes, as a clear connection's: by an analyzer of its own. */
  private decryptedFlow: FlowAnalyzer | null = null;

  constructor(
    private readonly flow: FlowRecord,
    private readonly anchors: TrustAnchors,
    private readonly keyLog?: KeyLog,
  ) {}

  onData(dir: Direction, chunk: Buffer, ts: number, packet: number): void {
    if (this.decided) {
      this.protocolHandler?.onData(dir, chunk, ts, packet);
      return;
    }
    if (this.unrecognised[dir]) {
      this.dropped[dir] += chunk.length;
      return;
    }
    // Usually the first chunk tells by itself; only a protocol's first bytes split over chunks are gathered.
    let detection: Detection;
    if (this.headLengths[dir] === 0) {
      detection = detectProtocol(dir, chunk);
      if (detection === 'more') this.gatherHead(dir, chunk);
    } else {
      this.gatherHead(dir, chunk);
      detection = detectProtocol(dir, this.heads![dir].subarray(0, this.headLengths[dir]));
    }
    if (detection === 'more') {
      this.pending.push({ dir, bytes: Buffer.from(chunk), ts, packet });
      return;
    }
    if (detection !== 'unknown') {
      // The usual case: the first chunk tells, and goes on uncopied after what was held.
      this.decide(detection);
      this.protocolHandler?.onData(dir, chunk, ts, packet);
      return;
    }
    // One side's bytes may not tell (a pickup in the middle of a request body): the other side's
    // may. Until it speaks, this side's bytes are counted, not kept, so that memory stays flat.
    this.unrecognised[dir] = true;
    this.dropped[dir] += chunk.length;
    for (const entry of this.pending) if (entry.dir === dir) this.dropped[dir] += entry.bytes.length;
    this.pending = this.pending.filter((entry) => entry.dir !== dir);
    if (this.unrecognised[0] && this.unrecognised[1]) this.decide('unknown');
  }

  private gatherHead(dir: Direction, chunk: Buffer): void {
    this.heads ??= [Buffer.alloc(DETECTION_BYTES), Buffer.alloc(DETECTION_BYTES)];
    this.headLengths[dir] += chunk.copy(this.heads[dir], this.headLengths[dir], 0, DETECTION_BYTES - this.headLengths[dir]);
  }

  onGap(dir: Direction, bytes: number): void {
    // A hole before the protocol is known leaves nothing to tell it by.
    if (!this.decided) this.decide('unknown');
    this.protocolHandler?.onGap(dir, bytes);
  }

  onEnd(reason: EndReason): void {
    if (!this.decided) this.decide(this.analysis.protocol);
    this.protocolHandler?.onEnd(reason);
    if (this.decryptedFlow) this.analysis.http = this.decryptedFlow.analysis.http;
    if (this.tls) this.completeTls(this.tls);
    // The analysis stays (the factory hands it out when the flow leaves the table); the parsers go.
    this.protocolHandler = this.tls = this.decryptedFlow = this.heads = null;
    this.pending = [];
  }

  private decide(protocol: FlowAnalysis['protocol']): void {
    this.decided = true;
    this.heads = null;
    const analysis = this.analysis;
    analysis.protocol = protocol;
    switch (protocol) {
      case 'tls':
        analysis.tls = newTlsInfo();
        this.tls = new TlsAnalyzer(analysis.tls, {
          keyLog: this.keyLog?.active ? this.keyLog : undefined,
          openPlaintext: () => this.openPlaintext(),
        });
        this.protocolHandler = this.tls;
        break;
      case 'http':
        analysis.http = newHttpInfo();
        this.protocolHandler = new Http1Analyzer(analysis.http);
        break;
      case 'h2c':
        analysis.http = newHttpInfo();
        this.protocolHandler = new Http2Analyzer(analysis.http);
        break;
      case 'ssh':
        analysis.ssh = newSshInfo();
        this.protocolHandler = new SshAnalyzer(analysis.ssh);
        break;
      case 'unknown':
        break;
    }
    const pending = this.pending;
    this.pending = [];
    const handler = this.protocolHandler;
    if (!handler) return;
    for (const dir of [0, 1] as const) if (this.dropped[dir] > 0) handler.onGap(dir, this.dropped[dir]);
    for (const { dir, bytes, ts, packet } of pending) handler.onData(dir, bytes, ts, packet);
  }

  /** The analyzer of decrypted application data: the one ALPN names, else the one its bytes tell. */
  private openPlaintext(): StreamHandler {
    const alpn = this.analysis.tls?.alpn ?? null;
    if (alpn === 'h2') return new Http2Analyzer((this.analysis.http = newHttpInfo()));
    if (alpn === 'http/1.1' || alpn === 'http/1.0') return new Http1Analyzer((this.analysis.http = newHttpInfo()));
    this.decryptedFlow = new FlowAnalyzer(this.flow, this.anchors);
    return this.decryptedFlow;
  }

  /** Certificates are parsed once the chains are whole, and judged at the time of the capture. */
  private completeTls(tls: TlsAnalyzer): void {
    const info = this.analysis.tls!;
    info.serverChain = parsedChain(tls.serverChainDer);
    info.clientChain = parsedChain(tls.clientChainDer);
    if (tls.serverChainDer.length === 0) return;
    const { verdict, reason } = chainVerdict(tls.serverChainDer, {
      anchors: this.anchors,
      serverName: info.sni,
      serverAddress: this.flow.dst,
      at: new Date(this.flow.firstTs * 1000),
    });
    info.serverCertVerdict = verdict;
    info.serverCertReason = reason;
  }
}

function parsedChain(ders: Buffer[]): CertificateInfo[] {
  const chain: CertificateInfo[] = [];
  for (const der of ders) {
    const certificate = parseCertificate(der);
    if (certificate) chain.push(certificate);
  }
  return chain;
}

function unknownAnalysis(): FlowAnalysis {
  return { protocol: 'unknown', tls: null, http: null, ssh: null };
}

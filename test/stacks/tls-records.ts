/**
 * A tiny TLS record walker for the TLS 1.3 stack tests: reads a capture through kwire's own
 * capture, decode and flow layers (committed and tested), and lists per connection the records
 * after the ServerHello as the TLS analyzer hands them to inferTls13ClientAuth. It stands in for
 * the analyzer, which is written in parallel, and knows only what these tests need: record
 * headers, and the ServerHello's cipher suite.
 */
import { readCaptureFile } from '../../src/capture/index.js';
import { PacketDecoder } from '../../src/decode/index.js';
import { FlowTable } from '../../src/flow/index.js';
import { newDecodedPacket } from '../../src/model/packet.js';
import type { Direction, FlowRecord, StreamFactory, StreamHandler } from '../../src/model/flow.js';
import type { EncryptedRecord } from '../../src/analyzers/tls/encrypted-records.js';

export interface WalkedConnection {
  clientPort: number;
  serverPort: number;
  /** IANA name of the ServerHello's suite (TLS 1.3 suites only), else the hex code; null without a ServerHello. */
  cipher: string | null;
  /** The ServerHello chose TLS 1.3 (supported_versions = 0x0304). */
  tls13: boolean;
  records: EncryptedRecord[];
}

const TLS13_SUITES: Record<number, string> = {
  0x1301: 'TLS_AES_128_GCM_SHA256',
  0x1302: 'TLS_AES_256_GCM_SHA384',
  0x1303: 'TLS_CHACHA20_POLY1305_SHA256',
  0x1304: 'TLS_AES_128_CCM_SHA256',
  0x1305: 'TLS_AES_128_CCM_8_SHA256',
};

/** SHA-256("HelloRetryRequest"): a ServerHello with this random is a HelloRetryRequest (RFC 8446 §4.1.3). */
const HRR_RANDOM = 'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c';

interface ServerHello {
  cipher: string;
  tls13: boolean;
  hrr: boolean;
}

function parseServerHello(body: Buffer): ServerHello | null {
  // handshake header (4), legacy_version (2), random (32), session id (1 + n), suite (2), compression (1), extensions
  if (body.length < 4 + 2 + 32 + 1 || body[0] !== 2) return null;
  const hrr = body.subarray(6, 38).toString('hex') === HRR_RANDOM;
  let at = 38;
  at += 1 + body[at];
  if (at + 3 > body.length) return null;
  const code = body.readUInt16BE(at);
  at += 3;
  let tls13 = false;
  if (at + 2 <= body.length) {
    const end = Math.min(body.length, at + 2 + body.readUInt16BE(at));
    at += 2;
    while (at + 4 <= end) {
      const type = body.readUInt16BE(at);
      const len = body.readUInt16BE(at + 2);
      if (type === 43 && len === 2 && body.readUInt16BE(at + 4) === 0x0304) tls13 = true;
      at += 4 + len;
    }
  }
  return { cipher: TLS13_SUITES[code] ?? `0x${code.toString(16).padStart(4, '0')}`, tls13, hrr };
}

class RecordWalker implements StreamHandler {
  readonly connection: WalkedConnection;
  private readonly pending: [Buffer, Buffer] = [Buffer.alloc(0), Buffer.alloc(0)];
  /** Where each pending chunk ends and when it was captured, to date a record by its first byte. */
  private readonly chunks: [{ end: number; ts: number }[], { end: number; ts: number }[]] = [[], []];
  private afterServerHello = false;
  private broken = false;

  constructor(flow: FlowRecord) {
    this.connection = { clientPort: flow.sport, serverPort: flow.dport, cipher: null, tls13: false, records: [] };
  }

  onData(dir: Direction, chunk: Buffer, ts: number, packet: number): void {
    if (this.broken) return;
    this.pending[dir] = Buffer.concat([this.pending[dir], chunk]);
    this.chunks[dir].push({ end: this.pending[dir].length, ts });
    const buf = this.pending[dir];
    let used = 0;
    while (buf.length - used >= 5) {
      const type = buf[used];
      const length = buf.readUInt16BE(used + 3);
      if (type < 20 || type > 23 || length > 16384 + 256) {
        this.broken = true; // not TLS, or lost sync: these tests only see clean loopback TLS
        return;
      }
      if (buf.length - used < 5 + length) break;
      const recordTs = this.tsAt(dir, used);
      if (this.afterServerHello) {
        // The record is complete with this chunk: its packet is this one.
        this.connection.records.push({ from: dir === 0 ? 'client' : 'server', contentType: type, length, ts: recordTs, packet });
      } else if (dir === 1 && type === 22) {
        const hello = parseServerHello(buf.subarray(used + 5, used + 5 + length));
        if (hello && !hello.hrr) {
          this.connection.cipher = hello.cipher;
          this.connection.tls13 = hello.tls13;
          this.afterServerHello = true;
        }
      }
      used += 5 + length;
    }
    this.pending[dir] = Buffer.from(buf.subarray(used));
    this.chunks[dir] = this.chunks[dir].map((c) => ({ end: c.end - used, ts: c.ts })).filter((c) => c.end > 0);
  }

  private tsAt(dir: Direction, offset: number): number {
    return (this.chunks[dir].find((c) => c.end > offset) ?? { ts: 0 }).ts;
  }

  onGap(): void {
    this.broken = true;
  }

  onEnd(): void {}
}

/** Every TCP connection of a capture file, with its TLS records after the ServerHello. */
export async function walkTlsRecords(file: string): Promise<WalkedConnection[]> {
  const walkers: RecordWalker[] = [];
  const factory: StreamFactory = {
    open(flow) {
      const walker = new RecordWalker(flow);
      walkers.push(walker);
      return walker;
    },
  };
  const table = new FlowTable({ factory, onFlowEnd() {} });
  const decoder = new PacketDecoder();
  const packet = newDecodedPacket();
  await readCaptureFile(file, {
    frame(frame) {
      if (decoder.decode(frame, packet) === 'ok' && packet.proto === 6) table.packet(packet, frame);
    },
    secrets() {},
    interfaceStats() {},
  });
  table.finish();
  return walkers.map((w) => w.connection);
}

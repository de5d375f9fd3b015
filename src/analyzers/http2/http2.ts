/**
 * HTTP/2 (RFC 9113) over a flow's two ordered byte streams: h2c in clear, or the application data
 * of a decrypted TLS connection. The client's connection preface, then frames of both sides:
 * SETTINGS read entry by entry, header blocks (HEADERS or PUSH_PROMISE and their CONTINUATIONs)
 * gathered and decoded with HPACK, every other payload counted and skipped without buffering.
 *
 * A request is the client's header block that opens a stream; the server's first final `:status`
 * on that stream answers it. Requests are kept as HTTP/1's are (requestRecord: credentials
 * reduced, Kubernetes URL shape), the pseudo-headers read as their HTTP/1 equivalents: `:path` the
 * target (`:authority` for CONNECT), `:authority` the host, an extended CONNECT's `:protocol`
 * (RFC 8441, WebSocket over HTTP/2) the upgrade. Packet numbers are those of the packets that
 * completed the header blocks.
 *
 * Bounded: a header block over 64 KiB (DESIGN.md) stops that side, and so does a block HPACK
 * cannot decode (the dynamic table would be out of step from then on); at most 1024 streams
 * await a response.
 */
import type { Direction, EndReason, StreamHandler } from '../../model/flow.js';
import type { HttpInfo, HttpRequestInfo } from '../../model/protocol.js';
import { requestRecord, storeRequest, type Headers } from '../http1/index.js';
import { HpackDecoder } from './hpack.js';

export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

const FRAME_TYPES = ['DATA', 'HEADERS', 'PRIORITY', 'RST_STREAM', 'SETTINGS', 'PUSH_PROMISE', 'PING', 'GOAWAY', 'WINDOW_UPDATE', 'CONTINUATION'];
const FRAME = { headers: 1, settings: 4, pushPromise: 5, continuation: 9 } as const;
const FLAG = { ack: 0x1, endHeaders: 0x4, padded: 0x8, priority: 0x20 } as const;
const SETTING_NAMES: Record<number, string> = {
  1: 'HEADER_TABLE_SIZE',
  2: 'ENABLE_PUSH',
  3: 'MAX_CONCURRENT_STREAMS',
  4: 'INITIAL_WINDOW_SIZE',
  5: 'MAX_FRAME_SIZE',
  6: 'MAX_HEADER_LIST_SIZE',
  8: 'ENABLE_CONNECT_PROTOCOL',
  9: 'NO_RFC7540_PRIORITIES',
};
const FRAME_HEADER = 9;
const SETTING_ENTRY = 6;
/** DESIGN.md budget for one header block (all its frames' fragments). */
const MAX_HEADER_BLOCK = 64 * 1024;
/** Streams whose request awaits its response; beyond this, responses are no longer paired. */
const MAX_OPEN_STREAMS = 1024;

function typeName(type: number): string {
  return FRAME_TYPES[type] ?? `0x${type.toString(16).padStart(2, '0')}`;
}

/** One direction's frame reader: a fixed buffer for frame headers and SETTINGS entries, one for header blocks. */
class FrameReader {
  /** Bytes of the preface still expected (client side only). */
  prefaceLeft: number;
  private readonly head = Buffer.alloc(FRAME_HEADER);
  private headLen = 0;
  /** Payload bytes of the current frame not yet consumed; -1 between frames. */
  private payloadLeft = -1;
  private frameType = 0;
  private frameFlags = 0;
  private frameStream = 0;
  /** The current frame is a SETTINGS frame whose entries are recorded. */
  private settings: Record<string, number> | null = null;
  private readonly entry = Buffer.alloc(SETTING_ENTRY);
  private entryLen = 0;
  /** The current frame carries a header block fragment: its payload is gathered whole. */
  private fragment: Buffer | null = null;
  private fragmentFill = 0;
  /** The header block being gathered over HEADERS/PUSH_PROMISE and CONTINUATION frames. */
  private block: Buffer[] = [];
  private blockBytes = 0;
  private blockStream = 0;
  private blockPush = false;
  private blockTs = 0;
  /** A header block is open: only CONTINUATION frames of its stream may follow (RFC 9113 §6.10). */
  private inBlock = false;
  readonly hpack = new HpackDecoder();
  stopped = false;

  constructor(
    private readonly analyzer: Http2Analyzer,
    readonly dir: Direction,
  ) {
    this.prefaceLeft = dir === 0 ? H2_PREFACE.length : 0;
  }

  push(chunk: Buffer, ts: number, packet: number): void {
    let i = 0;
    while (i < chunk.length && !this.stopped) {
      if (this.prefaceLeft > 0) {
        const at = H2_PREFACE.length - this.prefaceLeft;
        if (chunk[i] !== H2_PREFACE[at]) return this.analyzer.stop(this, 'no HTTP/2 preface');
        i++;
        if (--this.prefaceLeft === 0) this.analyzer.info.h2!.preface = true;
      } else if (this.payloadLeft < 0) {
        const n = Math.min(FRAME_HEADER - this.headLen, chunk.length - i);
        chunk.copy(this.head, this.headLen, i, i + n);
        this.headLen += n;
        i += n;
        if (this.headLen === FRAME_HEADER) this.frameStart(ts, packet);
      } else if (this.settings) {
        i = this.settingsBytes(chunk, i);
      } else if (this.fragment) {
        const n = Math.min(this.payloadLeft, chunk.length - i);
        this.fragmentFill += chunk.copy(this.fragment, this.fragmentFill, i, i + n);
        i += n;
        this.payloadLeft -= n;
        if (this.payloadLeft === 0) this.fragmentEnd(packet);
      } else {
        i += this.skip(chunk.length - i);
      }
    }
  }

  private frameStart(ts: number, packet: number): void {
    this.headLen = 0;
    const length = this.head.readUIntBE(0, 3);
    const type = this.head[3];
    const flags = this.head[4];
    this.frameType = type;
    this.frameFlags = flags;
    this.frameStream = this.head.readUInt32BE(5) & 0x7fffffff;
    const frames = this.analyzer.info.h2!.frames;
    const name = typeName(type);
    frames[name] = (frames[name] ?? 0) + 1;
    this.payloadLeft = length;
    this.settings = null;
    this.fragment = null;
    if (this.inBlock && (type !== FRAME.continuation || this.frameStream !== this.blockStream)) {
      return this.analyzer.stop(this, 'header block interrupted by another frame');
    }
    if (type === FRAME.settings && !(flags & FLAG.ack)) {
      if (length % SETTING_ENTRY !== 0) return this.analyzer.stop(this, 'bad SETTINGS frame');
      this.settings = this.analyzer.settingsFor(this.dir);
      this.entryLen = 0;
    } else if (type === FRAME.headers || type === FRAME.pushPromise || type === FRAME.continuation) {
      if (type === FRAME.continuation && !this.inBlock) return this.analyzer.stop(this, 'CONTINUATION without a header block');
      if (this.blockBytes + length > MAX_HEADER_BLOCK) return this.analyzer.stop(this, 'header block over 64 KiB');
      if (type !== FRAME.continuation) {
        this.inBlock = true;
        this.blockStream = this.frameStream;
        this.blockPush = type === FRAME.pushPromise;
        this.blockTs = ts;
      }
      this.fragment = Buffer.allocUnsafe(length);
      this.fragmentFill = 0;
      if (length === 0) return this.fragmentEnd(packet);
    }
    if (length === 0) this.payloadLeft = -1;
  }

  /** A header-bearing frame's payload is whole: its fragment, without padding and prefixes, joins the block. */
  private fragmentEnd(packet: number): void {
    const payload = this.fragment!;
    this.fragment = null;
    this.payloadLeft = -1;
    let start = 0;
    let end = payload.length;
    if (this.frameType !== FRAME.continuation && this.frameFlags & FLAG.padded) {
      if (payload.length < 1) return this.analyzer.stop(this, 'bad padding');
      end -= payload[0];
      start = 1;
    }
    if (this.frameType === FRAME.headers && this.frameFlags & FLAG.priority) start += 5;
    if (this.frameType === FRAME.pushPromise) start += 4; // the promised stream id
    if (end < start) return this.analyzer.stop(this, 'bad header frame');
    this.block.push(payload.subarray(start, end));
    this.blockBytes += end - start;
    if (!(this.frameFlags & FLAG.endHeaders)) return;
    const block = this.block.length === 1 ? this.block[0] : Buffer.concat(this.block);
    this.block = [];
    this.blockBytes = 0;
    this.inBlock = false;
    const headers = this.hpack.decode(block);
    if (headers === null) return this.analyzer.stop(this, 'bad HPACK header block');
    // A promised request is decoded to keep the table in step, not listed: the client did not send it.
    if (!this.blockPush) this.analyzer.headerBlock(this.dir, this.blockStream, headers, this.blockTs, packet);
  }

  private skip(available: number): number {
    const n = Math.min(this.payloadLeft, available);
    this.payloadLeft -= n;
    if (this.payloadLeft === 0) this.payloadLeft = -1;
    return n;
  }

  private settingsBytes(chunk: Buffer, i: number): number {
    const n = Math.min(SETTING_ENTRY - this.entryLen, this.payloadLeft, chunk.length - i);
    chunk.copy(this.entry, this.entryLen, i, i + n);
    this.entryLen += n;
    if (this.entryLen === SETTING_ENTRY) {
      const id = this.entry.readUInt16BE(0);
      this.settings![SETTING_NAMES[id] ?? `0x${id.toString(16).padStart(4, '0')}`] = this.entry.readUInt32BE(2);
      this.entryLen = 0;
    }
    this.skip(n);
    if (this.payloadLeft < 0) this.settings = null;
    return i + n;
  }
}

export class Http2Analyzer implements StreamHandler {
  private readonly readers: [FrameReader, FrameReader];
  /** Requests by stream id, until their final response. */
  private readonly open = new Map<number, HttpRequestInfo | null>();

  constructor(readonly info: HttpInfo) {
    info.version = '2';
    info.h2 ??= { preface: false, clientSettings: null, serverSettings: null, frames: {} };
    this.readers = [new FrameReader(this, 0), new FrameReader(this, 1)];
  }

  onData(dir: Direction, chunk: Buffer, ts: number, packet: number): void {
    this.readers[dir].push(chunk, ts, packet);
  }

  onGap(dir: Direction, _bytes: number): void {
    // Frame boundaries and the HPACK table are lost with the bytes: that side is no longer readable.
    this.stop(this.readers[dir], `gap in ${dir === 0 ? 'client' : 'server'} stream`);
  }

  onEnd(_reason: EndReason): void {}

  /** The settings record of a side: the first SETTINGS frame's, later ones merged into it. */
  settingsFor(dir: Direction): Record<string, number> {
    const h2 = this.info.h2!;
    if (dir === 0) return (h2.clientSettings ??= {});
    return (h2.serverSettings ??= {});
  }

  stop(reader: FrameReader, why: string): void {
    reader.stopped = true;
    this.info.stopped ??= why;
  }

  /** A decoded header block of `stream`, begun at `ts` and completed by packet number `packet`. */
  headerBlock(dir: Direction, stream: number, fields: Headers, ts: number, packet: number): void {
    if (dir === 0) return this.request(stream, fields, ts, packet);
    if (!this.open.has(stream)) return; // trailers, or a response to a request not seen
    const status = Number(pseudo(fields, ':status'));
    // Interim responses (1xx) precede the final one.
    if (!Number.isInteger(status) || status < 200) return;
    const rec = this.open.get(stream);
    this.open.delete(stream);
    if (rec) {
      rec.status = status;
      rec.responsePacket = packet;
    }
  }

  private request(stream: number, fields: Headers, ts: number, packet: number): void {
    // A second client block on an open stream is trailers.
    if (this.open.has(stream)) return;
    const method = pseudo(fields, ':method');
    if (method === null) return;
    const authority = pseudo(fields, ':authority');
    const protocol = pseudo(fields, ':protocol');
    const headers: Headers = fields.filter(([name]) => !name.startsWith(':'));
    if (authority !== null && !headers.some(([name]) => name === 'host')) headers.push(['host', authority]);
    if (protocol !== null) headers.push(['upgrade', protocol]);
    const target = pseudo(fields, ':path') ?? (method === 'CONNECT' ? (authority ?? '') : '');
    const rec = requestRecord(method, target, headers, ts, packet);
    const stored = storeRequest(this.info, rec);
    if (this.open.size < MAX_OPEN_STREAMS) this.open.set(stream, stored ? rec : null);
  }
}

function pseudo(fields: Headers, name: string): string | null {
  for (const [n, v] of fields) if (n === name) return v;
  return null;
}

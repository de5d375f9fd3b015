/**
 * Plaintext HTTP/2 (h2c, RFC 9113): the client's connection preface, then frame headers of both
 * sides; SETTINGS are read entry by entry, every other payload is skipped without buffering.
 * No HPACK: header blocks stay opaque until a later issue decrypts and decodes them.
 *
 * Two ways in: the dispatcher sees `PRI * HTTP/2.0` and constructs this directly, or
 * Http1Analyzer hands a connection over after `Upgrade: h2c` was answered 101 (the server's
 * bytes after the 101 are frames, the client's begin with the preface) — the same start state.
 */
import type { Direction, EndReason, StreamHandler } from '../../model/flow.js';
import type { HttpInfo } from '../../model/protocol.js';

export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

const FRAME_TYPES = ['DATA', 'HEADERS', 'PRIORITY', 'RST_STREAM', 'SETTINGS', 'PUSH_PROMISE', 'PING', 'GOAWAY', 'WINDOW_UPDATE', 'CONTINUATION'];
const SETTINGS_FRAME = 4;
const FLAG_ACK = 0x1;
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

function typeName(type: number): string {
  return FRAME_TYPES[type] ?? `0x${type.toString(16).padStart(2, '0')}`;
}

/** One direction's frame reader: a small fixed buffer for the 9-byte header and SETTINGS entries. */
class FrameReader {
  /** Bytes of the preface still expected (client side only). */
  prefaceLeft: number;
  private readonly head = Buffer.alloc(FRAME_HEADER);
  private headLen = 0;
  /** Payload bytes of the current frame not yet consumed; -1 between frames. */
  private payloadLeft = -1;
  /** The current frame is a SETTINGS frame whose entries are recorded. */
  private settings: Record<string, number> | null = null;
  private readonly entry = Buffer.alloc(SETTING_ENTRY);
  private entryLen = 0;
  stopped = false;

  constructor(
    private readonly analyzer: H2cAnalyzer,
    readonly dir: Direction,
  ) {
    this.prefaceLeft = dir === 0 ? H2_PREFACE.length : 0;
  }

  push(chunk: Buffer): void {
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
        if (this.headLen === FRAME_HEADER) this.frameStart();
      } else {
        i = this.settings ? this.settingsBytes(chunk, i) : i + this.skip(chunk.length - i);
      }
    }
  }

  private frameStart(): void {
    this.headLen = 0;
    const length = this.head.readUIntBE(0, 3);
    const type = this.head[3];
    const flags = this.head[4];
    const frames = this.analyzer.info.h2!.frames;
    const name = typeName(type);
    frames[name] = (frames[name] ?? 0) + 1;
    this.payloadLeft = length;
    this.settings = null;
    if (type === SETTINGS_FRAME && !(flags & FLAG_ACK)) {
      if (length % SETTING_ENTRY !== 0) return this.analyzer.stop(this, 'bad SETTINGS frame');
      this.settings = this.analyzer.settingsFor(this.dir);
      this.entryLen = 0;
    }
    if (length === 0) this.payloadLeft = -1;
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

export class H2cAnalyzer implements StreamHandler {
  private readonly readers: [FrameReader, FrameReader];

  constructor(readonly info: HttpInfo) {
    info.version = '2';
    info.h2 ??= { preface: false, clientSettings: null, serverSettings: null, frames: {} };
    this.readers = [new FrameReader(this, 0), new FrameReader(this, 1)];
  }

  onData(dir: Direction, chunk: Buffer, _ts: number, _packet: number): void {
    this.readers[dir].push(chunk);
  }

  onGap(dir: Direction, _bytes: number): void {
    // Frame boundaries are lost with the bytes: that side's frames are no longer countable.
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
}

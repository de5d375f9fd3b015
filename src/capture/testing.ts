/**
 * Test support for the capture readers (imported by tests only): a sink that copies what it is
 * given, ways of feeding a buffer in chunks, and a writer of pcapng blocks.
 */
import type { Frame } from '../model/frame.js';
import type { CaptureSink, CaptureSummary, InterfaceStats } from '../model/capture.js';
import { createCaptureReader } from './index.js';

export interface CopiedFrame extends Omit<Frame, 'buf' | 'offset'> {
  data: Buffer;
}

/** Keeps a copy of everything, as a consumer that outlives the callback must. */
export class CopyingSink implements CaptureSink {
  readonly frames: CopiedFrame[] = [];
  readonly secretBlocks: { type: number; data: Buffer }[] = [];
  readonly stats: InterfaceStats[] = [];

  frame(frame: Frame): void {
    const { index, ts, linktype, caplen, origlen, iface } = frame;
    const data = Buffer.from(frame.buf.subarray(frame.offset, frame.offset + caplen));
    this.frames.push({ index, ts, linktype, caplen, origlen, iface, data });
  }

  secrets(type: number, data: Buffer): void {
    this.secretBlocks.push({ type, data });
  }

  interfaceStats(stats: InterfaceStats): void {
    this.stats.push({ ...stats });
  }
}

/**
 * Reads `chunks` with the reader that `formatOf` (the whole capture, or its first bytes) calls
 * for. Records are not copied by the reader, so each chunk is a fresh buffer.
 */
export function readChunks(formatOf: Buffer, chunks: Iterable<Buffer>): { sink: CopyingSink; summary: CaptureSummary } {
  const sink = new CopyingSink();
  const reader = createCaptureReader(formatOf, sink, 'test');
  if (!reader) throw new Error('not a capture');
  for (const chunk of chunks) if (!reader.push(chunk)) break;
  return { sink, summary: reader.end() };
}

/** `buf` cut at the given (unsorted, possibly repeated) offsets, each piece a copy. */
export function splitAt(buf: Buffer, offsets: number[]): Buffer[] {
  const cuts = [...new Set(offsets.filter((o) => o > 0 && o < buf.length))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const cut of [...cuts, buf.length]) {
    pieces.push(Buffer.from(buf.subarray(start, cut)));
    start = cut;
  }
  return pieces;
}

/** Boundaries of the records of a classic pcap, from the record lengths alone. */
export function pcapRecordOffsets(file: Buffer): number[] {
  const littleEndian = file.readUInt32LE(0) === 0xa1b2c3d4 || file.readUInt32LE(0) === 0xa1b23c4d;
  const offsets: number[] = [];
  for (let offset = 24; offset + 16 <= file.length; ) {
    offsets.push(offset);
    offset += 16 + (littleEndian ? file.readUInt32LE(offset + 8) : file.readUInt32BE(offset + 8));
  }
  return offsets;
}

/** The blocks of a well-formed pcapng file: offset, type and length, and its section number. */
export function pcapngBlocks(file: Buffer): { offset: number; type: number; length: number; section: number }[] {
  const blocks = [];
  let littleEndian = true;
  let section = 0;
  for (let offset = 0; offset + 12 <= file.length; ) {
    if (file.readUInt32LE(offset) === 0x0a0d0d0a) {
      littleEndian = file.readUInt32LE(offset + 8) === 0x1a2b3c4d;
      section++;
    }
    const type = littleEndian ? file.readUInt32LE(offset) : file.readUInt32BE(offset);
    const length = littleEndian ? file.readUInt32LE(offset + 4) : file.readUInt32BE(offset + 4);
    blocks.push({ offset, type, length, section });
    offset += length;
  }
  return blocks;
}

/** Builds blocks of one section in one byte order. */
export class SectionWriter {
  constructor(private readonly littleEndian: boolean) {}

  block(type: number, body: Buffer): Buffer {
    const padded = Buffer.alloc((body.length + 3) & ~3);
    body.copy(padded);
    const length = padded.length + 12;
    return Buffer.concat([this.u32(type), this.u32(length), padded, this.u32(length)]);
  }

  u16(value: number): Buffer {
    const buf = Buffer.alloc(2);
    if (this.littleEndian) buf.writeUInt16LE(value);
    else buf.writeUInt16BE(value);
    return buf;
  }

  u32(value: number): Buffer {
    const buf = Buffer.alloc(4);
    if (this.littleEndian) buf.writeUInt32LE(value);
    else buf.writeUInt32BE(value);
    return buf;
  }

  u64(value: bigint): Buffer {
    const buf = Buffer.alloc(8);
    if (this.littleEndian) buf.writeBigInt64LE(value);
    else buf.writeBigInt64BE(value);
    return buf;
  }

  option(code: number, value: Buffer): Buffer {
    const padded = Buffer.alloc((value.length + 3) & ~3);
    value.copy(padded);
    return Buffer.concat([this.u16(code), this.u16(value.length), padded]);
  }

  sectionHeader(major = 1): Buffer {
    return this.block(0x0a0d0d0a, Buffer.concat([this.u32(0x1a2b3c4d), this.u16(major), this.u16(0), this.u64(-1n)]));
  }

  interface(linktype: number, snaplen: number, ...options: Buffer[]): Buffer {
    const end = options.length ? [this.option(0, Buffer.alloc(0))] : [];
    return this.block(1, Buffer.concat([this.u16(linktype), this.u16(0), this.u32(snaplen), ...options, ...end]));
  }

  enhanced(iface: number, ticks: bigint, data: Buffer, origlen = data.length): Buffer {
    const ts = this.timestamp(ticks);
    return this.block(6, Buffer.concat([this.u32(iface), ts, this.u32(data.length), this.u32(origlen), data]));
  }

  obsolete(iface: number, ticks: bigint, data: Buffer): Buffer {
    const ts = this.timestamp(ticks);
    return this.block(2, Buffer.concat([this.u16(iface), this.u16(0), ts, this.u32(data.length), this.u32(data.length), data]));
  }

  simple(origlen: number, data: Buffer): Buffer {
    return this.block(3, Buffer.concat([this.u32(origlen), data]));
  }

  statistics(iface: number, ticks: bigint, ...options: Buffer[]): Buffer {
    return this.block(5, Buffer.concat([this.u32(iface), this.timestamp(ticks), ...options, this.option(0, Buffer.alloc(0))]));
  }

  secrets(type: number, data: Buffer): Buffer {
    return this.block(10, Buffer.concat([this.u32(type), this.u32(data.length), data]));
  }

  private timestamp(ticks: bigint): Buffer {
    return Buffer.concat([this.u32(Number(ticks >> 32n)), this.u32(Number(ticks & 0xffffffffn))]);
  }
}

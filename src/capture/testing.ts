/**
 * Test support for the capture readers (imported by the colocated *.test.ts only): a sink that
 * copies what it is given, and ways of feeding a buffer in chunks.
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

/**
 * Damaged captures built from real ones: the reader stops at the first bad record, says where,
 * and keeps every frame before it.
 */
import { Readable } from 'node:stream';
import { readFileSync } from 'node:fs';
import { constants as zlibConstants, gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { corpusPath } from '../../test/helpers/corpus.js';
import { readCapture } from './index.js';
import { MAX_RECORD } from './record-stream.js';
import { CopyingSink, pcapRecordOffsets, pcapngBlocks, readChunks, splitAt } from './testing.js';

const PACKET_BLOCK_TYPES = new Set([2, 3, 6]);

/** Frames and damage expected when the capture is cut at `cut`, from its record boundaries. */
function expectedCut(boundaries: number[], isPacket: (i: number) => boolean, cut: number) {
  let frames = 0;
  for (let i = 0; i < boundaries.length - 1; i++) {
    if (boundaries[i + 1]! > cut) {
      const damage = boundaries[i] === cut ? null : { offset: boundaries[i]!, message: expect.stringMatching(/^cut short in the middle of /) };
      return { frames, damage };
    }
    if (isPacket(i)) frames++;
  }
  return { frames, damage: null };
}

describe('a capture cut short', () => {
  it.each(['zeek/tls/hrr.pcap', 'node-pcap-parser/be.pcap', 'ptcpdump/tls.pcap'])('%s, at every offset of its last 3 records', (file) => {
    const bytes = readFileSync(corpusPath(file));
    const boundaries = [...pcapRecordOffsets(bytes), bytes.length];
    expect(boundaries.at(-2)! + 16).toBeLessThan(bytes.length); // the oracle walked the whole file
    for (let cut = boundaries.at(-4)!; cut < bytes.length; cut++) {
      const { sink, summary } = readChunks(bytes, [bytes.subarray(0, cut)]);
      const expected = expectedCut([0, ...boundaries], (i) => i > 0, cut);
      expect({ frames: sink.frames.length, damage: summary.damage }, `cut at ${cut}`).toEqual(expected);
    }
  });

  it.each(['gopacket-pcapng/le/test202.pcapng', 'gopacket-pcapng/be/test001.pcapng', 'zeek/pcapng-multi-interface.pcapng'])(
    '%s, at every offset',
    (file) => {
      const bytes = readFileSync(corpusPath(file));
      const blocks = pcapngBlocks(bytes);
      const boundaries = [...blocks.map((b) => b.offset), bytes.length];
      expect(boundaries.at(-1)).toBe(blocks.at(-1)!.offset + blocks.at(-1)!.length);
      for (let cut = 1; cut < bytes.length; cut++) {
        const { sink, summary } = readChunks(bytes, splitAt(bytes.subarray(0, cut), [cut >> 1]));
        const expected = expectedCut(boundaries, (i) => PACKET_BLOCK_TYPES.has(blocks[i]!.type), cut);
        expect({ frames: sink.frames.length, damage: summary.damage }, `cut at ${cut}`).toEqual(expected);
      }
    },
  );

  it('names the partial record and how much of it arrived', () => {
    const bytes = readFileSync(corpusPath('arkime/tls13.pcap'));
    const last = pcapRecordOffsets(bytes).at(-1)!;
    const { summary } = readChunks(bytes, [bytes.subarray(0, last + 20)]);
    expect(summary.damage).toEqual({ offset: last, message: `cut short in the middle of a packet record (20 of ${bytes.length - last} bytes)` });
    expect(summary.bytes).toBe(last);
  });
});

describe('a pcap with a bad length or magic', () => {
  const bytes = readFileSync(corpusPath('zeek/tls/hrr.pcap')); // little-endian
  const records = pcapRecordOffsets(bytes);

  it.each([262_145, 4_325_376, 0xffffffff])('stops at a record of %i bytes', (caplen) => {
    const damaged = Buffer.from(bytes);
    damaged.writeUInt32LE(caplen, records[5]! + 8);
    const { sink, summary } = readChunks(damaged, [damaged]);
    expect(sink.frames.length).toBe(5);
    expect(summary.damage).toEqual({ offset: records[5], message: `packet record of ${caplen} bytes, bigger than the maximum of 262144` });
  });

  it('tolerates caplen > origlen and caplen > snaplen up to 262144 bytes', () => {
    const header = Buffer.from(bytes.subarray(0, 24));
    header.writeUInt32LE(64, 16); // snaplen
    const record = Buffer.alloc(16 + 262_144);
    record.writeUInt32LE(262_144, 8);
    record.writeUInt32LE(100, 12);
    const { sink, summary } = readChunks(header, [header, record]);
    expect(summary.damage).toBeNull();
    expect(sink.frames.map((f) => [f.caplen, f.origlen])).toEqual([[262_144, 100]]);
  });

  it('stops at once on a bad magic', () => {
    const damaged = Buffer.from(bytes);
    damaged.writeUInt32LE(0xa1b2c3d5, 0);
    const { sink, summary } = readChunks(bytes, [damaged]);
    expect(sink.frames.length).toBe(0);
    expect(summary.damage).toEqual({ offset: 0, message: 'not a pcap file header (magic 0xd5c3b2a1)' });
  });
});

describe('a pcapng with a bad block length', () => {
  const bytes = readFileSync(corpusPath('gopacket-pcapng/le/test202.pcapng'));
  const blocks = pcapngBlocks(bytes);
  // The second Enhanced Packet Block of the first section: one frame before it.
  const target = blocks.filter((b) => b.type === 6)[1]!;
  const framesBefore = 1;

  function damagedAt(length: number, trailing = length): Buffer {
    const damaged = Buffer.from(bytes);
    damaged.writeUInt32LE(length, target.offset + 4);
    damaged.writeUInt32LE(trailing, target.offset + target.length - 4);
    return damaged;
  }

  it.each([
    [target.length + 2, `block of type 0x00000006 has length ${target.length + 2}, not a multiple of 4 of at least 12`],
    [8, 'block of type 0x00000006 has length 8, not a multiple of 4 of at least 12'],
    [0, 'block of type 0x00000006 has length 0, not a multiple of 4 of at least 12'],
    [MAX_RECORD + 4, `block of type 0x00000006 has length ${MAX_RECORD + 4}, bigger than the maximum of ${MAX_RECORD}`],
  ])('stops at a length of %i', (length, message) => {
    const damaged = damagedAt(length);
    const { sink, summary } = readChunks(damaged, [damaged]);
    expect(sink.frames.length).toBe(framesBefore);
    expect(summary.damage).toEqual({ offset: target.offset, message });
  });

  it('stops where a block runs past the end of the file', () => {
    const damaged = damagedAt(bytes.length * 2);
    const { sink, summary } = readChunks(damaged, [damaged]);
    expect(sink.frames.length).toBe(framesBefore);
    expect(summary.damage).toEqual({
      offset: target.offset,
      message: `cut short in the middle of a block (${bytes.length - target.offset} of ${bytes.length * 2} bytes)`,
    });
  });

  it('stops where the trailing length disagrees', () => {
    const damaged = damagedAt(target.length, target.length + 4);
    const { sink, summary } = readChunks(damaged, [damaged]);
    expect(sink.frames.length).toBe(framesBefore);
    expect(summary.damage).toEqual({
      offset: target.offset,
      message: `block length ${target.length} disagrees with its trailing length ${target.length + 4}`,
    });
  });

  it('stops where a shorter length lands inside the block', () => {
    const damaged = damagedAt(target.length - 4, target.length);
    const { sink, summary } = readChunks(damaged, [damaged]);
    expect(sink.frames.length).toBe(framesBefore);
    expect(summary.damage?.offset).toBe(target.offset);
  });

  it('stops at a bad byte-order magic', () => {
    const damaged = Buffer.from(bytes);
    damaged.writeUInt32LE(0x01020304, 8);
    const { sink, summary } = readChunks(bytes, [damaged]);
    expect(sink.frames.length).toBe(0);
    expect(summary.damage).toEqual({ offset: 0, message: 'section header with a bad byte-order magic 0x04030201' });
  });
});

describe('a gzip stream cut short', () => {
  const bytes = readFileSync(corpusPath('zeek/tls/tls-fragmented-handshake.pcap'));
  const compressed = gzipSync(bytes);
  const boundaries = [0, ...pcapRecordOffsets(bytes), bytes.length];

  it.each([0.2, 0.5, 0.9, 0.999])('keeps the frames decompressed before the cut at %f', async (fraction) => {
    const cut = compressed.subarray(0, Math.floor(compressed.length * fraction));
    const readable = gunzipSync(cut, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).length;
    const sink = new CopyingSink();
    const summary = await readCapture(Readable.from(splitAt(cut, [100, 5000])), 'cut.pcap.gz', sink);
    const expected = expectedCut(boundaries, (i) => i > 0, readable);
    expect(sink.frames.length).toBe(expected.frames);
    expect(summary.damage).toEqual({ offset: expected.damage?.offset ?? readable, message: 'gzip stream corrupt: unexpected end of file' });
  });

  it('reports a bad checksum as damage, losing at most the last 64 KiB zlib decompressed', async () => {
    const corrupt = Buffer.from(compressed);
    corrupt[corrupt.length - 8]! ^= 1; // the CRC-32
    const sink = new CopyingSink();
    const summary = await readCapture(Readable.from([corrupt]), 'corrupt.pcap.gz', sink);
    const offset = summary.damage!.offset;
    expect(summary.damage).toEqual({ offset, message: 'gzip stream corrupt: incorrect data check' });
    expect(offset).toBeGreaterThan(bytes.length - 65_536);
    // zlib discards the output of its failing pass: frames stop at the record cut there.
    expect(sink.frames.length).toBe(boundaries.indexOf(offset) - 1);
  });
});

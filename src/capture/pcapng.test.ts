/** pcapng features the corpus lacks or shows only once, on blocks built here. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { corpusPath } from '../../test/helpers/corpus.js';
import { readChunks, SectionWriter } from './testing.js';

const le = new SectionWriter(true);
const be = new SectionWriter(false);
const payload = (n: number, fill: number) => Buffer.alloc(n, fill);

describe('pcapng', () => {
  it('numbers interfaces across sections and converts each timestamp resolution', () => {
    const file = Buffer.concat([
      le.sectionHeader(),
      le.interface(1, 0), // iface 0: µs by default
      le.interface(0, 0, le.option(9, Buffer.from([0x80 | 20]))), // iface 1: 2^-20 s
      le.enhanced(1, 3n * 2n ** 20n + 2n ** 19n, payload(60, 1)),
      be.sectionHeader(),
      be.interface(113, 0, be.option(9, Buffer.from([9])), be.option(14, be.u64(-100n))), // iface 2: ns, offset -100 s
      be.enhanced(0, 1_700_000_000_123_456_789n, payload(40, 2), 1500),
      le.sectionHeader(),
      le.interface(1, 64), // iface 3
      le.obsolete(0, 1_700_000_001_000_001n, payload(20, 3)),
      le.enhanced(0, 1_700_000_002_000_000n, payload(30, 4)),
    ]);
    const { sink, summary } = readChunks(file, [file]);
    expect(summary).toEqual({ format: 'pcapng', linktypes: [1, 0, 113], frames: 4, bytes: file.length, damage: null });
    expect(sink.frames.map(({ data, ...frame }) => ({ ...frame, first: data[0] }))).toEqual([
      { index: 1, ts: 3.5, linktype: 0, caplen: 60, origlen: 60, iface: 1, first: 1 },
      { index: 2, ts: 1_700_000_000.123456789 - 100, linktype: 113, caplen: 40, origlen: 1500, iface: 2, first: 2 },
      { index: 3, ts: 1_700_000_001.000001, linktype: 1, caplen: 20, origlen: 20, iface: 3, first: 3 },
      { index: 4, ts: 1_700_000_002, linktype: 1, caplen: 30, origlen: 30, iface: 3, first: 4 },
    ]);
  });

  it('gives a Simple Packet Block the section interface 0, its snaplen and the previous time', () => {
    const file = Buffer.concat([
      le.sectionHeader(),
      le.interface(1, 0),
      le.enhanced(0, 5_000_000n, payload(10, 1)),
      le.sectionHeader(),
      le.interface(1, 32),
      le.interface(0, 0),
      le.simple(100, payload(32, 7)), // snaplen cut it at 32
      le.simple(6, payload(8, 8)), // 6 bytes on the wire, padded to 8
    ]);
    const { sink, summary } = readChunks(file, [file]);
    expect(summary.damage).toBeNull();
    expect(sink.frames.map((f) => [f.iface, f.ts, f.caplen, f.origlen, f.data[0]])).toEqual([
      [0, 5, 10, 10, 1],
      [1, 5, 32, 100, 7],
      [1, 5, 6, 6, 8],
    ]);
  });

  it('passes on interface statistics and decryption secrets', () => {
    const keylog = Buffer.from('CLIENT_RANDOM 00 11\n');
    const file = Buffer.concat([
      be.sectionHeader(),
      be.interface(1, 0),
      be.secrets(0x544c534b, keylog),
      be.statistics(0, 7_000_000n, be.option(4, be.u64(1000n)), be.option(5, be.u64(2n ** 40n))),
      be.statistics(0, 8_000_000n),
      be.statistics(5, 9_000_000n), // an interface the section does not have: skipped
    ]);
    const { sink, summary } = readChunks(file, [file]);
    expect(summary.damage).toBeNull();
    expect(sink.secretBlocks).toEqual([{ type: 0x544c534b, data: keylog }]);
    expect(sink.stats).toEqual([
      { iface: 0, ts: 7, received: 1000, dropped: 2 ** 40 },
      { iface: 0, ts: 8, received: null, dropped: null },
    ]);
  });

  it('hands over a copy of the secrets of the corpus DSB', () => {
    const bytes = readFileSync(corpusPath('derived/snet-mTLS1_3_RSA-with-dsb.pcapng'));
    const { sink } = readChunks(bytes, [bytes]);
    expect(sink.secretBlocks).toEqual([{ type: 0x544c534b, data: readFileSync(corpusPath('snet/mTLS1_3_RSA.keylog.txt')) }]);
    bytes.fill(0);
    expect(sink.secretBlocks[0]!.data.toString('latin1', 0, 6)).not.toBe('\0'.repeat(6));
  });

  it('reads the statistics of the corpus file test202, numbering interfaces across its sections', () => {
    const bytes = readFileSync(corpusPath('gopacket-pcapng/le/test202.pcapng'));
    const { sink } = readChunks(bytes, [bytes]);
    const ticks = 312215 * 2 ** 32 + 1690978218;
    const ts = ticks / 1e6;
    expect(sink.stats).toEqual([
      { iface: 1, ts, received: null, dropped: null }, // section 1, its interface 1
      { iface: 2, ts: (ticks + 1000) / 1e6, received: null, dropped: 10 }, // section 2, its interface 0
      { iface: 3, ts: 0, received: null, dropped: null }, // section 3, its interface 0
      { iface: 3, ts: 0, received: 100, dropped: 1 },
    ]);
  });

  it.each([
    ['a packet on an undescribed interface', [le.sectionHeader(), le.interface(1, 0), le.enhanced(1, 0n, payload(4, 0))], 'packet on interface 1, which the section has not described'],
    ['a simple packet before any interface', [le.sectionHeader(), le.simple(4, payload(4, 0))], 'packet on interface 0, which the section has not described'],
    ['a packet longer than its block', [le.sectionHeader(), le.interface(1, 0), patchCaplen(le.enhanced(0, 0n, payload(8, 0)), 9)], 'packet of 9 bytes does not fit its 40-byte block'],
    ['an unknown major version', [le.sectionHeader(), le.interface(1, 0), le.sectionHeader(2)], 'unknown SHB version 2.0'],
    ['a file that does not start with a section', [le.interface(1, 0)], 'not a pcapng file: first block has type 0x00000001, not a Section Header Block'],
  ])('stops at %s', (_what, blocks, message) => {
    const file = Buffer.concat(blocks);
    const { summary } = readChunks(le.sectionHeader(), [file]);
    expect(summary.damage).toEqual({ offset: file.length - blocks.at(-1)!.length, message });
  });
});

function patchCaplen(block: Buffer, caplen: number): Buffer {
  block.writeUInt32LE(caplen, 20);
  return block;
}

/** Memory stays bounded whatever the size of the capture (no assertion on time). */
import { Readable } from 'node:stream';
import { expect, it } from 'vitest';
import type { Frame } from '../model/frame.js';
import { readCapture } from './index.js';

const RECORD_DATA = 1500;
const RECORD = 16 + RECORD_DATA;
const CHUNK = 1 << 20; // not a multiple of RECORD: records straddle chunks
const RECORDS = 220_000; // 333 MB
const TOTAL = RECORDS * RECORD;

/** A pcap of RECORDS records, made on the fly from one period of identical records. */
function syntheticPcap(): Readable {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);
  const period = Buffer.alloc(CHUNK + 2 * RECORD);
  for (let offset = 0; offset + RECORD <= period.length; offset += RECORD) {
    period.writeUInt32LE(1_700_000_000, offset);
    period.writeUInt32LE(RECORD_DATA, offset + 8);
    period.writeUInt32LE(RECORD_DATA, offset + 12);
  }
  async function* chunks() {
    yield header;
    for (let sent = 0; sent < TOTAL; sent += CHUNK) {
      const phase = sent % RECORD;
      yield period.subarray(phase, phase + Math.min(CHUNK, TOTAL - sent));
    }
  }
  return Readable.from(chunks(), { objectMode: false, highWaterMark: CHUNK });
}

it('reads a 333 MB capture with RSS growth under 60 MB', async () => {
  const before = process.memoryUsage().rss;
  let peak = before;
  let frames = 0;
  const sink = {
    frame(frame: Frame) {
      if (frame.caplen !== RECORD_DATA) throw new Error(`frame ${frame.index} has caplen ${frame.caplen}`);
      if (++frames % 10_000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    },
    secrets() {},
    interfaceStats() {},
  };
  const summary = await readCapture(syntheticPcap(), 'synthetic', sink);
  expect(summary.damage).toBeNull();
  expect(frames).toBe(RECORDS);
  expect(summary.bytes).toBe(24 + TOTAL);
  expect(peak - before).toBeLessThan(60e6);
});

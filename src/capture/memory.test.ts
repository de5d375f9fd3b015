/** Memory stays bounded whatever the size of the capture (no assertion on time). */
import { Readable } from 'node:stream';
import { expect, it } from 'vitest';
import type { Frame } from '../model/frame.js';
import { readCapture } from './index.js';
import { pcapGlobalHeader, writePcapRecordHeader } from '../../test/helpers/pcap-file.js';

const RECORD_DATA = 1500;
const RECORD = 16 + RECORD_DATA;
const CHUNK = 1 << 20; // not a multiple of RECORD: records straddle chunks
const RECORDS = 220_000; // 333 MB
const TOTAL = RECORDS * RECORD;

/** A pcap of RECORDS records, made on the fly from one period of identical records. */
function syntheticPcap(): Readable {
  const header = pcapGlobalHeader(1, 65535);
  const period = Buffer.alloc(CHUNK + 2 * RECORD);
  for (let offset = 0; offset + RECORD <= period.length; offset += RECORD) {
    writePcapRecordHeader(period, offset, 1_700_000_000, RECORD_DATA);
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

/**
 * Bounded memory (DESIGN.md budgets): a capture of a gigabyte reads in about the memory of one of
 * twenty megabytes. The capture is synthesised on the fly, so nothing is written to disk.
 */
import { expect, it } from 'vitest';
import { analyze } from '../src/lib.js';
import { syntheticPcap } from './helpers/synthetic.js';

async function peakRss(connections: number): Promise<{ peak: number; flows: number; bytes: number }> {
  let peak = process.memoryUsage().rss;
  const doc = await analyze(syntheticPcap({ connections, segmentsPerConnection: 60, concurrent: 200 }), {
    onProgress() {
      peak = Math.max(peak, process.memoryUsage().rss);
    },
  }, 'synthetic');
  return { peak, flows: doc.flows.length, bytes: doc.capture.bytes };
}

it('reads a 1 GB capture in the memory of a 20 MB one', async () => {
  const small = await peakRss(200);
  const large = await peakRss(11_000);
  expect(small.flows).toBe(200);
  expect(large.flows).toBe(11_000);
  expect(large.bytes).toBeGreaterThan(50 * small.bytes);
  // Flow records of ended connections are kept for the JSON document (about 1 KB each); besides
  // them, nothing may grow with the capture.
  expect(large.peak - small.peak).toBeLessThan(64 * 1024 * 1024);
}, 300_000);

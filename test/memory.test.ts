/**
 * Bounded memory (DESIGN.md budgets): a capture of a gigabyte reads in about the memory of one of
 * three hundred megabytes. The capture is synthesised on the fly, so nothing is written to disk.
 */
import { expect, it } from 'vitest';
import { analyze } from '../src/lib.js';
import { syntheticPcap } from './helpers/synthetic.js';

async function peakRss(connections: number): Promise<{ peak: number; flows: number; bytes: number }> {
  let peak = process.memoryUsage().rss;
  const doc = await analyze(syntheticPcap({ connections, segmentsPerConnection: 60, concurrent: 200 }), {
    // As the command line runs it: stoppable by SIGINT (a signal that holds on to nothing it reads).
    signal: new AbortController().signal,
    onProgress() {
      peak = Math.max(peak, process.memoryUsage().rss);
    },
  }, 'synthetic');
  return { peak, flows: doc.flows.length, bytes: doc.capture.bytes };
}

it('reads a 1 GB capture in the memory of a 300 MB one', async () => {
  // The first run brings the heap to its working size (the garbage collector's slack); from there
  // on, only the records of ended connections, kept for the JSON document, may grow.
  const warm = await peakRss(3_000);
  const large = await peakRss(11_000);
  expect(warm.flows).toBe(3_000);
  expect(large.flows).toBe(11_000);
  expect(large.bytes).toBeGreaterThan(3.5 * warm.bytes);
  expect(large.peak - warm.peak).toBeLessThan(48 * 1024 * 1024);
}, 300_000);

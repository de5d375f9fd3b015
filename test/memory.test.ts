/**
 * Bounded memory (DESIGN.md budgets): a capture of a gigabyte reads in about the memory of one of
 * three hundred megabytes, and the summary of a capture (a live one may run for days) does not
 * grow with its connections. The captures are synthesised on the fly, so nothing is written to disk.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { expect, it } from 'vitest';
import { analyze } from '../src/lib.js';
import { repoRoot } from './helpers/corpus.js';
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

/** The CLI with `args`, fed `input` on stdin: its peak RSS, its output (or only its length: a JSON document of a large run is big). */
async function cliPeakRss(args: string[], input: NodeJS.ReadableStream | null, keep = true, pauseMsPerChunk = 0): Promise<{ maxRss: number; out: string; outLength: number }> {
  const reportRss = 'data:text/javascript,process.on("exit",()=>process.stderr.write("maxrss "+process.resourceUsage().maxRSS*1024+"\\n"))';
  const child = spawn(process.execPath, ['--import', reportRss, path.join(repoRoot, 'bin', 'kwire'), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let outLength = 0;
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    outLength += chunk.length;
    if (keep) out += chunk;
    // A slow reader: a pipe's worth at a time, then a pause.
    if (pauseMsPerChunk > 0) {
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), pauseMsPerChunk);
    }
  });
  child.stderr.on('data', (chunk) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  if (input) await pipeline(input, child.stdin);
  else child.stdin.end();
  expect(await exited, err).toBe(0);
  return { maxRss: Number(/maxrss (\d+)/.exec(err)?.[1]), out, outLength };
}

const manyConnections = (connections: number) => syntheticPcap({ connections, segmentsPerConnection: 2, concurrent: 50, payloadBytes: 100 });

it('prints the summary of 120,000 connections in the memory of 30,000: it counts them as they end', async () => {
  // Each connection's record, kept, would cost kilobytes: 90,000 more of them, hundreds of megabytes.
  const small = await cliPeakRss(['read', '-', '--no-db', '-q'], manyConnections(30_000));
  const large = await cliPeakRss(['read', '-', '--no-db', '-q'], manyConnections(120_000));
  expect(small.out).toContain('flows    30,000 TCP connections');
  expect(large.out).toContain('flows    120,000 TCP connections');
  expect(large.out).toContain('… and 119,950 more connections');
  expect(large.maxRss - small.maxRss).toBeLessThan(48 * 1024 * 1024);
}, 300_000);

it('reports a stored run of 120,000 connections in the memory of 30,000, as a summary and as JSON: it reads a page of flows at a time', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kwire-memory-'));
  try {
    const stored = async (connections: number) => {
      const db = path.join(dir, `${connections}.db`);
      await cliPeakRss(['read', '-', '--db', db, '-q'], manyConnections(connections));
      return db;
    };
    const [small, large] = [await stored(30_000), await stored(120_000)];
    const summaries = [await cliPeakRss(['report', '--db', small], null), await cliPeakRss(['report', '--db', large], null)];
    expect(summaries[1].out).toContain('flows    120,000 TCP connections');
    expect(summaries[1].maxRss - summaries[0].maxRss).toBeLessThan(48 * 1024 * 1024);
    const documents = [await cliPeakRss(['report', '--db', small, '--format', 'json'], null, false), await cliPeakRss(['report', '--db', large, '--format', 'json'], null, false)];
    expect(documents[1].outLength).toBeGreaterThan(3.9 * documents[0].outLength);
    expect(documents[1].maxRss - documents[0].maxRss).toBeLessThan(48 * 1024 * 1024);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 300_000);

it('holds the reading back while a slow reader takes --ndjson, rather than keeping its records until taken', async () => {
  const args = ['read', '-', '--no-db', '-q', '--ndjson'];
  const fast = await cliPeakRss(args, manyConnections(120_000), false);
  const slow = await cliPeakRss(args, manyConnections(120_000), false, 5);
  expect(slow.outLength).toBe(fast.outLength);
  expect(fast.outLength).toBeGreaterThan(40_000_000);
  expect(slow.maxRss - fast.maxRss).toBeLessThan(48 * 1024 * 1024);
}, 300_000);

/**
 * The database's own thread (src/store/background.ts) on real database files: live it runs at
 * nice 19, below the analysis; a thread that cannot write holds the reading back once 20,000
 * flows wait for it, and lets it go when it catches up; a failure of the thread reaches the caller.
 * Runs the built store (npm test builds dist/ first).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { analyze } from '../src/lib.js';
import { repoRoot } from './helpers/corpus.js';

// The built store: a thread runs a file of JavaScript, which vitest's sources are not.
const { BackgroundWriter, StoreReader, StoreError }: typeof import('../src/store/index.js') = await import(path.join(repoRoot, 'dist/store/index.js'));
type StoreError = InstanceType<typeof StoreError>;

const dirs: string[] = [];
const scratchDb = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kwire-thread-'));
  dirs.push(dir);
  return path.join(dir, 'kwire.db');
};
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const start = { source: 'captures/sample-tls-http.pcap', format: 'pcap', options: {} };
const sample = await analyze('captures/sample-tls-http.pcap');
const findingsOf = (id: number) => sample.findings.filter((finding) => finding.flowId === id);

/** The nice value of each thread of this process (field 19 of /proc/self/task/TID/stat). */
function threadNiceValues(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

/** `count` flows of the sample, numbered 1..count, with their findings. */
function* sampleFlows(count: number) {
  for (let id = 1; id <= count; id++) {
    const flow = sample.flows[(id - 1) % sample.flows.length];
    yield [{ ...flow, id }, findingsOf(flow.id).map((finding) => ({ ...finding, flowId: id }))] as const;
  }
}

describe("the database's thread", () => {
  it('runs at nice 19 in a live capture, and at the process priority for a file', async () => {
    const before = threadNiceValues().filter((nice) => nice === 19).length;
    for (const yieldToAnalysis of [true, false]) {
      const writer = BackgroundWriter.open(scratchDb(), start, { yieldToAnalysis });
      for (const [flow, findings] of sampleFlows(3)) writer.addFlow(flow, findings);
      await writer.finish(sample.capture);
      expect(threadNiceValues().filter((nice) => nice === 19).length - before, `yieldToAnalysis ${yieldToAnalysis}`).toBe(yieldToAnalysis ? 1 : 0);
      writer.close();
    }
  });

  it('holds the reading back while 20,000 flows wait for it, and writes them all once it can', async () => {
    const db = scratchDb();
    const writer = BackgroundWriter.open(db, start, { yieldToAnalysis: false });
    // Another connection holds the write lock: the thread waits for it (busy_timeout) and writes nothing.
    const locker = new Database(db);
    locker.exec('BEGIN IMMEDIATE');
    for (const [flow, findings] of sampleFlows(19_000)) writer.addFlow(flow, findings);
    expect(writer.ready(), '19,000 flows waiting').toBeUndefined();
    for (const [flow, findings] of sampleFlows(22_000)) if (flow.id > 19_000) writer.addFlow(flow, findings);
    const held = writer.ready();
    expect(held, '22,000 flows waiting').toBeInstanceOf(Promise);
    let released = false;
    void held!.then(() => (released = true));
    await sleep(500);
    expect(released, 'released while the thread could not write').toBe(false);
    locker.exec('COMMIT');
    locker.close();
    await held;
    await writer.finish(sample.capture);
    writer.close();
    const reader = StoreReader.open(db);
    const stored = reader.document(1);
    reader.close();
    expect(stored.flows.map((flow) => flow.id)).toEqual([...sampleFlows(22_000)].map(([flow]) => flow.id));
    expect(stored.findings).toHaveLength([...sampleFlows(22_000)].reduce((sum, [, findings]) => sum + findings.length, 0));
  }, 60_000);

  it("throws the thread's failure at the next call, naming the file", async () => {
    const db = scratchDb();
    const writer = BackgroundWriter.open(db, start, { yieldToAnalysis: false });
    const [[flow, findings]] = sampleFlows(1);
    writer.addFlow(flow, findings);
    // The same flow twice: its row exists, and the thread's insert fails.
    writer.addFlow(flow, findings);
    const failure = await writer.finish(sample.capture).then(() => null, (error: unknown) => error);
    writer.close();
    expect(failure).toBeInstanceOf(StoreError);
    expect((failure as StoreError).message).toMatch(new RegExp(`^${db.replaceAll('.', '\\.')}: database write failed: UNIQUE constraint failed`));
    expect(() => writer.addFlow(flow, findings)).toThrow(failure as StoreError);
  });
});

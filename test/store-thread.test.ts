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

/** The nice value in a /proc stat file (its 19th field). */
function niceOf(statFile: string): number {
  const stat = readFileSync(statFile, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

/** The nice value of each thread of this process. */
const threadNiceValues = (): number[] => readdirSync('/proc/self/task').map((tid) => niceOf(`/proc/self/task/${tid}/stat`));

/** `count` flows of the sample, numbered 1..count, with their findings. */
function* sampleFlows(count: number) {
  for (let id = 1; id <= count; id++) {
    const flow = sample.flows[(id - 1) % sample.flows.length];
    yield [{ ...flow, id }, findingsOf(flow.id).map((finding) => ({ ...finding, flowId: id }))] as const;
  }
}

describe("the database's thread", () => {
  it('runs at nice 19 in a live capture, takes its priority back to write what waits at the end (as root), and leaves the rest of kwire alone', async () => {
    const lowThreads = () => threadNiceValues().filter((nice) => nice === 19).length;
    const before = lowThreads();
    const writer = BackgroundWriter.open(scratchDb(), start, { yieldToAnalysis: true });
    for (const [flow, findings] of sampleFlows(3)) writer.addFlow(flow, findings);
    let waited = 0;
    for (; lowThreads() === before && waited < 5_000; waited += 20) await sleep(20);
    expect(lowThreads(), 'the thread, lowered').toBe(before + 1);
    expect(niceOf('/proc/self/stat'), 'the main thread').toBe(0);
    await writer.finish(sample.capture);
    // Raising a priority takes CAP_SYS_NICE: root has it, a user does not.
    expect(lowThreads(), 'after finish').toBe(process.getuid?.() === 0 ? before : before + 1);
    await writer.close();
    expect(lowThreads(), 'after close').toBe(before);
  });

  it('keeps the process priority reading a file', async () => {
    const writer = BackgroundWriter.open(scratchDb(), start, { yieldToAnalysis: false });
    for (const [flow, findings] of sampleFlows(3)) writer.addFlow(flow, findings);
    await writer.finish(sample.capture);
    expect(threadNiceValues().every((nice) => nice === 0)).toBe(true);
    await writer.close();
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
    await writer.close();
    const reader = StoreReader.open(db);
    const stored = reader.document(1);
    reader.close();
    expect(stored.flows.map((flow) => flow.id)).toEqual([...sampleFlows(22_000)].map(([flow]) => flow.id));
    expect(stored.findings).toHaveLength([...sampleFlows(22_000)].reduce((sum, [, findings]) => sum + findings.length, 0));
  }, 60_000);

  it('tells a failure of the thread at once, even when no call follows, and finish throws it naming the file', async () => {
    const db = scratchDb();
    const failures: StoreError[] = [];
    const writer = BackgroundWriter.open(db, start, { yieldToAnalysis: false, onFailure: (failure) => failures.push(failure) });
    const [[flow, findings]] = sampleFlows(1);
    // The same flow twice: its row exists, and the thread's insert fails, in the batch its timer writes.
    writer.addFlow(flow, findings);
    writer.addFlow(flow, findings);
    for (let waited = 0; failures.length === 0 && waited < 5_000; waited += 20) await sleep(20);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(StoreError);
    expect(failures[0].code).toBe('DB_FAILED');
    expect(failures[0].message).toMatch(new RegExp(`^${db.replaceAll('.', '\\.')}: database write failed: UNIQUE constraint failed`));
    writer.addFlow(flow, findings);
    await expect(writer.finish(sample.capture)).rejects.toBe(failures[0]);
    await writer.close();
    expect(failures).toHaveLength(1);
  });
});

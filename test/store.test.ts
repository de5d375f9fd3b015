/**
 * The SQLite store (schema.sql, src/store/) on real database files, through the command line as
 * users meet it: what `read` stores, `report` gives back; a writer killed with SIGKILL leaves a
 * database that opens and holds whole batches; SIGINT and SIGTERM store everything and exit 0; a
 * reader sees a running writer's flows within a second; old, foreign, newer and unwritable
 * databases get one clear line. Runs the built CLI (npm test builds dist/ first).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, closeSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { kwire } from './helpers/cli.js';
import { corpusPath, repoRoot } from './helpers/corpus.js';
import { syntheticPcap, twoPartCapture } from './helpers/synthetic.js';
import { SCHEMA_VERSION, StoreReader, StoreWriter, type StoreError } from '../src/store/index.js';
import type { KwireDocument } from '../src/lib.js';

const sample = 'captures/sample-tls-http.pcap';
const scenarios = path.join(repoRoot, 'captures/scenarios');
const dirs: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kwire-store-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** Polls `condition` every 50 ms for at most `ms`; the last value. */
async function waitFor<T>(condition: () => T, ms = 10_000): Promise<T> {
  let value = condition();
  for (let waited = 0; !value && waited < ms; waited += 50) {
    await sleep(50);
    value = condition();
  }
  return value;
}

/** `kwire read -` fed by the test, for the tests that interrupt or watch a running writer. */
function writerOnStdin(db: string): { child: ChildProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'kwire'), 'read', '-', '--db', db, '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  child.stdin!.on('error', () => {}); // EPIPE once the writer is gone
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => setImmediate(() => resolve({ code, signal, stdout, stderr }))),
  );
  return { child, exited };
}

/** Runs recorded in the database; 0 before the writer has made it and its schema. */
const capturesStored = (db: string): number => countStored(db, (reader) => reader.captures().length);

/** Writes zeros into `file` until the filesystem is full. */
function fillUp(file: string): void {
  const fd = openSync(file, 'w');
  try {
    const block = Buffer.alloc(4096);
    for (let written = 0; written < 1 << 30; written += block.length) writeSync(fd, block);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}

/** Flows of the latest run; 0 before the writer has made the database and its schema. */
const flowsStored = (db: string): number =>
  countStored(db, (reader) => {
    const id = reader.latestCaptureId();
    return id === null ? 0 : reader.flowCount(id);
  });

/** What `count` reads of the database, or 0 before the writer has made it and its schema. */
function countStored(db: string, count: (reader: StoreReader) => number): number {
  if (!existsSync(db)) return 0;
  let reader: StoreReader;
  try {
    reader = StoreReader.open(db);
  } catch (error) {
    if ((error as StoreError).code === 'DB_NOT_KWIRE') return 0;
    throw error;
  }
  try {
    return count(reader);
  } finally {
    reader.close();
  }
}

describe('what read stores, report gives back', () => {
  it('the same document, summary and findings, for the sample, scenario captures and one whose flows end out of order', () => {
    const db = path.join(scratch(), 'kwire.db');
    const captures = [
      sample,
      ...['apiserver-kubelet-selfsigned', 'client-kubelet-readonly', 'tunnel-ssh', 'pod-apiserver-plaintext'].map((name) => path.join(scenarios, `${name}.pcap`)),
      // Its reset connections end before established ones of lower id: read tallies states as flows end, report by id.
      corpusPath('ndpi/KakaoTalk_chat.pcap'),
    ];
    for (const capture of captures) {
      const args = ['--cluster', path.join(scenarios, 'cluster.yaml')];
      const read = kwire(['read', capture, '--json', '--db', db, ...args]);
      expect(read.status, read.stderr).toBe(0);
      const reported = kwire(['report', '--db', db, '--format', 'json']);
      expect(reported.status, reported.stderr).toBe(0);
      expect(reported.stdout, capture).toBe(read.stdout);
      expect(kwire(['report', '--db', db]).stdout).toBe(kwire(['read', capture, ...args]).stdout);
    }
    // Every run is kept; --capture picks one.
    const first = JSON.parse(kwire(['report', '--db', db, '--format', 'json', '--capture', '1']).stdout);
    expect(first.capture.source).toBe(sample);
    expect(new Database(db, { readonly: true }).prepare('SELECT count(*) AS n FROM captures').get()).toEqual({ n: captures.length });
  });

  it('reads a run back a page at a time: pages of 3 flows give the document read printed, byte for byte', () => {
    const db = path.join(scratch(), 'kwire.db');
    const read = kwire(['read', sample, '--keylog', 'captures/sample-tls-http.keys', '--db', db, '--json']);
    const printed = JSON.parse(read.stdout) as KwireDocument;
    const reader = StoreReader.open(db);
    const paged = reader.document(1, 3);
    expect(JSON.stringify(paged.flows)).toBe(JSON.stringify(printed.flows));
    expect(JSON.stringify(paged.findings)).toBe(JSON.stringify(printed.findings));
    expect(JSON.stringify([...reader.findings(1, 4)])).toBe(JSON.stringify(printed.findings));
    reader.close();
  });

  it('holds one snapshot for a long read: a flow a writer commits meanwhile is in neither the flows nor the findings', () => {
    // Ids are given as connections start and rows written as they end: flow 5 may come after flow 14.
    const source = path.join(scratch(), 'source.db');
    kwire(['read', sample, '--keylog', 'captures/sample-tls-http.keys', '--db', source, '-q']);
    const { flows, findings } = (() => {
      const reader = StoreReader.open(source);
      const doc = reader.document(1);
      reader.close();
      return doc;
    })();
    const findingsOf = (id: number) => findings.filter((finding) => finding.flowId === id);
    const late = flows.find((flow) => findingsOf(flow.id).length > 0 && flow.id > 3)!;
    const db = path.join(scratch(), 'kwire.db');
    const writer = StoreWriter.resume(db, StoreWriter.record(db, { source: sample, format: 'file', options: {} }));
    for (const flow of flows) if (flow !== late) writer.addFlow(flow, findingsOf(flow.id));
    writer.flush();

    const reader = StoreReader.open(db);
    reader.holdSnapshot();
    const records = reader.records(1, 3);
    const seen = [records.next().value!.flow.id];
    writer.addFlow(late, findingsOf(late.id));
    writer.flush();
    for (const record of records) seen.push(record.flow.id);
    const seenFindings = [...reader.findings(1)].map((finding) => finding.flowId);
    reader.close();
    writer.close();
    expect(seen).not.toContain(late.id);
    expect(seen).toHaveLength(flows.length - 1);
    expect(seenFindings).not.toContain(late.id);
  });

  it('keeps each certificate once, and the findings, requests and endpoints in their tables', () => {
    const db = path.join(scratch(), 'kwire.db');
    kwire(['read', sample, '--db', db]);
    kwire(['read', sample, '--db', db]);
    const sql = new Database(db, { readonly: true });
    const one = (query: string) => (sql.prepare(query).get() as { n: number }).n;
    expect(one('SELECT count(*) AS n FROM certificates')).toBe(one('SELECT count(DISTINCT sha256) AS n FROM flow_certificates'));
    expect(one('SELECT count(*) AS n FROM flow_certificates')).toBe(2 * one('SELECT count(*) AS n FROM flow_certificates WHERE capture_id = 1'));
    expect(one("SELECT count(*) AS n FROM findings WHERE capture_id = 1 AND rule = 'KW013'")).toBe(3);
    // The 8 requests in clear; the 12 inside TLS are not seen without keys.
    expect(one('SELECT count(*) AS n FROM http_requests WHERE capture_id = 1')).toBe(8);
    expect(sql.prepare("SELECT role FROM endpoints WHERE capture_id = 1 AND address = '198.18.0.2' ORDER BY role").all()).toEqual([{ role: 'kubelet' }]);
    expect(sql.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    // Rows of 2–3 KB (TLS flows) fill 8 KiB pages three at a time; a 4 KiB page held one.
    expect(sql.pragma('page_size', { simple: true })).toBe(8192);
    sql.close();
  });

  it('prints a markdown report: the path matrix and each rule with its flows, fix and references', () => {
    const db = path.join(scratch(), 'kwire.db');
    kwire(['read', path.join(scenarios, 'apiserver-kubelet-selfsigned.pcap'), '--db', db, '--cluster', path.join(scenarios, 'cluster.yaml')]);
    const markdown = kwire(['report', '--db', db, '--format', 'markdown']).stdout;
    expect(markdown).toMatch(/^# kwire report: `.*apiserver-kubelet-selfsigned\.pcap`\n/);
    expect(markdown).toContain('| apiserver->kubelet | 1 | 0 | 0 | 1 | 0 | 0 | 0 | 1 high |');
    expect(markdown).toMatch(/### KW003 high: Server certificate accepted although it does not verify \(1\)\n/);
    expect(markdown).toContain('**Fix:** kube-apiserver: --kubelet-certificate-authority');
    expect(markdown).toContain('- CIS Kubernetes Benchmark: kube-apiserver --kubelet-certificate-authority (1.2.5 in v1.10)');
  });

  it('writes kwire.db in the working directory by default, readable by its owner only', () => {
    const cwd = scratch();
    const result = kwire(['read', path.join(repoRoot, sample), '-q', '--db', 'kwire.db'], { cwd });
    expect(result.status, result.stderr).toBe(0);
    // The default, without --db (the test helper adds --no-db only when neither is given).
    const bare = spawnKwire(['read', path.join(repoRoot, sample), '-q'], path.join(cwd, 'default'));
    expect(bare).toBe(0);
    expect(statSync(path.join(cwd, 'default', 'kwire.db')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(cwd, 'kwire.db')).mode & 0o777).toBe(0o600);
  });
});

/** Runs the CLI exactly as given (no --no-db added) in `cwd`; its exit status. */
function spawnKwire(args: string[], cwd: string): number | null {
  mkdirSync(cwd, { recursive: true });
  try {
    execFileSync(process.execPath, [path.join(repoRoot, 'bin', 'kwire'), ...args], { cwd, stdio: 'pipe' });
    return 0;
  } catch (error) {
    return (error as { status: number | null }).status;
  }
}

describe('a writer that stops', () => {
  it('killed with SIGKILL mid-write, leaves a database that opens and holds whole batches', async () => {
    const db = path.join(scratch(), 'kwire.db');
    const { child, exited } = writerOnStdin(db);
    // Far more connections than the writer can take in the time the test waits.
    syntheticPcap({ connections: 2_000_000, segmentsPerConnection: 1, concurrent: 8, payloadBytes: 200 }).pipe(child.stdin!);
    expect(await waitFor(() => flowsStored(db) >= 1_000)).toBe(true);
    child.kill('SIGKILL');
    expect((await exited).signal).toBe('SIGKILL');

    const sql = new Database(db);
    expect(sql.pragma('integrity_check', { simple: true })).toBe('ok');
    const { flows, maxId } = sql.prepare('SELECT count(*) AS flows, max(id) AS maxId FROM flows').get() as { flows: number; maxId: number };
    expect(flows).toBeGreaterThanOrEqual(1_000);
    // Whole batches: flows end in order here (one FIN exchange each), so what is stored is 1..N without a hole.
    expect(maxId).toBe(flows);
    expect(sql.prepare('SELECT finished FROM captures').get()).toEqual({ finished: null });
    sql.close();
    // And the dashboard's reader takes it as it is.
    const reader = StoreReader.open(db);
    expect(reader.document(1).flows).toHaveLength(flows);
    reader.close();
  }, 60_000);

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`stopped with ${signal}, stores everything read, prints the summary and exits 0`, async () => {
      const db = path.join(scratch(), 'kwire.db');
      const { child, exited } = writerOnStdin(db);
      syntheticPcap({ connections: 2_000_000, segmentsPerConnection: 1, concurrent: 8, payloadBytes: 200 }).pipe(child.stdin!);
      expect(await waitFor(() => flowsStored(db) >= 500)).toBe(true);
      child.kill(signal);
      const { code, stdout, stderr } = await exited;
      expect(code, stderr).toBe(0);
      expect(stderr).toMatch(/^kwire: interrupted: kept the [\d,]+ packets read\n$/);
      const printed = Number(/flows +([\d,]+) TCP connections/.exec(stdout)![1].replaceAll(',', ''));
      const reader = StoreReader.open(db);
      const doc = reader.document(1);
      expect(doc.flows).toHaveLength(printed);
      expect(doc.capture.interrupted).toBe(true);
      expect(reader.captures()[0].finished).not.toBeNull();
      reader.close();
    }, 60_000);
  }

  it('holds the reading back while its database cannot be written, and stores everything once it can', async () => {
    const db = path.join(scratch(), 'kwire.db');
    const { child, exited } = writerOnStdin(db);
    let fed = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        fed += chunk.length;
        done(null, chunk);
      },
    });
    syntheticPcap({ connections: 2_000_000, segmentsPerConnection: 1, concurrent: 8, payloadBytes: 200 }).pipe(counted).pipe(child.stdin!);
    expect(await waitFor(() => flowsStored(db) >= 500)).toBe(true);
    // Another connection takes the write lock, for less than the writer's busy_timeout (5 s).
    const locker = new Database(db);
    locker.exec('BEGIN IMMEDIATE');
    const locked = Date.now();
    // The writer's thread soon has 20,000 flows waiting (a few MB of input), and kwire stops reading.
    let fedWhileLocked = fed;
    let stillSince = Date.now();
    while (Date.now() - stillSince < 1_000 && Date.now() - locked < 4_000) {
      await sleep(50);
      if (fed !== fedWhileLocked) [fedWhileLocked, stillSince] = [fed, Date.now()];
    }
    expect(Date.now() - stillSince, 'a second without input taken while the database was locked').toBeGreaterThanOrEqual(1_000);
    locker.exec('COMMIT');
    locker.close();
    expect(await waitFor(() => fed > fedWhileLocked), 'reading goes on once the database is written again').toBe(true);
    child.kill('SIGINT');
    const { code, stdout, stderr } = await exited;
    expect(code, stderr).toBe(0);
    const printed = Number(/flows +([\d,]+) TCP connections/.exec(stdout)![1].replaceAll(',', ''));
    expect(flowsStored(db)).toBe(printed);
  }, 60_000);

  it('is seen by a reader while it runs (flows are flushed by time, not only at the end)', async () => {
    const db = path.join(scratch(), 'kwire.db');
    const { child, exited } = writerOnStdin(db);
    const { first, rest } = await twoPartCapture();
    child.stdin!.write(first);
    expect(await waitFor(() => flowsStored(db) === 100, 5_000), 'the first part, stored while the writer waits for more').toBe(true);
    expect(child.exitCode).toBeNull();
    child.stdin!.end(rest);
    expect((await exited).code).toBe(0);
    expect(flowsStored(db)).toBe(300);
  }, 60_000);
});

describe('a reader of stdout that goes away (| head)', () => {
  /** Runs the CLI, takes the first chunk of its stdout and closes the pipe; its exit and stderr. */
  async function headOf(args: string[]): Promise<{ code: number | null; first: string; stderr: string }> {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'kwire'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const [first] = (await once(child.stdout!, 'data')) as [Buffer];
    child.stdout!.destroy();
    return { code: await exited, first: first.toString(), stderr };
  }

  it('ends a report quietly, and stops a reading as Ctrl-C does, its run stored', async () => {
    const db = path.join(scratch(), 'kwire.db');
    const large = syntheticPcap({ connections: 20_000, segmentsPerConnection: 2, concurrent: 50, payloadBytes: 100 });
    const capture = path.join(scratch(), 'large.pcap');
    await pipeline(large, createWriteStream(capture));

    const reading = await headOf(['read', capture, '--db', db, '--ndjson']);
    expect(reading.first).toMatch(/^\{"type":"flow","id":1,/);
    expect(reading.code).toBe(0);
    expect(reading.stderr).toMatch(/^kwire: interrupted: kept the \d+ packets read\n$/);
    const stored = new Database(db, { readonly: true });
    const run = stored.prepare('SELECT finished, (SELECT count(*) FROM flows) AS flows FROM captures').get() as { finished: number | null; flows: number };
    expect(run.finished).not.toBeNull();
    expect(run.flows).toBeGreaterThan(0);
    stored.close();

    kwire(['read', capture, '--db', db, '-q']);
    const reporting = await headOf(['report', '--db', db, '--format', 'json']);
    expect(reporting.first).toMatch(/^\{\n {2}"capture": \{/);
    expect(reporting).toMatchObject({ code: 0, stderr: '' });
  }, 120_000);

  it('lets check judge the whole capture all the same: its verdict is not cut short with the output', async () => {
    // Harmless connections first, the sample's findings at the end: read in full only if check goes on.
    const late = path.join(scratch(), 'late.pcap');
    await pipeline(syntheticPcap({ connections: 20_000, segmentsPerConnection: 2, concurrent: 50, payloadBytes: 100 }), createWriteStream(late));
    writeFileSync(late, readFileSync(path.join(repoRoot, sample)).subarray(24), { flag: 'a' });
    const whole = kwire(['check', late, '--no-db', '-q']);
    expect(whole.status).toBe(1);
    expect(whole.stderr).toMatch(/^kwire: check failed: \d+ findings at or above low\n$/);
    const cut = await headOf(['check', late, '--no-db', '-q', '--ndjson']);
    expect(cut.first).toMatch(/^\{"type":"flow","id":1,/);
    expect(cut).toMatchObject({ code: 1, stderr: whole.stderr });
  }, 120_000);

  it('says which runs there are when --capture names none', () => {
    const db = path.join(scratch(), 'kwire.db');
    kwire(['read', sample, '--db', db, '-q']);
    kwire(['read', sample, '--db', db, '-q']);
    expect(kwire(['report', '--db', db, '--capture', '7'])).toMatchObject({ status: 2, stderr: `kwire: ${db}: holds no run 7 (its runs are 1 to 2)\n` });
  });
});

describe('a database of an older kwire', () => {
  const keys = 'captures/sample-tls-http.keys';
  const v1Database = () => {
    const db = path.join(scratch(), 'kwire.db');
    const sql = new Database(db);
    sql.exec(readFileSync(path.join(repoRoot, 'test/fixtures/store-v1.sql'), 'utf8'));
    sql.close();
    return db;
  };
  const report = (db: string, capture: number) => JSON.parse(kwire(['report', '--db', db, '--format', 'json', '--capture', String(capture)]).stdout);

  it('is migrated by the next writer: its run reads back as the same capture stored now, byte for byte', () => {
    const db = v1Database();
    expect(kwire(['report', '--db', db])).toMatchObject({ status: 2, stderr: `kwire: ${db}: written by an older kwire (schema 1; this one reads ${SCHEMA_VERSION}): run any 'kwire read --db ${db}' once to migrate it\n` });
    const read = kwire(['read', sample, '--keylog', keys, '--db', db, '-q']);
    expect(read.status, read.stderr).toBe(0);

    const [migrated, stored] = [report(db, 1), report(db, 2)];
    expect(migrated.flows.length).toBe(14);
    expect(migrated.findings.length).toBe(21);
    expect(JSON.stringify(migrated.flows)).toBe(JSON.stringify(stored.flows));
    expect(JSON.stringify(migrated.findings)).toBe(JSON.stringify(stored.findings));
    expect(kwire(['report', '--db', db, '--capture', '1']).stdout).toBe(kwire(['report', '--db', db, '--capture', '2']).stdout);

    const sql = new Database(db);
    expect(sql.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    // The same tables and indexes as a database made new, to the letter.
    const fresh = path.join(scratch(), 'fresh.db');
    kwire(['read', sample, '--db', fresh, '-q']);
    const definitions = (file: string) =>
      new Database(file, { readonly: true }).prepare('SELECT name, sql FROM sqlite_schema ORDER BY name').all()
        .map((row) => ({ ...(row as object), sql: (row as { sql: string | null }).sql?.replace(/^CREATE TABLE "(\w+)"/, 'CREATE TABLE $1') ?? null }));
    expect(definitions(db)).toEqual(definitions(fresh));
    // The old tables' pages given back, and the pages of a new database.
    expect(sql.pragma('freelist_count', { simple: true })).toBe(0);
    expect(sql.pragma('page_size', { simple: true })).toBe(8192);
    expect(sql.pragma('journal_mode', { simple: true })).toBe('wal');
    // The rebuilt tables are still the parents of their rows: removing the old run removes all of it.
    sql.pragma('foreign_keys = ON');
    sql.prepare('DELETE FROM captures WHERE id = 1').run();
    for (const table of ['flows', 'findings', 'tls', 'http_requests', 'flow_certificates', 'endpoints', 'progress']) {
      expect(sql.prepare(`SELECT count(*) FROM ${table} WHERE capture_id = 1`).pluck().get(), table).toBe(0);
    }
    sql.close();
  });

  it('is migrated once when two writers open it together, and both runs are stored', async () => {
    const db = v1Database();
    // 2,000 copies of the run: a migration that takes long enough for the second writer to meet it.
    const sql = new Database(db);
    const copies = "WITH RECURSIVE n(value) AS (SELECT 2 UNION ALL SELECT value + 1 FROM n WHERE value < 2001)";
    for (const table of ['captures', 'progress', 'flows', 'tls', 'flow_certificates', 'http_requests', 'findings', 'endpoints']) {
      const key = table === 'captures' ? 'id' : 'capture_id';
      const columns = (sql.pragma(`table_info(${table})`) as { name: string }[]).map((column) => column.name);
      sql.exec(`${copies} INSERT INTO ${table} (${columns.join(', ')}) SELECT ${columns.map((column) => (column === key ? 'n.value' : column)).join(', ')} FROM ${table}, n WHERE ${key} = 1`);
    }
    sql.close();
    const writer = () => {
      const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'kwire'), 'read', sample, '--db', db, '-q'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
      return new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
    };
    expect(await Promise.all([writer(), writer()])).toEqual([{ code: 0, stderr: '' }, { code: 0, stderr: '' }]);
    const after = new Database(db, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(after.prepare('SELECT count(*) FROM captures').pluck().get()).toBe(2003);
    expect(after.prepare('SELECT count(*) FROM flows').pluck().get()).toBe(2003 * 14);
    after.close();
  }, 120_000);

  it('is left as it was when its migration fails', () => {
    const db = v1Database();
    const sql = new Database(db);
    // A v1 finding whose JSON is not JSON: the migration cannot take its name and references.
    sql.prepare("UPDATE findings SET finding = 'not json' WHERE flow_id = 3 AND rule = 'KW013'").run();
    sql.close();
    const read = kwire(['read', sample, '--db', db, '-q']);
    expect(read.status).toBe(2);
    expect(read.stderr).toMatch(new RegExp(`^kwire: ${db}: database migrate failed: malformed JSON`));
    const after = new Database(db, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(1);
    expect(after.prepare('SELECT count(*) FROM findings').pluck().get()).toBe(21);
    expect(after.prepare('SELECT count(*) FROM captures').pluck().get()).toBe(1);
    after.close();
  });
});

describe('databases kwire cannot use', () => {
  const sampleInto = (db: string) => kwire(['read', sample, '-q', '--db', db]);

  it('migrates the empty database of the kwire before the store, and refuses a newer one, a foreign one and a non-database', () => {
    const dir = scratch();
    const placeholder = path.join(dir, 'old.db');
    new Database(placeholder).pragma('user_version = 0');
    expect(sampleInto(placeholder)).toMatchObject({ status: 0 });
    expect(new Database(placeholder).pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);

    const newer = path.join(dir, 'newer.db');
    new Database(newer).pragma('user_version = 99');
    expect(sampleInto(newer)).toMatchObject({ status: 2, stderr: `kwire: ${newer}: written by a newer kwire (schema 99; this one knows ${SCHEMA_VERSION}): upgrade kwire or name another file with --db\n` });
    expect(kwire(['report', '--db', newer]).stderr).toMatch(/written by a newer kwire \(schema 99/);

    const foreign = path.join(dir, 'foreign.db');
    new Database(foreign).exec('CREATE TABLE accounts (id INTEGER)');
    expect(sampleInto(foreign)).toMatchObject({ status: 2, stderr: `kwire: ${foreign}: not a kwire database (it has tables of its own); name another file with --db\n` });
    expect(kwire(['report', '--db', foreign])).toMatchObject({ status: 2, stderr: `kwire: ${foreign}: not a kwire database (no kwire schema in it)\n` });

    const text = path.join(dir, 'notes.db');
    writeFileSync(text, 'not a database at all, but long enough to have a header of sorts '.repeat(4));
    expect(sampleInto(text)).toMatchObject({ status: 2, stderr: `kwire: ${text}: not a SQLite database\n` });
  });

  it('says so in one line for a missing directory, an unwritable one and a missing database', () => {
    const missingDir = path.join(scratch(), 'no', 'such', 'kwire.db');
    expect(sampleInto(missingDir)).toMatchObject({ status: 2, stderr: `kwire: ${missingDir}: cannot create it: the directory does not exist\n` });
    const locked = scratch();
    chmodSync(locked, 0o500);
    const inLocked = path.join(locked, 'kwire.db');
    expect(kwire(['read', sample, '-q', '--db', inLocked], { asRootWithoutOverride: true })).toMatchObject({
      status: 2,
      stderr: `kwire: ${inLocked}: cannot create the database (EACCES): choose a writable path with --db, or --no-db\n`,
    });
    const nowhere = path.join(scratch(), 'kwire.db');
    expect(kwire(['report', '--db', nowhere])).toMatchObject({ status: 2, stderr: `kwire: ${nowhere}: no such database (kwire read and kwire sniff write one, kwire.db by default)\n` });
  });

  it('stops with one line when the disk fills up while it waits for more input', () =>
    onOneMebibyteDisk(async (mountPoint) => {
      const db = path.join(mountPoint, 'kwire.db');
      const { child, exited } = writerOnStdin(db);
      expect(await waitFor(() => capturesStored(db) === 1), 'the run recorded').toBe(true);
      fillUp(path.join(mountPoint, 'filler'));
      // The first part's flows are written by the database's thread after a quiet 250 ms; stdin stays open.
      const { first } = await twoPartCapture();
      child.stdin!.write(first);
      const ended = await Promise.race([exited, sleep(20_000).then(() => null)]);
      child.kill('SIGKILL');
      expect(ended, 'kwire ended on its own').not.toBeNull();
      expect(ended).toMatchObject({ code: 2, stdout: '', stderr: `kwire: ${db}: the disk is full (write failed); free space or name another file with --db\n` });
    }), 60_000);

  it('stops with one line when the disk fills up', () =>
    onOneMebibyteDisk((mountPoint) => {
      // A 1 MiB filesystem takes the schema and a few runs of the sample capture (190 KB each), not sixty.
      const db = path.join(mountPoint, 'kwire.db');
      let failure = null;
      let stored = 0;
      for (let run = 0; run < 60 && !failure; run++) {
        const result = sampleInto(db);
        if (result.status === 0) stored++;
        else failure = result;
      }
      expect(stored).toBeGreaterThan(0);
      expect(failure, 'the disk never filled').not.toBeNull();
      expect(failure).toEqual({ status: 2, stdout: '', stderr: `kwire: ${db}: the disk is full (write failed); free space or name another file with --db\n` });
    }));
});

/** Runs `body` on a 1 MiB tmpfs mounted for it; without root (mount needs CAP_SYS_ADMIN, as the network namespaces of other tests do), skips. */
async function onOneMebibyteDisk(body: (mountPoint: string) => void | Promise<void>): Promise<void> {
  const mountPoint = scratch();
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint], { stdio: 'pipe' });
  } catch (error) {
    expect.soft(process.getuid?.(), `mount failed: ${(error as Error).message}`).not.toBe(0);
    return;
  }
  try {
    await body(mountPoint);
  } finally {
    execFileSync('umount', [mountPoint]);
  }
}

describe('secrets never reach the database', () => {
  it('holds none of the planted tokens, whatever the capture', async () => {
    const { PLANTED_SECRETS, SCENARIOS } = await import('./stacks/cluster/scenarios.js');
    const db = path.join(scratch(), 'kwire.db');
    for (const scenario of SCENARIOS) kwire(['read', path.join(scenarios, `${scenario.name}.pcap`), '-q', '--db', db, '--cluster', path.join(scenarios, 'cluster.yaml')]);
    // Checkpointed into the main file, and the WAL too if anything is left there.
    new Database(db).pragma('wal_checkpoint(TRUNCATE)');
    const bytes = Buffer.concat([db, `${db}-wal`].filter(existsSync).map((file) => readFileSync(file)));
    expect(bytes.length).toBeGreaterThan(50_000);
    for (const secret of PLANTED_SECRETS) expect(bytes.includes(secret), secret.slice(0, 12)).toBe(false);
    // The credentials are there by kind and hash prefix.
    const auth = new Database(db, { readonly: true }).prepare("SELECT DISTINCT auth FROM http_requests WHERE auth != 'none' ORDER BY auth").all();
    expect(auth).toEqual([{ auth: 'basic' }, { auth: 'bearer' }]);
  });
});

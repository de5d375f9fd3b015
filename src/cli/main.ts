/**
 * `kwire`: parses the command line, runs the pipeline through lib.ts, prints, and maps errors
 * to exit statuses (0 success, 1 `check` found something, 2 bad usage or unreadable input) with
 * one line on stderr.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { analyze, loadClusterFile, loadKeyLogFile, sniff, StreamDumpFactory, TrustAnchors, type AnalyzeOptions } from '../lib.js';
import { KwireError } from '../model/errors.js';
import { parseCommandLine, usage, UsageError, type CheckOptions, type ReadOptions, type ReportOptions, type SniffOptions, type TuiOptions } from './args.js';
import type { CaptureJson, FlowJson } from '../model/document.js';
import { SEVERITIES, type Finding, type Severity } from '../model/finding.js';
import { BackgroundWriter, StoreReader, type FlowWithFindings } from '../store/index.js';
import { MAX_CONNECTION_ROWS, liveLossWarning, renderSummary } from './text.js';
import { FLOWS_PER_RULE, renderMarkdown } from './markdown.js';
import { Tally } from './tally.js';
import { ProgressLine } from './progress.js';
import type { DashboardRun } from '../tui/index.js';

/**
 * Stdout's reader went away (`kwire report --format json | head`): the output ends there, as
 * tcpdump's and tshark's do, and a capture stops as on Ctrl-C (its run is still stored).
 */
const stdoutClosed = new AbortController();

export async function main(argv: string[]): Promise<number> {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    // After an EPIPE, each later write fails too: the output has ended, they are dropped.
    if (error.code !== 'EPIPE' && !stdoutClosed.signal.aborted) throw error;
    stdoutClosed.abort();
  });
  try {
    const parsed = parseCommandLine(argv);
    switch (parsed.command) {
      case 'help':
        process.stdout.write((usage[parsed.topic ?? 'main'] ?? usage.main) + '\n');
        return 0;
      case 'version':
        process.stdout.write(`kwire ${packageVersion()}\n`);
        return 0;
      case 'read':
        await read(parsed.options);
        return 0;
      case 'check':
        return await check(parsed.options);
      case 'sniff':
        await read(parsed.options);
        return 0;
      case 'report':
        await report(parsed.options);
        return 0;
      case 'tui':
        await tui(parsed.options);
        return 0;
    }
  } catch (error) {
    if (error instanceof KwireError) {
      process.stderr.write(`kwire: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

/** `check`: what `read` prints, then exit 1 when a finding at or above --fail-on exists. */
async function check(options: CheckOptions): Promise<number> {
  const bySeverity = await read(options);
  const failing = SEVERITIES.slice(SEVERITIES.indexOf(options.failOn)).reduce((sum, severity) => sum + bySeverity[severity], 0);
  if (!options.quiet || failing > 0) {
    process.stderr.write(
      failing > 0
        ? `kwire: check failed: ${failing} finding${failing === 1 ? '' : 's'} at or above ${options.failOn}\n`
        : `kwire: check passed: no finding at or above ${options.failOn}\n`,
    );
  }
  return failing > 0 ? 1 : 0;
}

/**
 * Analyses the capture, stores the run and prints it as asked; returns how many findings of each
 * severity arose. SIGINT and SIGTERM stop the reading: what was read is finished, stored and
 * printed, and the run ends as usual (exit 0).
 */
async function read(options: ReadOptions | SniffOptions): Promise<Record<Severity, number>> {
  /** The capture file, '-', or null for a live interface (sniff). */
  const input = 'input' in options ? options.input : null;
  if (options.tui) needTerminal(input === '-' ? 'read - --tui' : '--tui');
  const showProgress = !options.quiet && !options.tui && process.stderr.isTTY === true;
  const progress = showProgress ? new ProgressLine(process.stderr, input === null ? null : fileSize(input)) : null;
  const out = process.stdout;
  const bySeverity = Object.fromEntries(SEVERITIES.map((severity) => [severity, 0])) as Record<Severity, number>;
  // The summary is counted as flows end, when it is to be printed (--json and --ndjson print the
  // records instead); only --json keeps every flow (the document lists them all).
  const tally = options.json || options.ndjson ? null : new Tally(SUMMARY_LIMITS);
  // Configuration and the database come before the capture: a mistake in them costs no waiting.
  const cluster = options.cluster === null ? undefined : loadClusterFile(options.cluster);
  const anchors = options.ca.length === 0 ? undefined : TrustAnchors.union(options.ca.map(readAnchors));
  if (options.keylog !== null) loadKeyLogFile(options.keylog); // a missing or unreadable key log stops here, naming it
  // The dashboard reads what the run writes: with --no-db, from a database of its own that goes at the end.
  const scratch = options.tui && options.db === null ? mkdtempSync(path.join(tmpdir(), 'kwire-tui-db-')) : null;
  const db = scratch === null ? options.db : path.join(scratch, 'kwire.db');
  const stop = new AbortController();
  const interrupt = () => stop.abort();
  let store: BackgroundWriter | null = null;
  let dashboard: DashboardRun | null = null;
  process.once('SIGINT', interrupt).once('SIGTERM', interrupt);
  // `check` judges the whole capture: a reader of its output that goes away ends only the output.
  if (!('failOn' in options)) stdoutClosed.signal.addEventListener('abort', interrupt);
  try {
    // A database that fails stops the reading at once; finish below throws the failure.
    store = db === null ? null : BackgroundWriter.open(db, captureStart(options), { yieldToAnalysis: !('input' in options), onFailure: interrupt });
    // Quitting the dashboard while the capture is read stops the reading, as Ctrl-C does without it.
    dashboard = options.tui ? (await loadDashboard()).showDashboard({ db: db!, captureId: store!.captureId }) : null;
    dashboard?.quit.then(interrupt, interrupt);
    const doc = await runCapture(options, {
      cluster,
      anchors,
      keylog: options.keylog ?? undefined,
      streams: options.streamsDir ? new StreamDumpFactory(options.streamsDir) : undefined,
      signal: stop.signal,
      onProgress(p) {
        progress?.update(p);
        store?.progress({ packets: p.packets, bytes: p.sourceBytes, flows: p.flows, findings: p.findings, dropped: p.dropped });
      },
      onFlowEnd(flow, findings) {
        for (const finding of findings) bySeverity[finding.severity]++;
        tally?.add(flow, findings);
        store?.addFlow(flow, findings);
        if (!options.ndjson) return;
        out.write(JSON.stringify({ type: 'flow', ...flow }) + '\n');
        for (const finding of findings) out.write(JSON.stringify({ type: 'finding', ...finding }) + '\n');
      },
      // A slow reader of --ndjson, or a database that falls behind, holds the reading back (live:
      // the kernel's buffer, then its drops) rather than every record waiting in memory.
      ready: () => bothReady(store?.ready(), options.ndjson && out.writableNeedDrain && !stdoutClosed.signal.aborted ? drained(out, stop.signal) : undefined),
      retainFlows: options.json,
    });
    await store?.finish(doc.capture);
    progress?.clear();
    // The dashboard stays until the user quits; then the run prints as it would without it.
    await dashboard?.quit;
    if (doc.capture.damage) {
      const { offset, message } = doc.capture.damage;
      process.stderr.write(
        `kwire: warning: ${doc.capture.source}: damaged at byte ${offset} (${message}); kept the ${doc.capture.packets} packets before it\n`,
      );
    }
    if (doc.capture.live?.ended) {
      process.stderr.write(`kwire: warning: ${doc.capture.source}: ${doc.capture.live.ended}; kept the ${doc.capture.packets} packets captured\n`);
    }
    const lost = doc.capture.live && liveLossWarning(doc.capture.live);
    if (lost) process.stderr.write(lost);
    if (doc.capture.interrupted) process.stderr.write(`kwire: interrupted: kept the ${doc.capture.packets} packets read\n`);
    if (options.json) await writeDocument(process.stdout, doc.capture, doc.flows, doc.findings);
    else if (options.ndjson) out.write(JSON.stringify({ type: 'capture', ...doc.capture }) + '\n');
    else print(doc.capture, tally!, 'text');
    return bySeverity;
  } finally {
    process.off('SIGINT', interrupt).off('SIGTERM', interrupt);
    stdoutClosed.signal.removeEventListener('abort', interrupt);
    dashboard?.close();
    await store?.close();
    if (scratch !== null) rmSync(scratch, { recursive: true, force: true });
  }
}

/** Runs the pipeline over the file of `read` and `check`, or the interface of `sniff`. */
function runCapture(options: ReadOptions | SniffOptions, analyzeOptions: AnalyzeOptions) {
  if ('input' in options) return analyze(options.input, analyzeOptions);
  const { interface: iface, filter, backend, count, duration, write, bufferKiB } = options;
  const onStart = () => {
    // What tcpdump says when it starts: the test stacks and users wait for it.
    if (!options.tui) process.stderr.write(`kwire: listening on ${iface}${filter === '' ? '' : ` (${filter})`}; Ctrl-C stops\n`);
  };
  return sniff({ interface: iface, filter, backend, count, durationSeconds: duration, write, bufferKiB }, { ...analyzeOptions, onStart });
}

/** The run's row in the database: its source and the options that shaped it. */
function captureStart(options: ReadOptions | SniffOptions) {
  const shaping = { cluster: options.cluster, ca: options.ca, keylog: options.keylog };
  if ('input' in options) return { source: options.input === '-' ? 'stdin' : options.input, format: 'file', options: shaping };
  return { source: options.interface, format: 'live', options: { ...shaping, filter: options.filter, backend: options.backend } };
}

/** `tui`: the dashboard over a database, until the user quits. */
async function tui(options: TuiOptions): Promise<void> {
  needTerminal('tui');
  await (await loadDashboard()).showDashboard({ db: options.db, captureId: options.capture }).quit;
}

/**
 * The dashboard's code (Ink, React) is loaded only by the commands that show it: the others start
 * half a second sooner. React's production build, unless the environment asks for another.
 */
async function loadDashboard(): Promise<typeof import('../tui/index.js')> {
  process.env.NODE_ENV ??= 'production';
  return import('../tui/index.js');
}

/** The dashboard draws on stdout: a pipe or a file would get escape codes, not a screen. */
function needTerminal(what: string): void {
  if (!process.stdout.isTTY) throw new UsageError(`${what}: the dashboard needs a terminal, and stdout is not one (run it in a terminal, or drop --tui and use --json or 'kwire report')`);
}

/** `report`: what a run stored, printed as that run printed it, read a page of flows at a time. */
async function report(options: ReportOptions): Promise<void> {
  const reader = StoreReader.open(options.db);
  try {
    reader.holdSnapshot();
    const captureId = options.capture ?? reader.latestCaptureId();
    if (captureId === null) throw new KwireError('DB_EMPTY', `${options.db}: holds no run yet`);
    const capture = reader.capture(captureId);
    if (options.format === 'json') {
      await writeDocument(process.stdout, capture, flowsOf(reader.records(captureId)), reader.findings(captureId));
      return;
    }
    const tally = new Tally(SUMMARY_LIMITS);
    for (const { flow, findings } of reader.records(captureId)) tally.add(flow, findings);
    print(capture, tally, options.format);
  } finally {
    reader.close();
  }
}

/** What the text summary and the markdown report show of a run: its first connections, a few examples per rule. */
const SUMMARY_LIMITS = { listed: MAX_CONNECTION_ROWS, examples: FLOWS_PER_RULE };

/** A run's summary. */
function print(capture: CaptureJson, tally: Tally, format: 'text' | 'markdown'): void {
  process.stdout.write(format === 'markdown' ? renderMarkdown(capture, tally) : renderSummary(capture, tally));
}

/**
 * The document of SPEC.md §5, as `JSON.stringify(doc, null, 2)` would print it, written one flow
 * and one finding at a time, each after the reader took the one before (a pipe holds 64 KiB): a
 * stored run is never all in memory, neither read nor waiting to be written.
 */
async function writeDocument(out: NodeJS.WritableStream, capture: CaptureJson, flows: Iterable<FlowJson>, findings: Iterable<Finding>): Promise<void> {
  const write = async (text: string) => {
    if (!out.write(text)) await drained(out, stdoutClosed.signal);
  };
  const nested = (value: unknown, depth: number) => JSON.stringify(value, null, 2).replaceAll('\n', '\n' + '  '.repeat(depth));
  const writeArray = async (items: Iterable<unknown>) => {
    let count = 0;
    for (const item of items) {
      if (stdoutClosed.signal.aborted) return;
      await write(`${count++ === 0 ? '[' : ','}\n    ${nested(item, 2)}`);
    }
    await write(count === 0 ? '[]' : '\n  ]');
  };
  await write(`{\n  "capture": ${nested(capture, 1)},\n  "flows": `);
  await writeArray(flows);
  await write(',\n  "findings": ');
  await writeArray(findings);
  await write('\n}\n');
}

function* flowsOf(records: Iterable<FlowWithFindings>): Generator<FlowJson> {
  for (const record of records) yield record.flow;
}

/** One `--ca` bundle; a mistake in it names the file (exit 2). */
function readAnchors(file: string): TrustAnchors {
  try {
    return TrustAnchors.fromPem(readFileSync(file, 'utf8'));
  } catch (error) {
    const reason = error instanceof KwireError ? error.message : `cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
    throw new KwireError('BAD_CA', `${file}: ${reason}`);
  }
}

function fileSize(input: string): number | null {
  if (input === '-') return null;
  try {
    return statSync(input).size;
  } catch {
    return null;
  }
}

function packageVersion(): string {
  return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
}

/** Settles once `out` has drained, or when `signal` gives up waiting; what went wrong is stdout's 'error' handler's. */
function drained(out: NodeJS.WritableStream, signal: AbortSignal): Promise<void> {
  return once(out, 'drain', { signal }).then(noop, noop);
}

function bothReady(first: Promise<void> | undefined, second: Promise<void> | undefined): Promise<void> | undefined {
  return first && second ? Promise.all([first, second]).then(noop) : (first ?? second);
}

const noop = (): void => {};

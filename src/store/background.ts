/**
 * The database written on a thread of its own, so that the analysis never waits for SQLite: a
 * flow costs the analysis the copy that hands it over (about 8 µs) instead of its rows (33–60 µs).
 * Live, the thread also yields the core to the analysis (nice 19, background-thread.ts): flows end
 * in bursts, and a burst written at once held the reading back past the kernel's buffer (at
 * 200,000 packets/s on one core, packets were lost in 11 runs of 11; with the thread, in 3 of 11).
 *
 * The thread writes in order, in StoreWriter's batches; at most MAX_QUEUED_FLOWS wait for it, past
 * that `ready()` holds the reading back as a slow reader of --ndjson does. A failure of the thread
 * (a full disk) is told to `onFailure` at once (the CLI stops reading: a quiet live capture might
 * otherwise make no further call for a long time); flows after it are dropped, and `finish` throws it.
 */
import { Worker } from 'node:worker_threads';
import type { CaptureJson, FlowJson } from '../model/document.js';
import type { Finding } from '../model/finding.js';
import { StoreError, type StoreErrorCode } from './database.js';
import { StoreWriter, type CaptureStart, type ProgressCounts } from './writer.js';

/** Flows are handed over this many at a time … */
const HANDOVER_FLOWS = 100;
/** … or when the first of them has waited this long (a quiet live capture). */
const HANDOVER_MS = 50;
/**
 * Flows handed over and not yet written, past which the reading waits: 2.1 KB of copy each on the
 * benchmark traffic, about 43 MB, and six seconds of its 3,400 connections a second. A live
 * capture's first seconds leave the thread little time (the analysis runs before V8 has optimised
 * it); with 10,000, the reading was held back and packets lost in one run of three at 200,000/s.
 */
const MAX_QUEUED_FLOWS = 20_000;
/** Progress rows: at most one per second. */
const PROGRESS_MS = 1000;

export interface BackgroundOptions {
  /**
   * The thread gives way to the analysis (live capture, whose packets wait in a kernel buffer of
   * fixed size). Reading a file, it keeps the process's priority: nothing is lost by waiting.
   */
  yieldToAnalysis: boolean;
  /** The thread failed: nothing more will be written. */
  onFailure?: (failure: StoreError) => void;
}

/** What the writer's thread is told, in order. */
export type ToThread =
  | { kind: 'flows'; flows: [FlowJson, Finding[]][] }
  | { kind: 'progress'; counts: ProgressCounts; wall: number }
  | { kind: 'finish'; capture: CaptureJson };

/** What the writer's thread answers. */
export type FromThread =
  | { kind: 'written'; flows: number }
  | { kind: 'finished' }
  | { kind: 'failed'; code: StoreErrorCode; message: string };

export interface ThreadData {
  file: string;
  captureId: number;
  yieldToAnalysis: boolean;
  /** Set to 1 by `finish`: the thread may take its priority back to write what waits. */
  draining: Int32Array;
}

export class BackgroundWriter {
  private handover: [FlowJson, Finding[]][] = [];
  private handoverTimer: NodeJS.Timeout | null = null;
  private queued = 0;
  private lastProgress = 0;
  private failure: StoreError | null = null;
  private finished = false;
  private closed = false;
  /** A reading held back by a full queue, or a finish, waits on this until the thread answers. */
  private answer: { promise: Promise<void>; arrived: () => void } | null = null;
  private readonly worker: Worker;
  private readonly draining = new Int32Array(new SharedArrayBuffer(4));

  /**
   * Opens the database and records the run here, so that a database kwire cannot use stops the
   * run before the capture with StoreWriter's one line; the thread then writes into that run.
   */
  static open(file: string, start: CaptureStart, options: BackgroundOptions): BackgroundWriter {
    return new BackgroundWriter(file, StoreWriter.record(file, start), options);
  }

  private constructor(
    private readonly file: string,
    readonly captureId: number,
    private readonly options: BackgroundOptions,
  ) {
    const workerData: ThreadData = { file, captureId, yieldToAnalysis: options.yieldToAnalysis, draining: this.draining };
    this.worker = new Worker(new URL('./background-thread.js', import.meta.url), { workerData });
    this.worker.on('message', (message: FromThread) => this.answered(message));
    this.worker.on('error', (error) => this.failed(new StoreError('DB_FAILED', `${file}: the database writer failed: ${error.message}`)));
    // The thread stops only when closed: any other end is a failure (it has no reason to stop).
    this.worker.on('exit', (code) => {
      if (!this.closed) this.failed(new StoreError('DB_FAILED', `${this.file}: the database writer stopped (exit code ${code})`));
    });
  }

  addFlow(flow: FlowJson, findings: Finding[]): void {
    if (this.failure !== null) return;
    this.handover.push([flow, findings]);
    if (this.handover.length >= HANDOVER_FLOWS) this.handOver();
    else this.handoverTimer ??= setTimeout(() => this.handOver(), HANDOVER_MS).unref();
  }

  /** Records the run's counts, at most once a second (the dashboard's rates). */
  progress(counts: ProgressCounts): void {
    const now = Date.now();
    if (now - this.lastProgress < PROGRESS_MS) return;
    this.lastProgress = now;
    this.handOver();
    this.post({ kind: 'progress', counts, wall: now / 1000 });
  }

  /** A promise while too many flows wait for the thread: the reading waits for it (AnalyzeOptions.ready). */
  ready(): Promise<void> | undefined {
    return this.queued > MAX_QUEUED_FLOWS && this.failure === null ? this.nextAnswer() : undefined;
  }

  /** The run is over: everything handed over is written, then the capture's summary. */
  async finish(capture: CaptureJson): Promise<void> {
    this.throwIfFailed();
    this.handOver();
    Atomics.store(this.draining, 0, 1);
    this.post({ kind: 'finish', capture });
    while (!this.finished && this.failure === null) await this.nextAnswer();
    this.throwIfFailed();
  }

  /** Stops the thread (after `finish`, or to give up on what it has not written). */
  async close(): Promise<void> {
    if (this.handoverTimer !== null) clearTimeout(this.handoverTimer);
    this.closed = true;
    await this.worker.terminate();
  }

  private handOver(): void {
    if (this.handoverTimer !== null) clearTimeout(this.handoverTimer);
    this.handoverTimer = null;
    if (this.handover.length === 0 || this.failure !== null) return;
    this.queued += this.handover.length;
    this.post({ kind: 'flows', flows: this.handover });
    this.handover = [];
  }

  private post(message: ToThread): void {
    if (this.failure === null) this.worker.postMessage(message);
  }

  private answered(message: FromThread): void {
    if (message.kind === 'written') this.queued -= message.flows;
    else if (message.kind === 'finished') this.finished = true;
    else this.failed(new StoreError(message.code, message.message));
    if (this.queued <= MAX_QUEUED_FLOWS / 2 || this.finished) this.answerArrived();
  }

  private failed(error: StoreError): void {
    if (this.failure === null) {
      this.failure = error;
      this.options.onFailure?.(error);
    }
    this.answerArrived();
  }

  private nextAnswer(): Promise<void> {
    if (this.answer === null) {
      let arrived = (): void => {};
      const promise = new Promise<void>((resolve) => {
        arrived = resolve;
      });
      this.answer = { promise, arrived };
    }
    return this.answer.promise;
  }

  private answerArrived(): void {
    this.answer?.arrived();
    this.answer = null;
  }

  private throwIfFailed(): void {
    if (this.failure !== null) throw this.failure;
  }
}

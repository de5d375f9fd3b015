/**
 * The writer's thread (background.ts): a StoreWriter for the run the main thread opened, fed with
 * the main thread's messages in order. Live, it first lowers its own priority, so that on a busy
 * core the analysis, whose packets a full kernel buffer drops, runs first and the database takes
 * the time left; once the run is over (the main thread raises `draining`) it takes its priority
 * back where it may (root), so that what waits is written in the seconds a stop allows.
 */
import { constants, getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { FromThread, ThreadData, ToThread } from './background.js';
import { StoreError } from './database.js';
import { BATCH_MS, StoreWriter } from './writer.js';

const { file, captureId, yieldToAnalysis, draining } = workerData as ThreadData;
const port = parentPort!;
const answer = (message: FromThread): void => port.postMessage(message);

const processPriority = getPriority();
let lowered = yieldToAnalysis && setOwnPriority(constants.priority.PRIORITY_LOW);
let writer: StoreWriter | null = null;
// Flushes a batch that waits for more flows that do not come (a quiet live capture).
const timer = setInterval(() => guarded(() => writer?.flushIfDue()), BATCH_MS);
guarded(() => {
  writer = StoreWriter.resume(file, captureId);
});

port.on('message', (message: ToThread) =>
  guarded(() => {
    if (writer === null) return;
    if (message.kind === 'flows') {
      for (const [flow, findings] of message.flows) writer.addFlow(flow, findings);
      answer({ kind: 'written', flows: message.flows.length });
    } else if (message.kind === 'progress') {
      writer.progress(message.counts, message.wall);
    } else {
      writer.finish(message.capture);
      stop();
      answer({ kind: 'finished' });
    }
    if (lowered && Atomics.load(draining, 0) === 1) {
      setOwnPriority(processPriority);
      lowered = false;
    }
  }),
);

/** Runs a step of the writer; a failure stops the writing and is told to the main thread, which throws it. */
function guarded(step: () => void): void {
  try {
    step();
  } catch (error) {
    stop();
    const failure = error instanceof StoreError ? error : new StoreError('DB_FAILED', `${file}: the database writer failed: ${(error as Error).message}`);
    answer({ kind: 'failed', code: failure.code, message: failure.message });
  }
}

function stop(): void {
  clearInterval(timer);
  writer?.close();
  writer = null;
}

/**
 * On Linux, setpriority(2) with id 0 names the calling thread alone (elsewhere the whole process,
 * which must keep its priority). Raising it back needs CAP_SYS_NICE: without it the thread stays
 * low. Whether the priority changed.
 */
function setOwnPriority(priority: number): boolean {
  if (process.platform !== 'linux') return false;
  try {
    setPriority(0, priority);
    return true;
  } catch {
    return false;
  }
}

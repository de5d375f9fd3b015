/**
 * The writer's thread (background.ts): a StoreWriter for the run the main thread opened, fed with
 * the main thread's messages in order. Live, it first lowers its own priority, so that on a busy
 * core the analysis, whose packets a full kernel buffer drops, runs first and the database takes
 * the time left.
 */
import { readlinkSync } from 'node:fs';
import { constants, setPriority } from 'node:os';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { FromThread, ThreadData, ToThread } from './background.js';
import { StoreError } from './database.js';
import { StoreWriter } from './writer.js';

const { file, captureId, yieldToAnalysis } = workerData as ThreadData;
const port = parentPort!;
const answer = (message: FromThread): void => port.postMessage(message);

if (yieldToAnalysis) lowerPriority();
let writer: StoreWriter | null = null;
try {
  writer = StoreWriter.resume(file, captureId);
} catch (error) {
  failed(error);
}

port.on('message', (message: ToThread) => {
  if (writer === null) return;
  try {
    if (message.kind === 'flows') {
      for (const [flow, findings] of message.flows) writer.addFlow(flow, findings);
      answer({ kind: 'written', flows: message.flows.length });
    } else if (message.kind === 'progress') {
      writer.progress(message.counts, message.wall);
    } else {
      writer.finish(message.capture);
      writer.close();
      writer = null;
      answer({ kind: 'finished' });
    }
  } catch (error) {
    writer?.close();
    writer = null;
    failed(error);
  }
});

/** Says why writing stopped; what comes after is dropped (the main thread throws the failure). */
function failed(error: unknown): void {
  const failure = error instanceof StoreError ? error : new StoreError('DB_FAILED', `${file}: the database writer failed: ${(error as Error).message}`);
  answer({ kind: 'failed', code: failure.code, message: failure.message });
}

/**
 * Nice 19 for this thread alone: on Linux a thread's id names it to setpriority(2), and
 * /proc/thread-self gives the id. Elsewhere the thread keeps the process's priority.
 */
function lowerPriority(): void {
  try {
    setPriority(Number(path.basename(readlinkSync('/proc/thread-self'))), constants.priority.PRIORITY_LOW);
  } catch {
    // No /proc/thread-self (not Linux): nothing to lower.
  }
}

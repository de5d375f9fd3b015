/** A StreamFactory that keeps every flow's ordered bytes and gaps, for tests to compare. */
import type { Direction, FlowRecord, StreamFactory, StreamHandler } from '../../src/model/flow.js';

export interface CollectedFlow {
  flow: FlowRecord;
  /** Bytes per direction, gaps left out. */
  bytes: [Buffer, Buffer];
  /** Events in order per direction: a byte count, or a gap as a negative count. */
  events: [number[], number[]];
  ended: string | null;
}

export class CollectingFactory implements StreamFactory {
  readonly flows: CollectedFlow[] = [];

  open(flow: FlowRecord): StreamHandler {
    const chunks: [Buffer[], Buffer[]] = [[], []];
    const collected: CollectedFlow = { flow, bytes: [Buffer.alloc(0), Buffer.alloc(0)], events: [[], []], ended: null };
    this.flows.push(collected);
    return {
      onData(dir: Direction, chunk: Buffer) {
        chunks[dir].push(Buffer.from(chunk)); // the chunk points into a buffer the pipeline reuses
        collected.events[dir].push(chunk.length);
      },
      onGap(dir: Direction, bytes: number) {
        collected.events[dir].push(-bytes);
      },
      onEnd(reason) {
        collected.bytes = [Buffer.concat(chunks[0]), Buffer.concat(chunks[1])];
        collected.ended = reason;
      },
    };
  }
}

/** Hands every flow's bytes to the handlers of two factories: kwire's analyzers and a user's. */
import type { Direction, EndReason, FlowRecord, StreamFactory, StreamHandler } from '../model/flow.js';

export class TeeFactory implements StreamFactory {
  constructor(
    private readonly first: StreamFactory,
    private readonly second: StreamFactory,
  ) {}

  open(flow: FlowRecord): StreamHandler | null {
    const a = this.first.open(flow);
    const b = this.second.open(flow);
    if (!a || !b) return a ?? b;
    return {
      onData(dir: Direction, chunk: Buffer, ts: number, packet: number) {
        a.onData(dir, chunk, ts, packet);
        b.onData(dir, chunk, ts, packet);
      },
      onGap(dir: Direction, bytes: number) {
        a.onGap(dir, bytes);
        b.onGap(dir, bytes);
      },
      onEnd(reason: EndReason) {
        a.onEnd(reason);
        b.onEnd(reason);
      },
    };
  }
}

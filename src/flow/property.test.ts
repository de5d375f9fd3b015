/** Property tests: reassembly yields the original bytes whatever the segmentation and order, and never throws. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Direction } from '../model/flow.js';
import type { Endpoint, Segment, SegmentBuilder } from './testing.js';
import { between, replay } from './testing.js';

const client = { address: '10.0.0.1', port: 40000 };
const server = { address: '10.0.0.2', port: 443 };

/** A direction's stream, its ISN, the cut points, and extra re-sends [start, end) over it. */
const direction = fc
  .record({
    isn: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0xffffff00, max: 0xffffffff })),
    data: fc.uint8Array({ minLength: 0, maxLength: 3000 }),
    cuts: fc.array(fc.nat(), { maxLength: 40 }),
    resends: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 15 }),
  })
  .map(({ isn, data, cuts, resends }) => {
    const length = data.length;
    const points = [...new Set([0, length, ...cuts.map((cut) => (length === 0 ? 0 : cut % (length + 1)))])].sort((a, b) => a - b);
    const ranges: [number, number][] = [];
    for (let i = 1; i < points.length; i++) ranges.push([points[i - 1], points[i]]);
    for (const [a, b] of resends) {
      if (length === 0) break;
      const start = a % length;
      ranges.push([start, start + 1 + (b % (length - start))]);
    }
    return { isn, data: Buffer.from(data), ranges };
  });

/** Data segments that acknowledge only the peer's SYN (an ACK beyond would declare bytes lost). */
function segments(send: SegmentBuilder, isn: number, peerIsn: number, data: Buffer, ranges: [number, number][]): Segment[] {
  return ranges.map(([start, end]) => send('PA', isn + 1 + start, data.subarray(start, end), { ack: peerIsn + 1 }));
}

describe('reassembly properties', () => {
  it('any segmentation, reordering, duplication and overlap yields exactly the original bytes', () => {
    fc.assert(
      fc.property(direction, direction, fc.infiniteStream(fc.nat()), fc.boolean(), (c2s, s2c, randomness, finShuffled) => {
        const [c, s] = between(client, server);
        const data = [...segments(c, c2s.isn, s2c.isn, c2s.data, c2s.ranges), ...segments(s, s2c.isn, c2s.isn, s2c.data, s2c.ranges)];
        const fins = [c('F', c2s.isn + 1 + c2s.data.length), s('F', s2c.isn + 1 + s2c.data.length)];
        const body = finShuffled ? [...data, ...fins] : data;
        // Fisher–Yates with the generated randomness.
        const order = randomness.take(body.length);
        let i = body.length;
        for (const random of order) {
          const j = random % i--;
          [body[i], body[j]] = [body[j], body[i]];
        }
        const { ended, streams } = replay([
          c('S', c2s.isn),
          s('SA', s2c.isn, '', { ack: c2s.isn + 1 }),
          ...body,
          ...(finShuffled ? [] : fins),
        ]);
        expect(ended).toHaveLength(1);
        const stream = streams.get(1)!;
        expect(stream.bytes(0).equals(c2s.data)).toBe(true);
        expect(stream.bytes(1).equals(s2c.data)).toBe(true);
        expect(ended[0].gaps).toEqual([0, 0]);
        expect(ended[0].state).toBe('closed');
        expect(stream.events.filter((event) => event.includes(' gap '))).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary packets; counters match what the handlers saw; everything ends once', () => {
    const endpoints: Endpoint[] = [client, server, { address: '10.0.0.3', port: 443 }];
    const packet = fc.record({
      from: fc.nat({ max: 2 }),
      to: fc.nat({ max: 2 }),
      flags: fc.subarray(['S', 'A', 'F', 'R', 'P']).map((letters) => letters.join('')),
      seq: fc.oneof(fc.integer({ min: 990, max: 1100 }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0xffffffc0, max: 0xffffffff })),
      ack: fc.oneof(fc.integer({ min: 990, max: 1100 }), fc.integer({ min: 0, max: 0xffffffff })),
      length: fc.nat({ max: 60 }),
      cut: fc.nat({ max: 60 }),
      pause: fc.oneof(fc.constant(0.001), fc.double({ min: 0, max: 400, noNaN: true })),
    });
    fc.assert(
      fc.property(fc.array(packet, { maxLength: 80 }), fc.boolean(), (packets, tight) => {
        let ts = 0;
        const segments = packets
          .filter((p) => p.from !== p.to)
          .map((p) => {
            ts += p.pause;
            const [send] = between(endpoints[p.from], endpoints[p.to]);
            const data = Buffer.alloc(Math.max(p.length - p.cut, 0), 0x61 + (p.seq % 26));
            return send(p.flags, p.seq, data, { ack: p.ack, ts, wireLen: p.length });
          });
        const limits = tight ? { outOfOrderBytesPerFlow: 40, heldBytesTotal: 70 } : {};
        const { ended, streams, table } = replay(segments, { limits });
        // Handlers ended before their connection left the table (at close, or quiet after a reset)
        // changed nothing stored, and nothing a handler of a flow that was not reset received.
        const late = replay(segments, { limits, endsAtClose: () => false });
        expect(ended.map((flow) => [flow.id, flow.state, flow.packets, flow.bytes, flow.gaps])).toEqual(
          late.ended.map((flow) => [flow.id, flow.state, flow.packets, flow.bytes, flow.gaps]),
        );
        expect(table.stats).toEqual(late.table.stats);
        for (const flow of ended) {
          const [early, atEnd] = [streams.get(flow.id)!.events, late.streams.get(flow.id)!.events];
          if (flow.state !== 'reset') expect(early).toEqual(atEnd);
          else expect(atEnd.slice(0, early.length - 1)).toEqual(early.slice(0, -1));
        }
        expect(table.size).toBe(0);
        expect(ended.map((flow) => flow.id).sort((a, b) => a - b)).toEqual(Array.from({ length: table.stats.flows }, (_, i) => i + 1));
        let gapBytes = 0;
        for (const flow of ended) {
          const stream = streams.get(flow.id)!;
          expect(stream.endReason).not.toBeNull();
          for (const dir of [0, 1] as Direction[]) {
            const gaps = stream.events.filter((event) => event.startsWith(`${dir === 0 ? 'c2s' : 's2c'} gap `));
            const seen = [stream.bytes(dir).length, gaps.reduce((sum, event) => sum + Number(event.split(' ')[2]), 0)];
            // A reset connection's handler ends once it is quiet (FlowLimits.resetQuiet): what comes later is counted, not seen.
            if (flow.state === 'reset') {
              expect(seen[0]).toBeLessThanOrEqual(flow.bytes[dir]);
              expect(seen[1]).toBeLessThanOrEqual(flow.gaps[dir]);
            } else {
              expect(seen).toEqual([flow.bytes[dir], flow.gaps[dir]]);
            }
          }
          gapBytes += flow.gaps[0] + flow.gaps[1];
        }
        expect(table.stats.gapBytes).toBe(gapBytes);
      }),
      { numRuns: 400 },
    );
  });
});

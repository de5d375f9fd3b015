/**
 * FlowTable.advanceClock: a live capture's wall-clock tick. When traffic stops, a closed
 * connection still ends after its linger and an idle one after its timeout, without a packet to
 * move capture time on; the clock never goes back.
 */
import { describe, expect, it } from 'vitest';
import { between, replay } from './testing.js';

const [c, s] = between({ address: '198.18.0.1', port: 40000 }, { address: '198.18.0.2', port: 6443 });
const T = 1000;

const handshake = [c('S', 1000, '', { ts: T }), s('SA', 5000, '', { ack: 1001, ts: T + 0.001 }), c('A', 1001, '', { ack: 5001, ts: T + 0.002 })];
const closing = [
  c('FA', 1001, '', { ack: 5001, ts: T + 0.01 }),
  s('FA', 5001, '', { ack: 1002, ts: T + 0.011 }),
  c('A', 1002, '', { ack: 5002, ts: T + 0.012 }),
];

describe('advanceClock', () => {
  it('ends a closed connection once its linger has passed on the clock, with no further packet', () => {
    const { table, ended } = replay([...handshake, ...closing], { finish: false });
    table.advanceClock(T + 4);
    expect(ended).toEqual([]);
    table.advanceClock(T + 6);
    expect(ended.map((flow) => [flow.id, flow.state])).toEqual([[1, 'closed']]);
    expect(table.size).toBe(0);
  });

  it('ends an idle established connection after the established timeout, as a timeout', () => {
    const { table, ended } = replay([...handshake, c('PA', 1001, 'ping', { ack: 5001, ts: T + 1 })], { finish: false });
    table.advanceClock(T + 200);
    expect(ended).toEqual([]);
    table.advanceClock(T + 302);
    expect(ended.map((flow) => flow.state)).toEqual(['timeout']);
    expect(table.stats.timeouts).toBe(1);
  });

  it('ends an unanswered SYN after the short timeout', () => {
    const { table, ended } = replay([c('S', 1000, '', { ts: T })], { finish: false });
    table.advanceClock(T + 4);
    expect(ended).toEqual([]);
    table.advanceClock(T + 6);
    expect(ended.map((flow) => flow.state)).toEqual(['half-open']);
  });

  it('never moves the clock back: an older tick ends nothing, and a later packet still counts', () => {
    const { table, ended } = replay([...handshake], { finish: false });
    table.advanceClock(T + 100);
    table.advanceClock(T - 1000);
    expect(ended).toEqual([]);
    expect(table.size).toBe(1);
  });

  it('honours the sweep interval: the linger is checked at the next sweep, not at every tick', () => {
    // The first packet sweeps (at T); the next sweep is due at T + 40, long after the linger.
    const { table, ended } = replay([...handshake, ...closing], { finish: false, limits: { sweepInterval: 40 } });
    table.advanceClock(T + 35);
    expect(ended).toEqual([]);
    table.advanceClock(T + 40);
    expect(ended.map((flow) => flow.state)).toEqual(['closed']);
  });
});

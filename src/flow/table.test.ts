/** Connection tracking: states, directions, port reuse, timeouts, keys. */
import { describe, expect, it } from 'vitest';
import type { FlowRecord } from '../model/flow.js';
import type { Segment } from './testing.js';
import { FlowTable } from './table.js';
import { RecordingFactory, between, replay, toPacket } from './testing.js';

const client = { address: '10.0.0.1', port: 40000 };
const server = { address: '10.0.0.2', port: 443 };
const [c, s] = between(client, server);

function handshake(clientIsn = 1000, serverIsn = 5000, ts?: number): Segment[] {
  return [
    c('S', clientIsn, '', { ts }),
    s('SA', serverIsn, '', { ack: clientIsn + 1 }),
    c('A', clientIsn + 1, '', { ack: serverIsn + 1 }),
  ];
}

function closing(clientSeq: number, serverSeq: number): Segment[] {
  return [c('FA', clientSeq, '', { ack: serverSeq }), s('FA', serverSeq, '', { ack: clientSeq + 1 }), c('A', clientSeq + 1, '', { ack: serverSeq + 1 })];
}

/** The fields a test cares about. */
function summary(flow: FlowRecord) {
  const { id, src, sport, dst, dport, packets, bytes, state, orientation, firstPacket } = flow;
  return { id, src, sport, dst, dport, packets, bytes, state, orientation, firstPacket };
}

describe('connection state', () => {
  it('a whole connection: handshake, data, FIN both ways → closed', () => {
    const { ended, streams } = replay([...handshake(), c('PA', 1001, 'ping', { ack: 5001 }), s('PA', 5001, 'pong!', { ack: 1005 }), ...closing(1005, 5006)]);
    expect(ended.map(summary)).toEqual([
      { id: 1, src: '10.0.0.1', sport: 40000, dst: '10.0.0.2', dport: 443, packets: [5, 3], bytes: [4, 5], state: 'closed', orientation: 'syn', firstPacket: 1 },
    ]);
    expect(streams.get(1)!.events).toEqual(['c2s "ping"', 's2c "pong!"', 'end fin']);
  });

  it('SYN and its retries, never answered → half-open, one flow', () => {
    const { ended } = replay([c('S', 1000, '', { ts: 10 }), c('S', 1000, '', { ts: 11 }), c('S', 1000, '', { ts: 13 })]);
    expect(ended.map(summary)).toEqual([
      { id: 1, src: '10.0.0.1', sport: 40000, dst: '10.0.0.2', dport: 443, packets: [3, 0], bytes: [0, 0], state: 'half-open', orientation: 'syn', firstPacket: 1 },
    ]);
    expect(ended[0].firstTs).toBe(10);
    expect(ended[0].lastTs).toBe(13);
  });

  it('SYN answered by RST → reset', () => {
    const { ended, streams } = replay([c('S', 1000), s('RA', 0, '', { ack: 1001 })]);
    expect(ended.map((flow) => [flow.state, flow.packets])).toEqual([['reset', [1, 1]]]);
    expect(streams.get(1)!.endReason).toBe('rst');
  });

  it('SYN-ACK without the SYN: its sender is the server', () => {
    const { ended } = replay([s('SA', 5000, '', { ack: 1001 }), c('A', 1001, '', { ack: 5001 }), c('PA', 1001, 'x')]);
    expect(ended.map(summary)).toEqual([
      { id: 1, src: '10.0.0.1', sport: 40000, dst: '10.0.0.2', dport: 443, packets: [2, 1], bytes: [1, 0], state: 'established', orientation: 'syn', firstPacket: 1 },
    ]);
  });

  it('simultaneous open: one flow, the first SYN is the client', () => {
    const { ended } = replay([
      c('S', 1000),
      s('S', 5000),
      s('SA', 5000, '', { ack: 1001 }),
      c('SA', 1000, '', { ack: 5001 }),
      c('PA', 1001, 'hi', { ack: 5001 }),
      s('PA', 5001, 'yo', { ack: 1003 }),
    ]);
    expect(ended.map(summary)).toEqual([
      { id: 1, src: '10.0.0.1', sport: 40000, dst: '10.0.0.2', dport: 443, packets: [3, 3], bytes: [2, 2], state: 'established', orientation: 'syn', firstPacket: 1 },
    ]);
  });

  it('a RST after both FINs leaves the connection closed; a RST before them makes it reset', () => {
    expect(replay([...handshake(), ...closing(1001, 5001), c('R', 1002)]).ended[0].state).toBe('closed');
    expect(replay([...handshake(), c('FA', 1001, '', { ack: 5001 }), s('R', 5001)]).ended[0].state).toBe('reset');
  });
});

describe('port reuse', () => {
  it('a new SYN with another ISN after FINs is a new flow; late packets before it stay on the old one', () => {
    const { ended, streams } = replay([
      ...handshake(1000, 5000),
      c('PA', 1001, 'one', { ack: 5001 }),
      ...closing(1004, 5001),
      s('A', 5002, '', { ack: 1005 }), // a late duplicate ACK: still the old flow
      ...handshake(90000, 70000),
      c('PA', 90001, 'two', { ack: 70001 }),
    ]);
    expect(ended.map((flow) => [flow.id, flow.state, flow.packets, flow.firstPacket])).toEqual([
      [1, 'closed', [5, 3], 1],
      [2, 'established', [3, 1], 9],
    ]);
    expect(streams.get(1)!.events).toEqual(['c2s "one"', 'end fin']);
    expect(streams.get(2)!.events).toEqual(['c2s "two"', 'end eof']);
  });

  it('a new SYN after a RST is a new flow, even with the same ISN (tshark)', () => {
    const { ended, table } = replay([c('S', 1000), s('RA', 0, '', { ack: 1001 }), c('S', 1000), s('RA', 0, '', { ack: 1001 })]);
    expect(ended.map((flow) => [flow.id, flow.state, flow.packets])).toEqual([
      [1, 'reset', [1, 1]],
      [2, 'reset', [1, 1]],
    ]);
    expect(table.stats.portReuses).toBe(1);
  });

  it('a SYN with another ISN while established starts a new flow (tshark), the old one evicted', () => {
    const { ended, streams } = replay([...handshake(1000, 5000), c('S', 3000)]);
    expect(ended.map((flow) => [flow.id, flow.state])).toEqual([
      [1, 'established'],
      [2, 'half-open'],
    ]);
    expect(streams.get(1)!.endReason).toBe('evicted');
  });

  it('a new SYN from the former server side makes it the client', () => {
    const { ended } = replay([...handshake(), ...closing(1001, 5001), s('S', 777)]);
    expect(ended.map((flow) => [flow.id, flow.src, flow.sport])).toEqual([
      [1, '10.0.0.1', 40000],
      [2, '10.0.0.2', 443],
    ]);
  });
});

describe('mid-stream pickup', () => {
  const clientHello = Buffer.from('16030100f8010000f40303', 'hex');
  const serverHello = Buffer.from('160303005a0200005603', 'hex');
  // The server listens on the higher port here, so the port rule would get these wrong.
  const [high, low] = between({ address: '10.0.0.9', port: 8443 }, { address: '10.0.0.8', port: 1234 });

  it('the sender of a ClientHello is the client, even after pure ACKs from both sides', () => {
    const { ended, streams } = replay([high('A', 100, '', { ack: 200 }), low('A', 200, '', { ack: 100 }), low('PA', 200, clientHello, { ack: 100 })]);
    expect(ended.map(summary)).toEqual([
      { id: 1, src: '10.0.0.8', sport: 1234, dst: '10.0.0.9', dport: 8443, packets: [2, 1], bytes: [11, 0], state: 'established', orientation: 'content', firstPacket: 1 },
    ]);
    expect(streams.get(1)!.events).toEqual([`c2s ${JSON.stringify(clientHello.toString('latin1'))}`, 'end eof']);
  });

  it('the sender of a ServerHello is the server', () => {
    const { ended } = replay([low('A', 200, '', { ack: 100 }), high('PA', 100, serverHello, { ack: 200 })]);
    expect(ended.map((flow) => [flow.src, flow.sport, flow.orientation, flow.packets])).toEqual([['10.0.0.8', 1234, 'content', [1, 1]]]);
  });

  it('the sender of an HTTP request is the client, of an HTTP response the server', () => {
    expect(replay([low('PA', 200, 'GET / HTTP/1.1\r\n')]).ended.map((flow) => [flow.sport, flow.state])).toEqual([[1234, 'half-open']]);
    expect(replay([high('PA', 100, 'HTTP/1.1 200 OK\r\n')]).ended.map((flow) => flow.sport)).toEqual([1234]);
  });

  it('an SSH banner, or no payload at all, leaves it to the port: the higher port is the client', () => {
    const ssh = replay([low('PA', 200, 'SSH-2.0-OpenSSH_9.6\r\n'), high('PA', 100, 'SSH-2.0-x\r\n', { ack: 221 })]);
    expect(ssh.ended.map((flow) => [flow.src, flow.sport, flow.orientation, flow.packets, flow.bytes])).toEqual([['10.0.0.9', 8443, 'port', [1, 1], [11, 21]]]);
    const silent = replay([low('A', 200, '', { ack: 100 }), low('FA', 200, '', { ack: 100 })]);
    expect(silent.ended.map((flow) => [flow.sport, flow.orientation, flow.packets])).toEqual([[8443, 'port', [0, 2]]]);
    expect(silent.streams.get(1)!.endReason).toBe('eof');
  });
});

describe('timeouts on capture time', () => {
  const [c2] = between({ address: '10.0.0.3', port: 40001 }, server);

  it('an established flow ends after 300 s idle with state timeout; a half-open one after 5 s', () => {
    const { ended, streams } = replay(
      [
        ...handshake(1000, 5000, 100),
        c2('S', 2000, '', { ts: 100 }),
        c2('S', 2000, '', { ts: 104 }), // a retry: 4 s idle, still alive
        c('PA', 1001, 'still here', { ts: 106, ack: 5001 }),
        c2('S', 2000, '', { ts: 110 }), // 6 s after the retry: flow 2 timed out, this is flow 3
        c('PA', 1011, 'late', { ts: 416 }), // 310 s idle: flow 1 timed out, this is a new mid-stream flow 4
      ],
      { finish: false },
    );
    expect(ended.map((flow) => [flow.id, flow.state, flow.packets, flow.lastTs])).toEqual([
      [2, 'half-open', [2, 0], 104],
      [1, 'timeout', [3, 1], 106],
      [3, 'half-open', [1, 0], 110],
    ]);
    expect(streams.get(1)!.events).toEqual(['c2s "still here"', 'end timeout']);
    expect(streams.get(2)!.endReason).toBe('timeout');
  });

  it('a one-sided mid-stream pickup gets the established timeout (tshark keeps it one stream)', () => {
    const { ended } = replay([c('PA', 1001, 'x', { ts: 10 }), c('RA', 1002, '', { ts: 51 }), c('PA', 2000, 'y', { ts: 400 })]);
    expect(ended.map((flow) => [flow.id, flow.state, flow.packets])).toEqual([
      [1, 'reset', [2, 0]],
      [2, 'half-open', [1, 0]],
    ]);
  });

  it('a closed flow lingers 5 s, then ends with reason fin; a packet within the linger still counts on it', () => {
    const [c3] = between({ address: '10.0.0.4', port: 40002 }, server);
    const { ended, streams, table } = replay(
      [
        ...handshake(1000, 5000, 0),
        ...closing(1001, 5001),
        s('FA', 5001, '', { ack: 1002, ts: 4 }), // a retransmitted FIN
        c3('S', 1, '', { ts: 8.5 }),
        c3('S', 1, '', { ts: 9.5 }),
      ],
      { finish: false },
    );
    expect(ended.map((flow) => [flow.id, flow.state, flow.packets])).toEqual([[1, 'closed', [4, 3]]]);
    expect(streams.get(1)!.endReason).toBe('fin');
    expect(table.stats.timeouts).toBe(0);
  });
});

describe('the analysis of a connection that closed or was reset, ended before it leaves the table', () => {
  const exchange = (): Segment[] => [...handshake(1000, 5000, 0), c('PA', 1001, 'ping', { ack: 5001 }), s('PA', 5001, 'pong!', { ack: 1005 })];

  it('ends when both FINs are delivered, while the connection lingers for late packets', () => {
    const { ended, streams, table } = replay([...exchange(), ...closing(1005, 5006)], { finish: false });
    expect(streams.get(1)!.events).toEqual(['c2s "ping"', 's2c "pong!"', 'end fin']);
    expect(ended).toEqual([]);
    expect(table.size).toBe(1);
  });

  it('counts late packets on the record; the flow leaves the table after its linger, its handler ended once', () => {
    const [c3] = between({ address: '10.0.0.4', port: 40002 }, server);
    const { ended, streams } = replay(
      [...exchange(), ...closing(1005, 5006), s('PA', 5001, 'pong!', { ack: 1006, ts: 2 }), c3('S', 1, '', { ts: 9 })],
      { finish: false },
    );
    expect(ended.map((flow) => [flow.id, flow.state, flow.packets, flow.bytes])).toEqual([[1, 'closed', [5, 4], [4, 5]]]);
    expect(streams.get(1)!.events).toEqual(['c2s "ping"', 's2c "pong!"', 'end fin']);
  });

  it('waits for a hole before a FIN to be filled (or skipped) before it ends', () => {
    const segments = [
      ...handshake(1000, 5000, 0),
      c('PA', 1005, 'pong', { ack: 5001 }), // ahead of a hole: "ping" not seen yet
      c('FA', 1009, '', { ack: 5001 }),
      s('FA', 5001, '', { ack: 1001 }), // both FINs; the server has not acknowledged the missing bytes
    ];
    const open = replay(segments, { finish: false });
    expect(open.streams.get(1)!.endReason).toBeNull();
    const filled = replay([...segments, c('PA', 1001, 'ping', { ack: 5002 })], { finish: false });
    expect(filled.streams.get(1)!.events).toEqual(['c2s "ping"', 'c2s "pong"', 'end fin']);
  });

  /** A replay as it goes, and as it went when every handler ended with its connection: handler events, record counts. */
  function sameAsEndingLate(segments: Segment[]) {
    const outcome = (run: ReturnType<typeof replay>) => ({
      events: [...run.streams.values()].map((stream) => stream.events),
      flows: run.ended.map((flow) => [flow.id, flow.bytes, flow.gaps]),
      retransmitted: run.table.stats.retransmittedBytes,
    });
    expect(outcome(replay(segments))).toEqual(outcome(replay(segments, { endsAtClose: () => false })));
  }

  it('waits while data is held past a hole that a FIN behind it leaves, or an ACK beyond the FIN may report', () => {
    sameAsEndingLate([
      ...handshake(1000, 5000, 0),
      c('PA', 1001, 'ping', { ack: 5001 }),
      c('PA', 1010, 'late', { ack: 5001 }), // held after a hole
      c('FA', 1003, '', { ack: 5001 }), // a FIN behind what was delivered: consumed at once, the held piece stays
      s('FA', 5001, '', { ack: 1004 }),
      c('A', 1004, '', { ack: 5002 }),
    ]);
    sameAsEndingLate([
      ...handshake(1000, 5000, 0),
      c('PA', 1001, 'ping', { ack: 5001 }),
      c('FA', 1010, '', { ack: 5001 }), // a hole before the FIN
      s('A', 5001, '', { ack: 1020 }), // acknowledged beyond the FIN: the hole is skipped, the ACK stays ahead
      s('FA', 5001, '', { ack: 1020 }),
      c('PA', 1015, 'zz', { ack: 5002 }), // past the FIN
    ]);
  });

  it('a reset connection still holding data waits for its end, where a late retransmission may still fill the hole', () => {
    const [c3] = between({ address: '10.0.0.4', port: 40002 }, server);
    sameAsEndingLate([
      ...handshake(1000, 5000, 10),
      c('PA', 1001, 'ping', { ack: 5001 }),
      c('PA', 1009, 'pong', { ack: 5001 }), // held after a hole
      c('RA', 1013, '', { ack: 5001 }),
      c3('S', 1, '', { ts: 11.5 }), // a sweep finds the reset connection quiet
      c('PA', 1005, 'xxxx', { ack: 5001, ts: 12 }), // the hole, retransmitted within the linger
    ]);
  });

  it('stays with the flow until it leaves the table when endsAtClose says no (keys may still come)', () => {
    const asked: number[] = [];
    const { ended, streams } = replay([...exchange(), ...closing(1005, 5006)], { finish: false, endsAtClose: () => (asked.push(1), false) });
    expect(asked.length).toBeGreaterThan(0);
    expect(streams.get(1)!.endReason).toBeNull();
    expect(ended).toEqual([]);
  });

  it('a reset connection keeps its handler while its peer\'s data may still come, then ends it once quiet for 1 s', () => {
    const [c3] = between({ address: '10.0.0.4', port: 40002 }, server);
    const afterReset = [...exchange(), c('RA', 1005, '', { ack: 5006 }), s('PA', 5006, 'late', { ack: 1005 })];
    const { streams } = replay(afterReset, { finish: false });
    expect(streams.get(1)!.events).toEqual(['c2s "ping"', 's2c "pong!"', 's2c "late"']);
    // Another connection's packet moves capture time on: the sweep finds the reset one quiet.
    const quiet = replay([...afterReset, c3('S', 1, '', { ts: 1.5 })], { finish: false });
    expect(quiet.streams.get(1)!.events).toEqual(['c2s "ping"', 's2c "pong!"', 's2c "late"', 'end rst']);
    expect(quiet.ended).toEqual([]);
    const lingered = replay([...afterReset, c3('S', 1, '', { ts: 1.5 }), s('A', 5010, '', { ack: 1005, ts: 2 }), c3('S', 1, '', { ts: 7.5 })], { finish: false });
    expect(lingered.ended.filter((flow) => flow.id === 1).map((flow) => [flow.state, flow.packets])).toEqual([['reset', [4, 4]]]);
    expect(lingered.streams.get(1)!.endReason).toBe('rst');
    const keyed = replay([...afterReset, c3('S', 1, '', { ts: 1.5 })], { finish: false, endsAtClose: () => false });
    expect(keyed.streams.get(1)!.endReason).toBeNull();
  });
});

describe('keys', () => {
  it('VLANs and tunnels keep otherwise identical 4-tuples apart; both directions meet', () => {
    const tunnel = { kind: 'vxlan' as const, outerSrc: '192.0.2.1', outerDst: '192.0.2.2', vni: 42 };
    const reversedTunnel = { ...tunnel, outerSrc: tunnel.outerDst, outerDst: tunnel.outerSrc };
    const { ended } = replay([
      c('S', 1000),
      c('S', 2000, '', { vlan: 7 }),
      s('SA', 6000, '', { ack: 2001, vlan: 7 }),
      c('S', 3000, '', { tunnel }),
      s('SA', 7000, '', { ack: 3001, tunnel: reversedTunnel }),
    ]);
    expect(ended.map((flow) => [flow.id, flow.vlan, flow.tunnel?.vni ?? null, flow.state])).toEqual([
      [1, -1, null, 'half-open'],
      [2, 7, null, 'established'],
      [3, -1, 42, 'established'],
    ]);
  });

  it('IPv6 endpoints', () => {
    const [v6client, v6server] = between({ address: '2001:db8::1', port: 50000 }, { address: '2001:db8::a', port: 6443 });
    const { ended } = replay([v6server('SA', 5, '', { ack: 9 }), v6client('PA', 9, 'GET / HTTP/1.1\r\n', { ack: 6 })]);
    expect(ended.map((flow) => [flow.src, flow.sport, flow.dst, flow.dport, flow.packets, flow.bytes])).toEqual([
      ['2001:db8::1', 50000, '2001:db8::a', 6443, [1, 1], [16, 0]],
    ]);
  });

  it('ignores what is not TCP', () => {
    const ended: FlowRecord[] = [];
    const table = new FlowTable({ factory: new RecordingFactory(), onFlowEnd: (flow) => ended.push(flow) });
    const udp = toPacket(c('S', 1000));
    udp.proto = 17;
    table.packet(udp, { index: 1, ts: 1, linktype: 1, buf: udp.buf, offset: 0, caplen: 0, origlen: 0, iface: 0 });
    table.finish();
    expect(ended).toEqual([]);
    expect(table.stats.packets).toBe(0);
  });
});

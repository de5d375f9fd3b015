/**
 * Table-driven reassembly: segments in, the exact events a handler sees out (bytes, gaps, their
 * order), and the flow's counters. ISNs: client 1000 (data from 1001), server 5000 (data from 5001).
 */
import { describe, expect, it } from 'vitest';
import type { Segment } from './testing.js';
import { between, replay } from './testing.js';

const client = { address: '10.0.0.1', port: 40000 };
const server = { address: '10.0.0.2', port: 443 };
const [c, s] = between(client, server);

function handshake(clientIsn = 1000, serverIsn = 5000): Segment[] {
  return [c('S', clientIsn), s('SA', serverIsn, '', { ack: clientIsn + 1 }), c('A', clientIsn + 1, '', { ack: serverIsn + 1 })];
}

interface Case {
  name: string;
  segments: Segment[];
  events: string[];
  bytes?: [number, number];
  gaps?: [number, number];
  retransmittedBytes?: number;
  outOfOrderSegments?: number;
}

const cases: Case[] = [
  {
    name: 'in order, both directions',
    segments: [...handshake(), c('PA', 1001, 'hello '), c('PA', 1007, 'world'), s('PA', 5001, 'ok', { ack: 1012 })],
    events: ['c2s "hello "', 'c2s "world"', 's2c "ok"', 'end eof'],
    bytes: [11, 2],
    gaps: [0, 0],
  },
  {
    name: 'sequence numbers wrap around 2^32',
    segments: [...handshake(0xfffffffa, 0xffffffff), c('PA', 0xfffffffb, 'abcde'), c('PA', 0, 'fghij'), c('PA', 5, 'kl'), s('PA', 0, 'xyz')],
    events: ['c2s "abcde"', 'c2s "fghij"', 'c2s "kl"', 's2c "xyz"', 'end eof'],
    bytes: [12, 3],
  },
  {
    name: 'out of order across the wrap',
    segments: [...handshake(0xfffffffa), c('PA', 2, 'HIJ'), c('PA', 0xfffffffb, 'abcde'), c('PA', 0, 'FG')],
    events: ['c2s "abcde"', 'c2s "FG"', 'c2s "HIJ"', 'end eof'],
    outOfOrderSegments: 1,
  },
  {
    name: 'retransmission is dropped',
    segments: [...handshake(), c('PA', 1001, 'hello'), c('PA', 1001, 'hello'), c('PA', 1006, '!')],
    events: ['c2s "hello"', 'c2s "!"', 'end eof'],
    bytes: [6, 0],
    retransmittedBytes: 5,
  },
  {
    name: 'partial overlap at the front: only the new bytes',
    segments: [...handshake(), c('PA', 1001, 'hello'), c('PA', 1004, 'LO world')],
    events: ['c2s "hello"', 'c2s " world"', 'end eof'],
    bytes: [11, 0],
    retransmittedBytes: 2,
  },
  {
    name: 'partial overlap at the back of a held segment: first-seen bytes win',
    segments: [...handshake(), c('PA', 1007, 'WORLD'), c('PA', 1001, 'hello wo')],
    events: ['c2s "hello "', 'c2s "WORLD"', 'end eof'],
    bytes: [11, 0],
    retransmittedBytes: 2,
    outOfOrderSegments: 1,
  },
  {
    name: 'a segment over held ones fills only the holes between them',
    segments: [...handshake(), c('PA', 1002, 'b'), c('PA', 1004, 'd'), c('PA', 1001, 'ABCDEF')],
    events: ['c2s "A"', 'c2s "b"', 'c2s "C"', 'c2s "d"', 'c2s "EF"', 'end eof'],
    bytes: [6, 0],
    retransmittedBytes: 2,
  },
  {
    name: 'full overlap of delivered bytes inside a longer segment',
    segments: [...handshake(), c('PA', 1001, 'abc'), c('PA', 1002, 'B'), c('PA', 1001, 'abcdef')],
    events: ['c2s "abc"', 'c2s "def"', 'end eof'],
    retransmittedBytes: 4,
  },
  {
    name: 'reordering',
    segments: [...handshake(), c('PA', 1008, 'ghi'), c('PA', 1005, 'def'), c('PA', 1001, 'abcd')],
    events: ['c2s "abcd"', 'c2s "def"', 'c2s "ghi"', 'end eof'],
    outOfOrderSegments: 2,
  },
  {
    name: 'loss, then the peer ACKs beyond the hole: a gap, then the held bytes, at once',
    segments: [...handshake(), c('PA', 1001, 'aaa'), c('PA', 1007, 'ccc'), s('PA', 5001, 'x', { ack: 1010 }), c('PA', 1004, 'bbb')],
    // The packet's own data first, then its ACK.
    events: ['c2s "aaa"', 's2c "x"', 'c2s gap 3', 'c2s "ccc"', 'end eof'],
    bytes: [6, 1],
    gaps: [3, 0],
    retransmittedBytes: 3,
  },
  {
    name: 'an ACK beyond several holes and the FIN skips them all at once',
    segments: [...handshake(), c('PA', 1001, 'a'), c('PA', 1003, 'c'), c('FPA', 1005, 'e'), s('A', 5001, '', { ack: 1007 }), c('PA', 1002, 'B')],
    events: ['c2s "a"', 'c2s gap 1', 'c2s "c"', 'c2s gap 1', 'c2s "e"', 'end eof'],
    gaps: [2, 0],
    retransmittedBytes: 1,
  },
  {
    name: 'an ACK only part-way into the hole skips that part and waits for the rest',
    segments: [...handshake(), c('PA', 1001, 'aaa'), c('PA', 1010, 'ddd'), s('A', 5001, '', { ack: 1005 }), c('PA', 1005, 'cc'), c('PA', 1007, 'CCC')],
    events: ['c2s "aaa"', 'c2s gap 1', 'c2s "cc"', 'c2s "CCC"', 'c2s "ddd"', 'end eof'],
    gaps: [1, 0],
  },
  {
    name: 'tail loss: the ACK comes first, the gap when later data arrives',
    segments: [...handshake(), c('PA', 1001, 'aaa'), s('A', 5001, '', { ack: 1007 }), c('PA', 1007, 'ccc')],
    events: ['c2s "aaa"', 'c2s gap 3', 'c2s "ccc"', 'end eof'],
    gaps: [3, 0],
  },
  {
    name: 'tail loss acknowledged and nothing after it: a gap when the flow ends',
    segments: [...handshake(), c('PA', 1001, 'aaa'), s('A', 5001, '', { ack: 1007 })],
    events: ['c2s "aaa"', 'c2s gap 3', 'end eof'],
    gaps: [3, 0],
  },
  {
    name: 'loss then FIN, the FIN acknowledged: the hole is a gap',
    segments: [...handshake(), c('PA', 1001, 'aaa'), c('FPA', 1007, 'ccc'), s('FA', 5001, '', { ack: 1011 }), c('A', 1011, '', { ack: 5002 })],
    events: ['c2s "aaa"', 'c2s gap 3', 'c2s "ccc"', 'end fin'],
    gaps: [3, 0],
  },
  {
    name: 'loss then FIN, never acknowledged: the hole is a gap when the flow ends',
    segments: [...handshake(), c('PA', 1001, 'aaa'), c('FPA', 1007, 'ccc')],
    events: ['c2s "aaa"', 'c2s gap 3', 'c2s "ccc"', 'end eof'],
    gaps: [3, 0],
  },
  {
    name: 'a FIN reordered ahead of the last data waits for it',
    segments: [...handshake(), c('PA', 1001, 'aaa'), c('FA', 1007), c('PA', 1004, 'bbb'), s('FA', 5001, '', { ack: 1008 })],
    events: ['c2s "aaa"', 'c2s "bbb"', 'end fin'],
    gaps: [0, 0],
  },
  {
    name: 'data past the FIN is not stream data',
    segments: [...handshake(), c('FPA', 1001, 'abc'), c('PA', 1004, 'junk')],
    events: ['c2s "abc"', 'end eof'],
    bytes: [3, 0],
  },
  {
    name: 'keep-alives (one old byte, or none, at nextSeq - 1) leave the stream alone',
    segments: [...handshake(), c('PA', 1001, 'hello'), c('A', 1005, 'X'), c('A', 1005), s('A', 5001, '', { ack: 1006 }), c('PA', 1006, '!')],
    events: ['c2s "hello"', 'c2s "!"', 'end eof'],
    bytes: [6, 0],
    gaps: [0, 0],
  },
  {
    name: 'zero-window probe: its byte once, then the rest of the retransmission',
    segments: [...handshake(), c('PA', 1001, 'abc'), s('A', 5001, '', { ack: 1004 }), c('A', 1004, 'd'), c('A', 1004, 'd'), c('PA', 1004, 'defg')],
    events: ['c2s "abc"', 'c2s "d"', 'c2s "efg"', 'end eof'],
    bytes: [7, 0],
    retransmittedBytes: 2,
  },
  {
    name: 'data on a SYN (TCP Fast Open) is data, once',
    segments: [c('S', 1000, 'GET / '), c('S', 1000, 'GET / '), s('SA', 5000, '', { ack: 1007 }), c('PA', 1007, 'HTTP/1.1')],
    events: ['c2s "GET / "', 'c2s "HTTP/1.1"', 'end eof'],
    bytes: [14, 0],
  },
  {
    name: 'a segment cut by the snaplen: captured part delivered, the rest a gap',
    segments: [...handshake(), c('PA', 1001, 'abcd', { wireLen: 10 }), c('PA', 1011, 'klm')],
    events: ['c2s "abcd"', 'c2s gap 6', 'c2s "klm"', 'end eof'],
    bytes: [7, 0],
    gaps: [6, 0],
  },
  {
    name: 'a held segment cut by the snaplen keeps its place in sequence space',
    segments: [...handshake(), c('PA', 1011, 'klm'), c('PA', 1004, 'de', { wireLen: 7 }), c('PA', 1001, 'abc'), c('PA', 1006, 'FGHIJ')],
    events: ['c2s "abc"', 'c2s "de"', 'c2s gap 5', 'c2s "klm"', 'end eof'],
    bytes: [8, 0],
    gaps: [5, 0],
    retransmittedBytes: 5,
  },
  {
    name: 'a RST ends the stream where it is; its payload is not data',
    segments: [...handshake(), c('PA', 1001, 'abc'), s('RA', 5001, 'diagnostic', { ack: 1004 }), c('PA', 1004, 'def')],
    events: ['c2s "abc"', 'c2s "def"', 'end rst'],
    bytes: [6, 0],
  },
];

describe('reassembly', () => {
  it.each(cases)('$name', (testCase) => {
    const { ended, streams, table } = replay(testCase.segments);
    expect(ended).toHaveLength(1);
    const [flow] = ended;
    expect(streams.get(flow.id)!.events).toEqual(testCase.events);
    if (testCase.bytes) expect(flow.bytes).toEqual(testCase.bytes);
    if (testCase.gaps) expect(flow.gaps).toEqual(testCase.gaps);
    if (testCase.retransmittedBytes !== undefined) expect(table.stats.retransmittedBytes).toBe(testCase.retransmittedBytes);
    if (testCase.outOfOrderSegments !== undefined) expect(table.stats.outOfOrderSegments).toBe(testCase.outOfOrderSegments);
    // The counters are what the handler saw.
    const stream = streams.get(flow.id)!;
    expect(flow.bytes).toEqual([stream.bytes(0).length, stream.bytes(1).length]);
    expect(table.stats.gapBytes).toBe(flow.gaps[0] + flow.gaps[1]);
  });
});

describe('budgets', () => {
  it('a flow over its out-of-order budget skips its first hole and delivers what follows', () => {
    const { ended, streams, table } = replay(
      [...handshake(), c('PA', 1001, 'a'), c('PA', 1005, 'eeee'), c('PA', 1012, 'llll'), c('PA', 1020, 'tttt'), c('PA', 1002, 'bcd')],
      { limits: { outOfOrderBytesPerFlow: 10 } },
    );
    // 12 bytes held > 10: the first hole goes; the rest are skipped when the flow ends.
    expect(streams.get(1)!.events).toEqual(['c2s "a"', 'c2s gap 3', 'c2s "eeee"', 'c2s gap 3', 'c2s "llll"', 'c2s gap 4', 'c2s "tttt"', 'end eof']);
    expect(ended[0].gaps).toEqual([10, 0]);
    expect(ended[0].bytes).toEqual([13, 0]);
    expect(table.stats.flowBudgetOverflows).toBe(1);
    expect(table.stats.retransmittedBytes).toBe(3);
  });

  it('over the total budget, the oldest holders are flushed first', () => {
    const [c2] = between({ address: '10.0.0.3', port: 40001 }, server);
    const segments = [
      ...handshake(),
      c('PA', 1011, 'first holder'),
      c2('S', 2000),
      c2('PA', 2011, 'second'),
      c2('PA', 2031, 'more'),
    ];
    const { table, streams } = replay(segments, { limits: { heldBytesTotal: 20 }, finish: false });
    expect(table.stats.totalBudgetOverflows).toBe(1);
    expect(streams.get(1)!.events).toEqual(['c2s gap 10', 'c2s "first holder"']);
    expect(streams.get(2)!.events).toEqual([]);
    table.finish();
    expect(streams.get(2)!.events).toEqual(['c2s gap 10', 'c2s "second"', 'c2s gap 14', 'c2s "more"', 'end eof']);
  });
});

describe('packet numbers', () => {
  // replay() numbers packets from 1: the three of handshake() are 1 to 3.
  const chunksOf = (segments: Segment[]): string[] => {
    const stream = replay(segments).streams.get(1)!;
    return stream.received[0].map((chunk, i) => `${chunk.toString('latin1')}@${stream.packets[0][i]}`);
  };

  it('in-order data carries its own packet; held data, the packet that filled the hole before it', () => {
    const segments = [...handshake(), c('PA', 1001, 'ab'), c('PA', 1005, 'ef'), c('PA', 1007, 'gh'), c('PA', 1003, 'cd'), c('PA', 1009, 'ij')];
    expect(chunksOf(segments)).toEqual(['ab@4', 'cd@7', 'ef@7', 'gh@7', 'ij@8']);
  });

  it('held data after a hole that is skipped keeps the packet that carried it', () => {
    // Skipped because the peer acknowledged beyond it (packet 6), then because the flow ended.
    const segments = [...handshake(), c('PA', 1001, 'aaa'), c('PA', 1007, 'ccc'), s('PA', 5001, 'x', { ack: 1010 }), c('PA', 1013, 'eee')];
    expect(chunksOf(segments)).toEqual(['aaa@4', 'ccc@5', 'eee@7']);
  });

  it('held data after a hole skipped for the budget keeps the packet that carried it', () => {
    const { streams } = replay([...handshake(), c('PA', 1001, 'a'), c('PA', 1005, 'eeee'), c('PA', 1012, 'llll'), c('PA', 1020, 'tttt')], {
      limits: { outOfOrderBytesPerFlow: 10 },
    });
    expect(streams.get(1)!.packets[0]).toEqual([4, 5, 6, 7]);
  });
});

/** The dispatcher: the protocol is told by whichever side speaks clearly, and bytes reach its analyzer in order. */
import { describe, expect, it } from 'vitest';
import type { Direction, FlowRecord } from '../model/flow.js';
import { AnalyzerFactory } from './index.js';
import { C, HS, S, clientHello, sni } from './tls/testing.js';

function flowRecord(): FlowRecord {
  return {
    id: 1, src: '198.18.0.10', sport: 51000, dst: '198.18.0.21', dport: 10250, vlan: -1, tunnel: null,
    firstTs: 1_700_000_000, lastTs: 1_700_000_000, firstPacket: 1,
    packets: [0, 0], bytes: [0, 0], gaps: [0, 0], state: 'established', orientation: 'syn',
  };
}

type Step = [Direction, string | Buffer] | ['gap', Direction, number];

function play(steps: Step[]) {
  const factory = new AnalyzerFactory();
  const flow = flowRecord();
  const handler = factory.open(flow);
  for (const [index, step] of steps.entries()) {
    if (step[0] === 'gap') handler.onGap(step[1], step[2]);
    else handler.onData(step[0], Buffer.isBuffer(step[1]) ? step[1] : Buffer.from(step[1], 'latin1'), 1_700_000_000, index + 1);
  }
  handler.onEnd('fin');
  return factory.take(flow);
}

describe('FlowAnalyzer', () => {
  it('tells TLS from a ClientHello that arrives a byte at a time', () => {
    const hello = HS.record(clientHello({ extensions: [sni('node1')] }));
    const analysis = play([...hello].map((byte): Step => [C, Buffer.from([byte])]));
    expect(analysis.protocol).toBe('tls');
    expect(analysis.tls?.sni).toBe('node1');
  });

  it("lets the server's response tell HTTP when the client's first bytes are the middle of a body", () => {
    const analysis = play([
      [C, 'xxxx of a request body picked up mid-stream'],
      [S, 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'],
      [C, 'GET /pods HTTP/1.1\r\nhost: 198.18.0.21:10250\r\n\r\n'],
      [S, 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'],
    ]);
    expect(analysis.protocol).toBe('http');
    // The client's unrecognised bytes reach the HTTP analyzer as a gap: it does not invent a request.
    expect(analysis.http?.requests.map((r) => r.target)).toEqual([]);
    expect(analysis.http?.stopped).toMatch(/gap/);
  });

  it('is unknown when both sides say nothing it knows, and when a gap comes first', () => {
    expect(play([[C, '\x00\x01binary protocol of some kind'], [S, '\x00\x02binary answer, long enough']]).protocol).toBe('unknown');
    expect(play([['gap', C, 100], [C, 'GET / HTTP/1.1\r\n\r\n']]).protocol).toBe('unknown');
  });

  it('keeps what is learnt until the flow is taken, once', () => {
    const factory = new AnalyzerFactory();
    const flow = flowRecord();
    const handler = factory.open(flow);
    handler.onData(C, Buffer.from('SSH-2.0-OpenSSH_9.2p1\r\n'), 0, 1);
    handler.onEnd('fin');
    expect(factory.take(flow)).toMatchObject({ protocol: 'ssh', ssh: { clientBanner: 'SSH-2.0-OpenSSH_9.2p1' } });
    expect(factory.take(flow).protocol).toBe('unknown');
  });
});

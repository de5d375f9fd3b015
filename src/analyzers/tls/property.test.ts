/** Property tests (fast-check): any bytes, any chunking → no exception, and the same result however the input is split. */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import type { Direction } from '../../model/flow.js';
import { TlsAnalyzer, newTlsInfo } from './analyzer.js';
import {
  C,
  CCS,
  HS,
  S,
  alertRecord,
  alpn,
  appData,
  certificate,
  certificateRequest,
  clientHello,
  derName,
  handshake,
  record,
  serverHello,
  sni,
} from './testing.js';

vi.mock('./tls13-inference.js', () => ({
  inferTls13ClientAuth: () => ({ clientCertRequested: null, clientCertPresented: null, rejected: false, reasoning: '' }),
}));

type Segment = [Direction, Buffer];

/** Plays the segments, each cut at the given points; the same timestamp throughout, so only the splitting differs. */
function run(segments: Segment[], cuts: number[]): string {
  const a = new TlsAnalyzer(newTlsInfo());
  for (const [dir, bytes] of segments) {
    let at = 0;
    for (const cut of cuts) {
      const next = Math.min(bytes.length, at + 1 + (cut % 97));
      a.onData(dir, bytes.subarray(at, next), 1, 1);
      at = next;
      if (at === bytes.length) break;
    }
    if (at < bytes.length) a.onData(dir, bytes.subarray(at), 1, 1);
  }
  a.onEnd('fin');
  return JSON.stringify({ info: a.info, s: a.serverChainDer, c: a.clientChainDer, e: a.encryptedRecords, r: a.clientRandom });
}

const segment = fc.tuple(fc.constantFrom<Direction>(0, 1), fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)));
const cuts = fc.array(fc.nat(), { maxLength: 40 });

const handshakeScript: Segment[] = [
  [C, HS.record(clientHello({ extensions: [sni('node1'), alpn('h2')] }))],
  [S, HS.record(serverHello({ extensions: [alpn('h2')] }), certificate(Buffer.alloc(900, 1)), certificateRequest([derName('kubernetes')]))],
  [S, HS.record(handshake(14, Buffer.alloc(0)))],
  [C, HS.record(certificate(Buffer.alloc(500, 2)), handshake(16, Buffer.alloc(66)))],
  [C, CCS],
  [C, record(22, Buffer.alloc(40))],
  [S, CCS],
  [S, record(22, Buffer.alloc(40))],
  [C, appData(100)],
  [S, appData(200)],
  [S, alertRecord(1, 0)],
];

describe('TlsAnalyzer under any input', () => {
  it('never throws on random bytes, and gives the same result however they are split', () => {
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), cuts, (segments, points) => {
        expect(run(segments, points)).toBe(run(segments, []));
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on random bytes behind a valid record header', () => {
    const framed = segment.map(([dir, body]): Segment => [dir, record(22 + (body[0] ?? 0) % 3, body)]);
    fc.assert(
      fc.property(fc.array(framed, { maxLength: 8 }), cuts, (segments, points) => {
        expect(run(segments, points)).toBe(run(segments, []));
      }),
      { numRuns: 300 },
    );
  });

  it('reads a whole handshake the same way in any chunking', () => {
    const whole = run(handshakeScript, []);
    expect(JSON.parse(whole).info.established).toBe(true);
    fc.assert(
      fc.property(cuts, (points) => {
        expect(run(handshakeScript, points)).toBe(whole);
      }),
      { numRuns: 200 },
    );
  });

  it('reads an SSLv2-compatible hello the same way in any chunking', () => {
    const body = Buffer.concat([Buffer.from([1, 3, 1, 0, 6, 0, 0, 0, 16]), Buffer.from('00002f000035', 'hex'), Buffer.alloc(16, 7)]);
    const script: Segment[] = [[C, Buffer.concat([Buffer.from([0x80, body.length]), body])], [S, HS.record(serverHello())]];
    const whole = run(script, []);
    expect(JSON.parse(whole).info.clientVersion).toBe('1.0');
    fc.assert(
      fc.property(cuts, (points) => {
        expect(run(script, points)).toBe(whole);
      }),
      { numRuns: 100 },
    );
  });

  it('never throws when a valid handshake is corrupted at one byte', () => {
    fc.assert(
      fc.property(fc.nat(handshakeScript.length - 1), fc.nat(), fc.integer({ min: 0, max: 255 }), cuts, (i, at, value, points) => {
        const script = handshakeScript.map(([dir, bytes]): Segment => [dir, Buffer.from(bytes)]);
        const target = script[i][1];
        target[at % target.length] = value;
        expect(run(script, points)).toBe(run(script, []));
      }),
      { numRuns: 300 },
    );
  });
});

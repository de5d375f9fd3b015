import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { H2cAnalyzer, H2_PREFACE } from './h2c.js';
import { newHttpInfo } from '../http1/http1.js';
import { cutsAt, feed, type Segment } from '../http1/testing.js';
import type { HttpInfo } from '../../model/protocol.js';

function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}

function settings(entries: Array<[number, number]>): Buffer {
  const payload = Buffer.alloc(entries.length * 6);
  entries.forEach(([id, value], k) => {
    payload.writeUInt16BE(id, k * 6);
    payload.writeUInt32BE(value, k * 6 + 2);
  });
  return frame(4, 0, 0, payload);
}

function run(segments: Segment[], cuts?: (length: number) => number[]): HttpInfo {
  const info = newHttpInfo();
  feed(new H2cAnalyzer(info), segments, cuts);
  return info;
}

// A gRPC-like exchange as etcd's plaintext client port would carry it.
const client = Buffer.concat([
  H2_PREFACE,
  settings([[2, 0], [4, 4194304], [6, 16384], [0xfe03, 1]]),
  frame(8, 0, 0, Buffer.from('00001000', 'hex')),
  frame(1, 4, 1, Buffer.from('8386', 'hex')),
  frame(0, 1, 1, Buffer.alloc(300, 1)),
  frame(4, 1, 0),
]);
const server = Buffer.concat([
  settings([[1, 4096], [3, 100], [5, 16384], [4, 65535]]),
  frame(4, 1, 0),
  frame(1, 4, 1, Buffer.from('88', 'hex')),
  frame(0, 0, 1, Buffer.alloc(70000 % 16384, 2)),
  frame(6, 0, 0, Buffer.alloc(8)),
  frame(7, 0, 0, Buffer.alloc(8)),
  frame(0x0a, 0, 0, Buffer.from('x')),
]);

describe('H2cAnalyzer', () => {
  it('reads the preface, SETTINGS by name and frame counts of both sides', () => {
    const info = run([[0, client], [1, server]]);
    expect(info.version).toBe('2');
    expect(info.stopped).toBeNull();
    expect(info.h2).toEqual({
      preface: true,
      clientSettings: { ENABLE_PUSH: 0, INITIAL_WINDOW_SIZE: 4194304, MAX_HEADER_LIST_SIZE: 16384, '0xfe03': 1 },
      serverSettings: { HEADER_TABLE_SIZE: 4096, MAX_CONCURRENT_STREAMS: 100, MAX_FRAME_SIZE: 16384, INITIAL_WINDOW_SIZE: 65535 },
      frames: { SETTINGS: 4, WINDOW_UPDATE: 1, HEADERS: 2, DATA: 2, PING: 1, GOAWAY: 1, '0x0a': 1 },
    });
  });

  it('stops when the client does not start with the preface', () => {
    const info = run([[0, 'GET / HTTP/1.1\r\n\r\n'], [1, server]]);
    expect(info.h2?.preface).toBe(false);
    expect(info.stopped).toBe('no HTTP/2 preface');
    expect(info.h2?.serverSettings).not.toBeNull();
  });

  it('stops at a SETTINGS frame of a bad length, and a side at a gap', () => {
    expect(run([[1, frame(4, 0, 0, Buffer.alloc(5))]]).stopped).toBe('bad SETTINGS frame');
    const info = newHttpInfo();
    const h2 = new H2cAnalyzer(info);
    h2.onData(1, frame(1, 4, 1, Buffer.from('88', 'hex')), 1, 1);
    h2.onGap(1, 10);
    h2.onData(1, frame(1, 4, 3, Buffer.alloc(4)), 2, 2);
    expect(info.h2?.frames).toEqual({ HEADERS: 1 });
    expect(info.stopped).toBe('gap in server stream');
  });

  it('gives the same info whatever the chunking, and never throws on random bytes', () => {
    const whole = JSON.stringify(run([[0, client], [1, server]]));
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 40 }), (fractions) => {
        expect(JSON.stringify(run([[0, client], [1, server]], cutsAt(fractions)))).toBe(whole);
      }),
    );
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
      fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.concat([H2_PREFACE, b])),
    );
    fc.assert(
      fc.property(bytes, bytes, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 20 }), (c2s, s2c, fractions) => {
        const once = JSON.stringify(run([[0, c2s], [1, s2c]]));
        expect(JSON.stringify(run([[0, c2s], [1, s2c]], cutsAt(fractions)))).toBe(once);
      }),
      { numRuns: 300 },
    );
  });
});

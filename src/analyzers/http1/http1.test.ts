import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Http1Analyzer, MAX_REQUESTS, newHttpInfo } from './http1.js';
import { cutsAt, feed, makeJwt, type Segment } from './testing.js';
import type { HttpInfo } from '../../model/protocol.js';

function run(segments: Segment[], cuts?: (length: number) => number[]): HttpInfo {
  const info = newHttpInfo();
  feed(new Http1Analyzer(info), segments, cuts);
  return info;
}

const summary = (info: HttpInfo) => info.requests.map((r) => `${r.method} ${r.target} ${r.status}`);

describe('Http1Analyzer: messages', () => {
  it('pairs pipelined requests with their responses', () => {
    const info = run([
      [0, 'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nPOST /c HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello'],
      [1, 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\nHTTP/1.1 201 Created\r\n\r\n'],
    ]);
    expect(summary(info)).toEqual(['GET /a 200', 'GET /b 404', 'POST /c 201']);
    expect(info.version).toBe('1.1');
    expect(info.requests[0].host).toBe('x');
    expect(info.stopped).toBeNull();
  });

  it('skips chunked bodies with extensions and trailers', () => {
    const info = run([
      [0, 'POST /up HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5;name=val\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\nGET /next HTTP/1.1\r\n\r\n'],
      [1, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3 ; ext\r\nabc\r\nA\r\n0123456789\r\n0\r\nT: x\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n'],
    ]);
    expect(summary(info)).toEqual(['POST /up 200', 'GET /next 204']);
  });

  it('knows that HEAD, 204 and 304 responses carry no body', () => {
    const info = run([
      [0, 'HEAD / HTTP/1.1\r\n\r\nGET /etag HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\n'],
      [1, 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'],
    ]);
    expect(summary(info)).toEqual(['HEAD / 200', 'GET /etag 304', 'GET /x 200']);
  });

  it('pairs the final response after 100 Continue', () => {
    const info = run([
      [0, 'PUT /f HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi'],
      [1, 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'],
    ]);
    expect(summary(info)).toEqual(['PUT /f 200']);
  });

  it('reads an HTTP/1.0 body to EOF (Connection: close)', () => {
    const info = run([
      [0, 'GET / HTTP/1.0\r\n\r\n'],
      [1, 'HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nHTTP/1.1 200 OK this is body text\r\n\r\n'],
    ]);
    expect(summary(info)).toEqual(['GET / 200']);
    expect(info.version).toBe('1.0');
  });

  it('records a SPDY exec upgrade and stops after the 101', () => {
    const info = run([
      [
        0,
        'POST /exec/default/web/nginx?command=sh&input=1&output=1&tty=1 HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
          'X-Stream-Protocol-Version: v4.channel.k8s.io\r\nX-Stream-Protocol-Version: v3.channel.k8s.io\r\n\r\n\x80\x03\x00\x01GET /not-a-request HTTP/1.1\r\n\r\n',
      ],
      [1, 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n\x80\x03\x00\x02'],
    ]);
    expect(info.requests).toHaveLength(1);
    expect(info.requests[0]).toMatchObject({ status: 101, upgrade: 'SPDY/3.1', streamProtocol: 'v4.channel.k8s.io' });
    expect(info.requests[0].k8s).toMatchObject({ kind: 'kubelet-exec', namespace: 'default', name: 'web' });
    expect(info.stopped).toBeNull();
  });

  it('records a WebSocket attach upgrade', () => {
    const info = run([
      [
        0,
        'GET /api/v1/namespaces/default/pods/web/attach?stdout=true HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v5.channel.k8s.io, v4.channel.k8s.io\r\n\r\n',
      ],
      [1, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n\x82\x01\x01'],
    ]);
    expect(info.requests[0]).toMatchObject({ status: 101, upgrade: 'websocket', streamProtocol: 'v5.channel.k8s.io' });
    expect(info.requests[0].k8s?.kind).toBe('apiserver-attach');
  });

  it('resumes HTTP when an upgrade is refused', () => {
    const info = run([
      [0, 'GET /exec/ns/p/c HTTP/1.1\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\nGET /pods HTTP/1.1\r\n\r\n'],
      [1, 'HTTP/1.1 403 Forbidden\r\nX-Accepted-Stream-Protocol-Versions: v5.channel.k8s.io\r\nContent-Length: 9\r\n\r\nForbiddenHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'],
    ]);
    expect(summary(info)).toEqual(['GET /exec/ns/p/c 403', 'GET /pods 200']);
    expect(info.requests[0].streamProtocol).toBe('v4.channel.k8s.io');
  });

  it('hands an accepted h2c upgrade to HTTP/2', () => {
    const settings = Buffer.from('000006040000000000000300000064', 'hex'); // SETTINGS MAX_CONCURRENT_STREAMS=100
    const clientSettings = Buffer.from('00000c040000000000000400010000000200000000', 'hex');
    const info = run([
      [0, 'GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n'],
      [1, Buffer.concat([Buffer.from('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n'), settings])],
      [0, Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), clientSettings])],
    ]);
    expect(summary(info)).toEqual(['GET / 101']);
    expect(info.requests[0].upgrade).toBe('h2c');
    expect(info.version).toBe('2');
    expect(info.h2).toEqual({
      preface: true,
      serverSettings: { MAX_CONCURRENT_STREAMS: 100 },
      clientSettings: { INITIAL_WINDOW_SIZE: 65536, ENABLE_PUSH: 0 },
      frames: { SETTINGS: 2 },
    });
  });

  it('goes to HTTP/2 after the body of an h2c upgrade request answered 101 before it ended', () => {
    const info = run([
      [0, 'POST /p HTTP/1.1\r\nUpgrade: h2c\r\nContent-Length: 5\r\n\r\nhe'],
      [1, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n'],
      [0, 'lloPRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00'],
    ]);
    expect(summary(info)).toEqual(['POST /p 101']);
    expect(info.h2).toMatchObject({ preface: true, frames: { SETTINGS: 1 } });
    expect(info.stopped).toBeNull();
  });

  it('holds the client preface when it arrives before the 101', () => {
    const info = run([
      [0, 'GET / HTTP/1.1\r\nUpgrade: h2c\r\n\r\nPRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00'],
      [1, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n\x00\x00\x00\x04\x01\x00\x00\x00\x00'],
    ]);
    expect(info.requests).toHaveLength(1);
    expect(info.h2).toMatchObject({ preface: true, clientSettings: {}, frames: { SETTINGS: 2 } });
  });
});

describe('Http1Analyzer: limits and damage', () => {
  it('stops at a header block over 64 KiB', () => {
    const info = run([[0, `GET / HTTP/1.1\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\nGET /b HTTP/1.1\r\n\r\n`]]);
    expect(info.requests).toHaveLength(0);
    expect(info.stopped).toBe('header block over 64 KiB');
  });

  it('counts requests beyond the bounded list', () => {
    const info = run([[0, 'GET / HTTP/1.1\r\n\r\n'.repeat(MAX_REQUESTS + 5)]]);
    expect(info.requests).toHaveLength(MAX_REQUESTS);
    expect(info.moreRequests).toBe(5);
  });

  it('stops pairing rather than guess when over 1024 requests await a response', () => {
    const info = run([
      [0, 'GET / HTTP/1.1\r\n\r\n'.repeat(1025)],
      [1, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'.repeat(1025)],
    ]);
    expect(info.requests.every((r) => r.status === null)).toBe(true);
    expect(info.stopped).toBe('over 1024 requests awaiting a response');
  });

  it('stops inspecting after 256 KiB of heads', () => {
    const info = run([[0, `GET / HTTP/1.1\r\nX-Pad: ${'p'.repeat(1000)}\r\n\r\n`.repeat(300)]]);
    expect(info.requests.length).toBeLessThan(300);
    expect(info.stopped).toBe('inspection limit');
  });

  it('picks up mid-stream: skips to the first request line, invents nothing', () => {
    const info = run([
      [0, 'dy of a previous POST\r\nmore body\r\nGET /healthz HTTP/1.1\r\nHost: k\r\n\r\n'],
      [1, 'ut the previous response body\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'],
    ]);
    expect(summary(info)).toEqual(['GET /healthz 200']);
  });

  it('drops an overlong line while resynchronising, whatever the chunking', () => {
    const c2s = `${'x'.repeat(70_000)} GET /no HTTP/1.1\r\nGET /yes HTTP/1.1\r\n\r\n`;
    for (const cuts of [undefined, cutsAt([0.1, 0.5, 0.99]), cutsAt([0.3])]) {
      expect(summary(run([[0, c2s]], cuts))).toEqual(['GET /yes null']);
    }
  });

  it('records nothing for a flow that only shows responses', () => {
    const info = run([[1, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok']]);
    expect(info.requests).toEqual([]);
    expect(info.version).toBe('1.1');
  });

  it('stops a direction at a gap, but not inside a body of known length', () => {
    const info = newHttpInfo();
    const http = new Http1Analyzer(info);
    http.onData(0, Buffer.from('POST /a HTTP/1.1\r\nContent-Length: 100\r\n\r\n0123456789'), 1, 1);
    http.onGap(0, 50);
    http.onData(0, Buffer.from('0123456789'.repeat(4) + 'GET /b HTTP/1.1\r\n\r\nGET /c'), 2, 2);
    http.onGap(0, 10);
    http.onData(0, Buffer.from(' HTTP/1.1\r\n\r\nGET /d HTTP/1.1\r\n\r\n'), 3, 3);
    http.onEnd('fin');
    expect(info.requests.map((r) => r.target)).toEqual(['/a', '/b']);
    expect(info.stopped).toBe('gap in client stream');
  });

  it('stops at a malformed request after the first', () => {
    const info = run([[0, 'GET / HTTP/1.1\r\n\r\nthis is not HTTP\r\n\r\nGET /x HTTP/1.1\r\n\r\n']]);
    expect(info.requests).toHaveLength(1);
    expect(info.stopped).toBe('bad request line');
  });
});

describe('Http1Analyzer: properties', () => {
  const corpus = [
    'GET /a HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer abcdef.0123456789abcdef\r\n\r\n',
    'POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nbody\r\n0\r\nT: 1\r\n\r\n',
    `GET /c HTTP/1.1\r\nCookie: s=${makeJwt({ iss: 'i', sub: 's' })}\r\n\r\n`,
    'HEAD /d HTTP/1.0\r\n\r\n',
  ].join('');
  const responses = [
    'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc',
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
    'HTTP/1.1 304 Not Modified\r\n\r\n',
    'HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\n',
  ].join('');
  const whole = JSON.stringify(run([[0, corpus], [1, responses]]));

  it('gives the same info whatever the chunking', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 40 }), (fractions) => {
        expect(JSON.stringify(run([[0, corpus], [1, responses]], cutsAt(fractions)))).toBe(whole);
      }),
    );
  });

  it('never throws on random bytes, and chunking does not change the outcome', () => {
    const prefixed = fc.oneof(
      fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)),
      fc.tuple(fc.constantFrom(corpus, responses), fc.uint8Array({ maxLength: 300 })).map(([s, b]) => Buffer.concat([Buffer.from(s, 'latin1'), b])),
    );
    fc.assert(
      fc.property(prefixed, prefixed, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 20 }), (c2s, s2c, fractions) => {
        const once = JSON.stringify(run([[0, c2s], [1, s2c]]));
        expect(JSON.stringify(run([[0, c2s], [1, s2c]], cutsAt(fractions)))).toBe(once);
      }),
      { numRuns: 300 },
    );
  });

  // Pieces that drive the parser through its states, in any order, either side, with gaps.
  const pieces = [
    'GET / HTTP/1.1\r\n', 'HTTP/1.1 101 Switching\r\n', 'HTTP/1.1 200 OK\r\n', 'HTTP/1.1 100 Continue\r\n', 'Upgrade: h2c\r\n',
    'Upgrade: websocket\r\n', 'Content-Length: 3\r\n', 'Transfer-Encoding: chunked\r\n', '\r\n', '0\r\n', '5;x\r\n', 'abc',
    'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', '\x00\x00\x06\x04\x00\x00\x00\x00\x00', 'CONNECT a:1 HTTP/1.1\r\n', 'HEAD / HTTP/1.0\r\n',
    `Authorization: Bearer ${makeJwt({ iss: 'x' })}\r\n`,
  ];
  const text = fc.array(fc.oneof(fc.constantFrom(...pieces), fc.string({ maxLength: 12 })), { maxLength: 30 }).map((p) => p.join(''));

  it('never throws on interleaved pieces and gaps', () => {
    const event = fc.tuple(fc.constantFrom<0 | 1>(0, 1), fc.boolean(), text, fc.nat(100));
    fc.assert(
      fc.property(fc.array(event, { maxLength: 30 }), (events) => {
        const http = new Http1Analyzer(newHttpInfo());
        for (const [dir, gap, data, n] of events) {
          if (gap) http.onGap(dir, n);
          else http.onData(dir, Buffer.from(data, 'latin1'), n, n + 1);
        }
        http.onEnd('fin');
      }),
      { numRuns: 1000 },
    );
  });

  it('gives the same info for pieces whatever the chunking', () => {
    fc.assert(
      fc.property(text, text, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 20 }), (c2s, s2c, fractions) => {
        const once = JSON.stringify(run([[0, c2s], [1, s2c]]));
        expect(JSON.stringify(run([[0, c2s], [1, s2c]], cutsAt(fractions)))).toBe(once);
      }),
      { numRuns: 500 },
    );
  });
});

describe('Http1Analyzer: packet numbers', () => {
  // feed() delivers segment i in packet i + 1.
  const packets = (info: HttpInfo) => info.requests.map((r) => `${r.method} ${r.target} ${r.packet}/${r.responsePacket}`);

  it('cites the packets that complete the request head and the response head, not their bodies', () => {
    const info = run([
      [0, 'POST /a HTTP/1.1\r\nContent-'],
      [0, 'Length: 4\r\n\r\nbo'],
      [0, 'dyGET /b HTTP/1.1\r\n\r\n'],
      [1, 'HTTP/1.1 100 Continue\r\n\r\n'],
      [1, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\no'],
      [1, 'k'],
    ]);
    // The interim 100 is not the response; GET /b got none.
    expect(packets(info)).toEqual(['POST /a 2/5', 'GET /b 3/null']);
  });

  it('cites the client packet of a request held while an upgrade waited for its answer', () => {
    const info = run([
      [0, 'GET /exec HTTP/1.1\r\nUpgrade: SPDY/3.1\r\n\r\n'],
      [0, 'GET /pods HTTP/1.1\r\n\r\n'],
      [1, 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'],
    ]);
    expect(packets(info)).toEqual(['GET /exec 1/3', 'GET /pods 2/3']);
  });
});

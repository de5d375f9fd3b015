import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { detectProtocol, DETECTION_BYTES } from './detect.js';

const text = (s: string) => Buffer.from(s, 'latin1');
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('detectProtocol', () => {
  it.each([
    ['a ClientHello record', 0, hex('16 0301 00f1 01 0000ed 0303'), 'tls'],
    ['a ServerHello record', 1, hex('16 0303 0058 02 000054 0303'), 'tls'],
    ['application data picked up mid-stream (client)', 0, hex('17 0303 0045 b15d'), 'tls'],
    ['application data picked up mid-stream (server)', 1, hex('17 0303 0205 1287'), 'tls'],
    ['an SSLv2-compatible ClientHello', 0, hex('80 2e 01 0301 0015 0000 0010'), 'tls'],
    ['a handshake record from the client that is no ClientHello', 0, hex('16 0303 0010 02 00000c'), 'unknown'],
    ['a record of an impossible length', 0, hex('17 0303 ffff 00'), 'unknown'],
    ['an HTTP request', 0, text('GET /containerLogs/default/web/nginx HTTP/1.1\r\n'), 'http'],
    ['a WebDAV method', 0, text('PROPFIND / HTTP/1.1\r\n'), 'http'],
    ['an HTTP response picked up mid-stream', 1, text('HTTP/1.1 200 OK\r\n'), 'http'],
    ['the HTTP/2 preface', 0, text('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), 'h2c'],
    ["the server's SSH banner", 1, text('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'), 'ssh'],
    ["the client's SSH banner", 0, text('SSH-2.0-Go\r\n'), 'ssh'],
    ['etcd gRPC without the preface (not recognised by content)', 0, hex('00 0012 04 00 00000000'), 'unknown'],
    ['a request line from the server side', 1, text('GET / HTTP/1.1\r\n'), 'unknown'],
    ['lowercase method', 0, text('get / HTTP/1.1\r\n'), 'unknown'],
  ] as const)('%s', (_name, dir, head, expected) => {
    expect(detectProtocol(dir, head)).toBe(expected);
  });

  it.each([
    ['G', 0],
    ['PR', 0],
    ['PRI * HTTP/2.0\r\n', 0],
    ['SS', 1],
    ['HTTP/', 1],
  ] as const)('asks for more bytes after %j', (start, dir) => {
    expect(detectProtocol(dir, text(start))).toBe('more');
  });

  it('asks for more after a partial TLS header', () => {
    expect(detectProtocol(0, hex('16 03'))).toBe('more');
    expect(detectProtocol(0, hex('16 04'))).toBe('unknown');
  });

  it('always decides within DETECTION_BYTES, on any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: DETECTION_BYTES, maxLength: 64 }), fc.constantFrom(0 as const, 1 as const), (bytes, dir) => {
        expect(detectProtocol(dir, Buffer.from(bytes))).not.toBe('more');
      }),
      { numRuns: 2000 },
    );
  });
});

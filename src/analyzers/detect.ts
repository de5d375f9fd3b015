/**
 * Which protocol a connection speaks, from its first bytes (content first, as DESIGN.md asks;
 * ports are not consulted: a guess from a port would be a claim the packets do not make).
 *
 * `detectProtocol` looks at the first bytes seen in one direction and answers a protocol, 'more'
 * when it needs more bytes to tell, or 'unknown'. A flow picked up mid-stream is recognised by
 * its TLS records or HTTP responses.
 */
import type { Direction } from '../model/flow.js';
import type { Protocol } from '../model/protocol.js';

export type Detection = Protocol | 'more';

/** Enough bytes to decide for every rule below (the HTTP/2 preface is the longest). */
export const DETECTION_BYTES = 24;

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const SSH_BANNER = Buffer.from('SSH-', 'latin1');
const HTTP_RESPONSE = Buffer.from('HTTP/1.', 'latin1');
/** Request methods of RFC 9110, WebDAV and PATCH; the space after the token is part of the match. */
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK'].map(
  (method) => Buffer.from(`${method} `, 'latin1'),
);

const TlsContent = { CHANGE_CIPHER_SPEC: 20, ALERT: 21, HANDSHAKE: 22, APPLICATION_DATA: 23 } as const;
const HandshakeType = { CLIENT_HELLO: 1, SERVER_HELLO: 2 } as const;

export function detectProtocol(dir: Direction, head: Buffer): Detection {
  if (head.length === 0) return 'more';
  const tls = detectTls(dir, head);
  if (tls !== 'unknown') return tls;
  const prefix = startsWithPrefix(head, SSH_BANNER);
  if (prefix !== 'unknown') return prefix === 'yes' ? 'ssh' : 'more';
  if (dir === 0) {
    const preface = startsWithPrefix(head, H2_PREFACE);
    if (preface === 'yes') return 'h2c';
    let undecided = preface === 'more';
    for (const method of HTTP_METHODS) {
      const match = startsWithPrefix(head, method);
      // "PRI " is not a method we list, so a complete preface never reads as HTTP/1.
      if (match === 'yes') return 'http';
      if (match === 'more') undecided = true;
    }
    return undecided ? 'more' : 'unknown';
  }
  const response = startsWithPrefix(head, HTTP_RESPONSE);
  return response === 'yes' ? 'http' : response;
}

/**
 * A TLS record header: content type 20–23, major version 3, minor 0–4, then a length of at most
 * 2^14 + 2048. From the client, a handshake record must hold a ClientHello; from the server, a
 * ServerHello — other record types are accepted too, for a pickup mid-stream. The SSLv2-compatible
 * ClientHello (a 2-byte header with the top bit set, then message type 1) is TLS as well.
 */
function detectTls(dir: Direction, head: Buffer): Detection {
  const type = head[0];
  if (dir === 0 && (type & 0x80) !== 0) {
    if (head.length < 5) return 'more';
    return head[2] === HandshakeType.CLIENT_HELLO && head[3] === 3 ? 'tls' : 'unknown';
  }
  if (type < TlsContent.CHANGE_CIPHER_SPEC || type > TlsContent.APPLICATION_DATA) return 'unknown';
  if (head.length < 6) return head.length >= 2 && head[1] !== 3 ? 'unknown' : 'more';
  if (head[1] !== 3 || head[2] > 4) return 'unknown';
  const length = head.readUInt16BE(3);
  if (length === 0 || length > (1 << 14) + 2048) return 'unknown';
  if (type === TlsContent.HANDSHAKE) {
    const expected = dir === 0 ? HandshakeType.CLIENT_HELLO : HandshakeType.SERVER_HELLO;
    return head[5] === expected ? 'tls' : 'unknown';
  }
  return 'tls';
}

/** Whether `head` starts with `prefix`: 'yes', 'more' (it could, once more bytes come) or 'unknown'. */
function startsWithPrefix(head: Buffer, prefix: Buffer): 'yes' | 'more' | 'unknown' {
  const n = Math.min(head.length, prefix.length);
  if (head.compare(prefix, 0, n, 0, n) !== 0) return 'unknown';
  return n === prefix.length ? 'yes' : 'more';
}

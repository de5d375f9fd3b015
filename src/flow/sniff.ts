/**
 * Which side sent a payload, judged from its first bytes, for connections picked up mid-stream
 * (no SYN seen): SPEC.md §5 makes the client the side that sent the TLS ClientHello or the HTTP
 * request. Only the first payload of such a flow is sniffed, so this is off the hot path.
 */

export type SniffVerdict = 'client' | 'server' | null;

const TLS_HANDSHAKE = 0x16;
const TLS_CLIENT_HELLO = 1;
const TLS_SERVER_HELLO = 2;

/** Request methods (RFC 9110 §9, PATCH, and `PRI` of the HTTP/2 preface), each followed by a space. */
const REQUEST_PREFIXES = ['GET ', 'POST ', 'PUT ', 'DELETE ', 'HEAD ', 'OPTIONS ', 'PATCH ', 'CONNECT ', 'TRACE ', 'PRI '];
const LONGEST_PREFIX = 8;

/** 'client' or 'server' when the payload says who sent it; null when it does not (SSH banners included: both sides send one). */
export function sniffSender(buf: Buffer, offset: number, length: number): SniffVerdict {
  if (length >= 6 && buf[offset] === TLS_HANDSHAKE && buf[offset + 1] === 0x03) {
    const handshakeType = buf[offset + 5];
    if (handshakeType === TLS_CLIENT_HELLO) return 'client';
    if (handshakeType === TLS_SERVER_HELLO) return 'server';
    return null;
  }
  const head = buf.toString('latin1', offset, offset + Math.min(length, LONGEST_PREFIX));
  if (head.startsWith('HTTP/1.')) return 'server';
  for (const prefix of REQUEST_PREFIXES) if (head.startsWith(prefix)) return 'client';
  return null;
}

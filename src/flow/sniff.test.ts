import { describe, expect, it } from 'vitest';
import { sniffSender } from './sniff.js';

describe('sniffSender', () => {
  it.each([
    ['TLS ClientHello', '16030100f8010000f40303', 'client'],
    ['TLS ServerHello', '160303005a0200005603', 'server'],
    ['TLS handshake of another type', '160303005a0b', null],
    ['TLS record too short to tell', '1603030005', null],
    ['TLS application data', '170303001a', null],
  ])('%s', (_name, hex, verdict) => {
    const buf = Buffer.from(`ffff${hex}`, 'hex');
    expect(sniffSender(buf, 2, buf.length - 2)).toBe(verdict);
  });

  it.each([
    ['GET /api HTTP/1.1\r\n', 'client'],
    ['POST /x HTTP/1.1\r\n', 'client'],
    ['OPTIONS * HTTP/1.1\r\n', 'client'],
    ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'client'],
    ['HTTP/1.1 200 OK\r\n', 'server'],
    ['HTTP/1.0 404 Not Found\r\n', 'server'],
    ['SSH-2.0-OpenSSH_9.6\r\n', null],
    ['GETX / HTTP/1.1', null],
    ['GET', null],
    ['hello', null],
  ])('%j', (text, verdict) => {
    const buf = Buffer.from(text, 'latin1');
    expect(sniffSender(buf, 0, buf.length)).toBe(verdict);
  });
});

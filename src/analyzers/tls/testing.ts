/**
 * Test fixtures (excluded from the build, as every testing.ts): TLS records and handshake
 * messages built from their parts, and a feeder that plays (direction, bytes) pairs into an analyzer.
 */
import type { Direction } from '../../model/flow.js';
import type { TlsAnalyzer } from './analyzer.js';

export const C: Direction = 0;
export const S: Direction = 1;

const u8 = (n: number): Buffer => Buffer.from([n]);
export const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
const u24 = (n: number): Buffer => Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);

/** A vector with a length prefix of 1, 2 or 3 bytes. */
export function vec(bytes: 1 | 2 | 3, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([bytes === 1 ? u8(body.length) : bytes === 2 ? u16(body.length) : u24(body.length), body]);
}

export function record(type: number, body: Buffer, version = 0x0303): Buffer {
  return Buffer.concat([u8(type), u16(version), u16(body.length), body]);
}

export function handshake(type: number, body: Buffer): Buffer {
  return Buffer.concat([u8(type), u24(body.length), body]);
}

export const ext = (type: number, data: Buffer): Buffer => Buffer.concat([u16(type), vec(2, data)]);
export const u16s = (values: number[]): Buffer => Buffer.concat(values.map(u16));

export interface HelloOptions {
  version?: number;
  random?: Buffer;
  sessionId?: Buffer;
  ciphers?: number[];
  extensions?: Buffer[];
}

export function clientHello(o: HelloOptions = {}): Buffer {
  return handshake(
    1,
    Buffer.concat([
      u16(o.version ?? 0x0303),
      o.random ?? Buffer.alloc(32, 0xaa),
      vec(1, o.sessionId ?? Buffer.alloc(0)),
      vec(2, u16s(o.ciphers ?? [0xc02f, 0x1301])),
      vec(1, u8(0)),
      vec(2, ...(o.extensions ?? [])),
    ]),
  );
}

export function serverHello(o: HelloOptions & { cipher?: number } = {}): Buffer {
  return handshake(
    2,
    Buffer.concat([
      u16(o.version ?? 0x0303),
      o.random ?? Buffer.alloc(32, 0xbb),
      vec(1, o.sessionId ?? Buffer.alloc(0)),
      u16(o.cipher ?? 0xc02f),
      u8(0),
      vec(2, ...(o.extensions ?? [])),
    ]),
  );
}

export const sni = (name: string): Buffer => ext(0, vec(2, u8(0), vec(2, Buffer.from(name))));
export const alpn = (...names: string[]): Buffer => ext(16, vec(2, ...names.map((n) => vec(1, Buffer.from(n)))));
export const supportedVersions = (...versions: number[]): Buffer => ext(43, vec(1, u16s(versions)));
export const selectedVersion = (version: number): Buffer => ext(43, u16(version));

/** A TLS ≤ 1.2 Certificate message. */
export function certificate(...ders: Buffer[]): Buffer {
  return handshake(11, vec(3, ...ders.map((d) => vec(3, d))));
}

/** A TLS 1.2 CertificateRequest: types, signature algorithms, CA names (DER). */
export function certificateRequest(names: Buffer[]): Buffer {
  return handshake(13, Buffer.concat([vec(1, u8(1), u8(64)), vec(2, u16s([0x0403, 0x0804])), vec(2, ...names.map((n) => vec(2, n)))]));
}

/** A DER Name with one CN (UTF8String) per RDN, first RDN first. */
export function derName(...cns: string[]): Buffer {
  const der = (tag: number, body: Buffer): Buffer => {
    if (body.length > 127) throw new Error('fixture too long');
    return Buffer.concat([u8(tag), u8(body.length), body]);
  };
  const cnOid = Buffer.from('0603550403', 'hex');
  return der(0x30, Buffer.concat(cns.map((cn) => der(0x31, der(0x30, Buffer.concat([cnOid, der(0x0c, Buffer.from(cn))]))))));
}

export const HS = { record: (...messages: Buffer[]) => record(22, Buffer.concat(messages)) };
export const CCS = record(20, u8(1));
export const appData = (length: number): Buffer => record(23, Buffer.alloc(length, 0x5a));
export const alertRecord = (level: number, description: number): Buffer => record(21, Buffer.from([level, description]));

export type Script = Array<readonly [Direction, Buffer]>;

/** Plays a script, entry i one onData call at time i + 1 s in packet i + 1. */
export function play(analyzer: TlsAnalyzer, script: Script, end = true): TlsAnalyzer {
  script.forEach(([dir, bytes], i) => analyzer.onData(dir, bytes, i + 1, i + 1));
  if (end) analyzer.onEnd('fin');
  return analyzer;
}

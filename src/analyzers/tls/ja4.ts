/**
 * JA4 TLS client fingerprint (FoxIO, BSD-3-Clause; technical_details/JA4.md of
 * github.com/FoxIO-LLC/ja4): `t` + version + `d`/`i` + cipher count + extension count + ALPN
 * first/last character, `_`, the first 12 hex digits of SHA-256 of the sorted ciphers, `_`, the same
 * of the sorted extensions (SNI and ALPN left out) then `_` and the signature algorithms in order.
 * GREASE is ignored everywhere. JA4S/JA4X/JA4H are under another licence and not implemented.
 */
import { createHash } from 'node:crypto';
import type { ClientHelloInfo } from './hello.js';
import { EXT } from './hello.js';
import { isGrease } from './names.js';

const VERSION_CODES = new Map<number, string>([
  [0x0304, '13'],
  [0x0303, '12'],
  [0x0302, '11'],
  [0x0301, '10'],
  [0x0300, 's3'],
  [0x0002, 's2'],
  [0xfeff, 'd1'],
  [0xfefd, 'd2'],
  [0xfefc, 'd3'],
]);

const hex = (code: number): string => code.toString(16).padStart(4, '0');
const count = (n: number): string => String(Math.min(n, 99)).padStart(2, '0');

function hash12(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/**
 * A client sends the same hello again and again (only its random, session id, key shares and SNI
 * value change, which JA4 ignores): fingerprints are remembered by the lists JA4 reads (bounded:
 * the memory is cleared when full).
 */
const CACHE_LIMIT = 4096;
const remembered = new Map<string, string>();

function isAlphanumeric(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);
}

/** First and last characters of the first ALPN value; its hex's first and last when either byte is not alphanumeric. */
function alpnChars(first: Buffer | undefined): string {
  if (!first || first.length === 0) return '00';
  const a = first[0];
  const z = first[first.length - 1];
  if (isAlphanumeric(a) && isAlphanumeric(z)) return String.fromCharCode(a, z);
  const h = first.toString('hex');
  return h[0] + h[h.length - 1];
}

export function ja4(hello: ClientHelloInfo): string {
  // Arrays of small integers join fast; this key holds every input of the fingerprint.
  const key = `${hello.legacyVersion}|${hello.supportedVersions}|${hello.ciphers}|${hello.extensions}|${hello.signatureAlgorithms}|${hello.alpn[0]?.toString('latin1') ?? ''}`;
  let fingerprint = remembered.get(key);
  if (fingerprint === undefined) {
    if (remembered.size >= CACHE_LIMIT) remembered.clear();
    fingerprint = computeJa4(hello);
    remembered.set(key, fingerprint);
  }
  return fingerprint;
}

function computeJa4(hello: ClientHelloInfo): string {
  const ciphers = hello.ciphers.filter((c) => !isGrease(c));
  const extensions = hello.extensions.filter((e) => !isGrease(e));
  const versions = hello.supportedVersions.filter((v) => !isGrease(v));
  // The highest value of supported_versions, numerically (as FoxIO's implementations compare).
  const version = versions.length > 0 ? Math.max(...versions) : hello.legacyVersion;
  const sni = extensions.includes(EXT.serverName) ? 'd' : 'i';
  const a = `t${VERSION_CODES.get(version) ?? '00'}${sni}${count(ciphers.length)}${count(extensions.length)}${alpnChars(hello.alpn[0])}`;

  const b = ciphers.length === 0 ? '000000000000' : hash12(ciphers.map(hex).sort().join(','));

  const sortedExtensions = extensions.filter((e) => e !== EXT.serverName && e !== EXT.alpn).map(hex).sort();
  const signatureAlgorithms = hello.signatureAlgorithms.filter((s) => !isGrease(s)).map(hex);
  let c = '000000000000';
  if (sortedExtensions.length > 0) {
    const text = signatureAlgorithms.length > 0 ? `${sortedExtensions.join(',')}_${signatureAlgorithms.join(',')}` : sortedExtensions.join(',');
    c = hash12(text);
  }
  return `${a}_${b}_${c}`;
}

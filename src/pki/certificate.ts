/**
 * X.509 certificates as CertificateInfo. The DER reader (der.ts, name.ts) gives the names,
 * serial, validity, key and extensions; node:crypto's X509Certificate, which must accept the
 * certificate too, does signatures and name checks later (verdict.ts). Results are cached: a
 * capture shows the same few certificates on thousands of connections.
 */
import { X509Certificate, createHash } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { formatAddress } from '../decode/address.js';
import type { CertificateInfo } from '../model/protocol.js';
import {
  DerError,
  Tag,
  bitStringBits,
  bitStringOctets,
  children,
  content,
  contextTag,
  decodeBoolean,
  decodeOid,
  decodeTime,
  expectTlv,
  integerBits,
  integerHex,
  readTlv,
} from './der.js';
import type { Tlv } from './der.js';
import { LruCache } from './lru.js';
import { formatName } from './name.js';

/** A certificate as the verdict needs it: the public record plus what verification uses. */
export interface ParsedCertificate {
  /** Frozen: the same object is handed out for every sighting. */
  readonly info: CertificateInfo;
  readonly x509: X509Certificate;
  /** Null when node:crypto cannot load the key (an algorithm OpenSSL does not know). */
  readonly publicKey: KeyObject | null;
  readonly notBefore: number;
  readonly notAfter: number;
}

const CERTIFICATE_CACHE_SIZE = 10_000;
/** Bytes at the end of a certificate (its signature's) that, with its length, find its cache entry. */
const CACHE_KEY_TAIL = 16;
/**
 * An entry keeps a copy of a certificate this long or shorter, to confirm a match by comparing
 * bytes (real certificates are 0.5 to 3 KiB); a longer one, or bytes that are not a certificate,
 * are confirmed by their SHA-256, so that the cache never holds much more than the certificates.
 */
const MAX_COMPARED_BYTES = 4096;

/** A certificate seen before: how to confirm a match, and what its bytes parsed to. */
interface CacheEntry {
  readonly der: Buffer | null;
  readonly sha256: string;
  readonly parsed: ParsedCertificate | null;
}

const cache = new LruCache<string, CacheEntry>(CERTIFICATE_CACHE_SIZE);

/** The certificate's facts, or null when the bytes are not a certificate. Never throws. */
export function parseCertificate(der: Buffer): CertificateInfo | null {
  return loadCertificate(der)?.info ?? null;
}

/**
 * parseCertificate with what verification needs; cached. Every TLS flow looks up its chain twice
 * (its facts, its verdict): the entry is found by the length and the last bytes, which are the
 * signature's, then confirmed by comparing the bytes, rather than hashing every sighting (SHA-256
 * of a certificate cost more than the rest of the lookup).
 */
export function loadCertificate(der: Buffer): ParsedCertificate | null {
  const key = `${der.length}:${der.toString('latin1', Math.max(der.length - CACHE_KEY_TAIL, 0))}`;
  const seen = cache.get(key);
  if (seen?.der?.equals(der)) return seen.parsed;
  const sha256 = createHash('sha256').update(der).digest('hex');
  if (seen?.der === null && seen.sha256 === sha256) return seen.parsed;
  let parsed: ParsedCertificate | null;
  try {
    parsed = parse(der, sha256);
  } catch {
    // DerError from our reader, or whatever OpenSSL says about bytes it refuses: not a certificate.
    parsed = null;
  }
  cache.set(key, { der: parsed !== null && der.length <= MAX_COMPARED_BYTES ? ownCopy(der) : null, sha256, parsed });
  return parsed;
}

/** A copy in a buffer of its own: Buffer.from would take a slice of the shared pool and keep all of it alive. */
function ownCopy(bytes: Buffer): Buffer {
  const copy = Buffer.alloc(bytes.length);
  bytes.copy(copy);
  return copy;
}

const KEY_TYPES: ReadonlyMap<string, string> = new Map([
  ['1.2.840.113549.1.1.1', 'RSA'],
  ['1.2.840.113549.1.1.10', 'RSA-PSS'],
  ['1.2.840.10045.2.1', 'EC'],
  ['1.3.101.112', 'Ed25519'],
  ['1.3.101.113', 'Ed448'],
  ['1.2.840.10040.4.1', 'DSA'],
]);

/** OpenSSL's curve names, and their sizes. */
const CURVES: ReadonlyMap<string, { name: string; bits: number }> = new Map([
  ['1.2.840.10045.3.1.7', { name: 'prime256v1', bits: 256 }],
  ['1.3.132.0.34', { name: 'secp384r1', bits: 384 }],
  ['1.3.132.0.35', { name: 'secp521r1', bits: 521 }],
  ['1.3.132.0.10', { name: 'secp256k1', bits: 256 }],
  ['1.2.840.10045.3.1.1', { name: 'prime192v1', bits: 192 }],
  ['1.3.132.0.33', { name: 'secp224r1', bits: 224 }],
]);

/** RFC 5280 §4.2.1.3 bit order. */
const KEY_USAGES = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;

/** OpenSSL's short names for extended key usages; others stay dotted OIDs. */
const EXT_KEY_USAGES: ReadonlyMap<string, string> = new Map([
  ['1.3.6.1.5.5.7.3.1', 'serverAuth'],
  ['1.3.6.1.5.5.7.3.2', 'clientAuth'],
  ['1.3.6.1.5.5.7.3.3', 'codeSigning'],
  ['1.3.6.1.5.5.7.3.4', 'emailProtection'],
  ['1.3.6.1.5.5.7.3.8', 'timeStamping'],
  ['1.3.6.1.5.5.7.3.9', 'OCSPSigning'],
  ['2.5.29.37.0', 'anyExtendedKeyUsage'],
]);

const OID_SUBJECT_ALT_NAME = '2.5.29.17';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_KEY_USAGE = '2.5.29.15';
const OID_EXT_KEY_USAGE = '2.5.29.37';

function parse(der: Buffer, sha256: string): ParsedCertificate {
  const certificate = expectTlv(der, 0, der.length, Tag.SEQUENCE);
  // Trailing bytes mean the buffer is not one certificate (OpenSSL would ignore them).
  if (certificate.end !== der.length) throw new DerError('bytes after the certificate');
  const [tbs, signatureAlgorithm, signature, extra] = children(certificate);
  if (!tbs || tbs.tag !== Tag.SEQUENCE || signatureAlgorithm?.tag !== Tag.SEQUENCE || signature?.tag !== Tag.BIT_STRING || extra) {
    throw new DerError('not a Certificate');
  }

  const fields = children(tbs);
  let i = fields[0]?.tag === contextTag(0, true) ? 1 : 0;
  const [serial, , issuer, validity, subject, spki] = fields.slice(i, i + 6);
  i += 6;
  if (!spki || validity.tag !== Tag.SEQUENCE || spki.tag !== Tag.SEQUENCE) throw new DerError('short TBSCertificate');
  const [notBeforeTlv, notAfterTlv] = children(validity);
  if (!notAfterTlv) throw new DerError('bad Validity');
  const notBefore = decodeTime(notBeforeTlv);
  const notAfter = decodeTime(notAfterTlv);
  const extensionsTlv = fields.slice(i).find((field) => field.tag === contextTag(3, true));
  const extensions = extensionsTlv ? readExtensions(extensionsTlv) : new Map<string, Tlv>();

  const x509 = new X509Certificate(der);
  const publicKey = loadPublicKey(x509);
  const subjectName = formatName(subject);
  const issuerName = formatName(issuer);
  const key = describeKey(spki);
  const basicConstraints = extensions.get(OID_BASIC_CONSTRAINTS);
  const keyUsage = extensions.get(OID_KEY_USAGE);
  const extKeyUsage = extensions.get(OID_EXT_KEY_USAGE);
  const san = extensions.get(OID_SUBJECT_ALT_NAME);

  const info: CertificateInfo = {
    subject: subjectName,
    issuer: issuerName,
    serial: integerHex(serial),
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    sha256,
    // Same name and a signature its own key verifies: a root (or a lone self-signed leaf).
    selfSigned: subjectName === issuerName && publicKey !== null && verifies(x509, publicKey),
    san: Object.freeze(san ? subjectAltNames(san) : []) as string[],
    keyType: key.type,
    keySize: key.size,
    curve: key.curve,
    isCA: basicConstraints ? isCa(basicConstraints) : false,
    keyUsage: Object.freeze(keyUsage ? keyUsages(keyUsage) : []) as string[],
    extKeyUsage: Object.freeze(extKeyUsage ? extKeyUsages(extKeyUsage) : []) as string[],
  };
  return { info: Object.freeze(info), x509, publicKey, notBefore: notBefore.getTime(), notAfter: notAfter.getTime() };
}

/** Extension values by OID, each the TLV inside its OCTET STRING. */
function readExtensions(tlv: Tlv): Map<string, Tlv> {
  const [sequence] = children(tlv);
  if (sequence?.tag !== Tag.SEQUENCE) throw new DerError('bad extensions');
  const out = new Map<string, Tlv>();
  for (const extension of children(sequence)) {
    const parts = children(extension);
    const value = parts[parts.length - 1];
    if (parts.length < 2 || value.tag !== Tag.OCTET_STRING) throw new DerError(`bad extension at ${extension.start}`);
    const inner = readTlv(value.buf, value.contentStart, value.end);
    if (inner.end !== value.end) throw new DerError(`bytes after extension value at ${extension.start}`);
    out.set(decodeOid(parts[0]), inner);
  }
  return out;
}

function loadPublicKey(x509: X509Certificate): KeyObject | null {
  try {
    return x509.publicKey;
  } catch {
    return null;
  }
}

/** X509Certificate.verify, which throws on some malformed signatures instead of saying false. */
export function verifies(x509: X509Certificate, key: KeyObject): boolean {
  try {
    return x509.verify(key);
  } catch {
    return false;
  }
}

function describeKey(spki: Tlv): { type: string; size: number | null; curve: string | null } {
  const [algorithm, key] = children(spki);
  if (algorithm?.tag !== Tag.SEQUENCE || !key) throw new DerError('bad SubjectPublicKeyInfo');
  const [oidTlv, parameters] = children(algorithm);
  const oid = decodeOid(oidTlv);
  const type = KEY_TYPES.get(oid) ?? oid;
  if (type === 'RSA' || type === 'RSA-PSS') {
    const keyBytes = bitStringOctets(key);
    const [modulus] = children(expectTlv(keyBytes, 0, keyBytes.length, Tag.SEQUENCE));
    return { type, size: integerBits(modulus), curve: null };
  }
  if (type === 'EC') {
    // Named curves only: explicit parameters (a SEQUENCE) are rare and not worth naming.
    if (parameters?.tag !== Tag.OID) return { type, size: null, curve: null };
    const curveOid = decodeOid(parameters);
    const curve = CURVES.get(curveOid);
    return { type, size: curve?.bits ?? null, curve: curve?.name ?? curveOid };
  }
  if (type === 'DSA' && parameters?.tag === Tag.SEQUENCE) {
    const [p] = children(parameters);
    return { type, size: p ? integerBits(p) : null, curve: null };
  }
  return { type, size: null, curve: null };
}

function isCa(tlv: Tlv): boolean {
  const [first] = children(expectTlv(tlv.buf, tlv.start, tlv.end, Tag.SEQUENCE));
  return first?.tag === Tag.BOOLEAN && decodeBoolean(first);
}

function keyUsages(tlv: Tlv): string[] {
  return bitStringBits(tlv).flatMap((set, bit) => (set && bit < KEY_USAGES.length ? [KEY_USAGES[bit]] : []));
}

function extKeyUsages(tlv: Tlv): string[] {
  return children(expectTlv(tlv.buf, tlv.start, tlv.end, Tag.SEQUENCE)).map((oidTlv) => {
    const oid = decodeOid(oidTlv);
    return EXT_KEY_USAGES.get(oid) ?? oid;
  });
}

/** GeneralNames as openssl-style `TYPE:value` strings. */
function subjectAltNames(tlv: Tlv): string[] {
  const names: string[] = [];
  for (const name of children(expectTlv(tlv.buf, tlv.start, tlv.end, Tag.SEQUENCE))) {
    const bytes = content(name);
    switch (name.tag) {
      case contextTag(1, false):
        names.push(`email:${bytes.toString('latin1')}`);
        break;
      case contextTag(2, false):
        names.push(`DNS:${bytes.toString('latin1')}`);
        break;
      case contextTag(6, false):
        names.push(`URI:${bytes.toString('latin1')}`);
        break;
      case contextTag(7, false):
        // An address is 4 or 16 octets; anything else is shown, not guessed at.
        names.push(`IP:${bytes.length === 4 || bytes.length === 16 ? formatAddress(bytes, 0, bytes.length) : `#${bytes.toString('hex')}`}`);
        break;
      case contextTag(4, true): {
        const [directoryName] = children(name);
        if (directoryName) names.push(`DirName:${formatName(directoryName)}`);
        break;
      }
      case contextTag(0, true): {
        const [typeId] = children(name);
        if (typeId?.tag === Tag.OID) names.push(`othername:${decodeOid(typeId)}`);
        break;
      }
      // x400Address, ediPartyName and registeredID: not seen in TLS server certificates.
    }
  }
  return names;
}

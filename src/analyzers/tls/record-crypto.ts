/**
 * TLS record protection from node:crypto: the key derivations (TLS 1.3 HKDF-Expand-Label,
 * RFC 8446 §7.1 and §7.3; the TLS 1.2 PRF, RFC 5246 §5 and §6.3) and the opening of AEAD records
 * (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305; RFC 8446 §5.2–5.3, RFC 5288, RFC 7905).
 * CBC and stream suites are not decrypted (decisions.md).
 */
import { createDecipheriv, createHmac, type CipherGCMTypes } from 'node:crypto';
import { cipherName } from './names.js';

export type Aead = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
export type HashName = 'sha256' | 'sha384';

export interface CipherSpec {
  aead: Aead;
  keyLength: number;
  hash: HashName;
}

const TAG_LENGTH = 16;
/** TLS 1.2 GCM: the implicit part of the nonce from the key block, then 8 explicit bytes in each record. */
const GCM_FIXED_IV = 4;
const GCM_EXPLICIT_NONCE = 8;
const NONCE_LENGTH = 12;

/** The AEAD and PRF hash of a suite, read from its IANA name; null for suites not decrypted here. */
export function cipherSpec(code: number): CipherSpec | null {
  const name = cipherName(code);
  const hash: HashName = name.endsWith('_SHA384') ? 'sha384' : 'sha256';
  if (name.includes('_AES_128_GCM_')) return { aead: 'aes-128-gcm', keyLength: 16, hash };
  if (name.includes('_AES_256_GCM_')) return { aead: 'aes-256-gcm', keyLength: 32, hash };
  if (name.includes('_CHACHA20_POLY1305_')) return { aead: 'chacha20-poly1305', keyLength: 32, hash };
  return null;
}

/** HKDF-Expand (RFC 5869 §2.3). */
function hkdfExpand(hash: HashName, prk: Buffer, info: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  let produced = 0;
  for (let counter = 1; produced < length; counter++) {
    previous = createHmac(hash, prk).update(previous).update(info).update(Buffer.from([counter])).digest();
    blocks.push(previous);
    produced += previous.length;
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** HKDF-Expand-Label (RFC 8446 §7.1): the label is prefixed with `tls13 `. */
export function hkdfExpandLabel(hash: HashName, secret: Buffer, label: string, context: Buffer, length: number): Buffer {
  const fullLabel = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, fullLabel.length]), fullLabel, Buffer.from([context.length]), context]);
  return hkdfExpand(hash, secret, info, length);
}

/** The TLS 1.2 PRF, P_hash(secret, label + seed) (RFC 5246 §5). */
export function tls12Prf(hash: HashName, secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  const labelSeed = Buffer.concat([Buffer.from(label, 'latin1'), seed]);
  const blocks: Buffer[] = [];
  let a = labelSeed;
  let produced = 0;
  while (produced < length) {
    a = createHmac(hash, secret).update(a).digest();
    const block = createHmac(hash, secret).update(a).update(labelSeed).digest();
    blocks.push(block);
    produced += block.length;
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** One direction's record protection: key, IV and the sequence number of the next record. */
export interface TrafficKey {
  aead: Aead;
  key: Buffer;
  /** 12 bytes (TLS 1.3 and TLS 1.2 ChaCha20), or the 4-byte implicit salt (TLS 1.2 GCM). */
  iv: Buffer;
  tls13: boolean;
  seq: bigint;
}

/** TLS 1.3 traffic key and IV from a traffic secret (RFC 8446 §7.3). */
export function tls13TrafficKey(spec: CipherSpec, secret: Buffer): TrafficKey {
  return {
    aead: spec.aead,
    key: hkdfExpandLabel(spec.hash, secret, 'key', Buffer.alloc(0), spec.keyLength),
    iv: hkdfExpandLabel(spec.hash, secret, 'iv', Buffer.alloc(0), NONCE_LENGTH),
    tls13: true,
    seq: 0n,
  };
}

/** The next traffic secret after a KeyUpdate (RFC 8446 §7.2). */
export function nextTrafficSecret(spec: CipherSpec, secret: Buffer): Buffer {
  return hkdfExpandLabel(spec.hash, secret, 'traffic upd', Buffer.alloc(0), secret.length);
}

/** TLS 1.2 client and server write keys from the master secret (RFC 5246 §6.3; AEAD suites have no MAC keys). */
export function tls12TrafficKeys(spec: CipherSpec, masterSecret: Buffer, clientRandom: Buffer, serverRandom: Buffer): [client: TrafficKey, server: TrafficKey] {
  const ivLength = spec.aead === 'chacha20-poly1305' ? NONCE_LENGTH : GCM_FIXED_IV;
  const block = tls12Prf(spec.hash, masterSecret, 'key expansion', Buffer.concat([serverRandom, clientRandom]), 2 * (spec.keyLength + ivLength));
  const k = spec.keyLength;
  const key = (at: number, iv: number): TrafficKey => ({ aead: spec.aead, key: block.subarray(at, at + k), iv: block.subarray(iv, iv + ivLength), tls13: false, seq: 0n });
  return [key(0, 2 * k), key(k, 2 * k + ivLength)];
}

/** The IV XOR the sequence number, right-aligned (RFC 8446 §5.3, RFC 7905 §2). */
function xorNonce(iv: Buffer, seq: bigint): Buffer {
  const nonce = Buffer.from(iv);
  let s = seq;
  for (let i = NONCE_LENGTH - 1; i >= NONCE_LENGTH - 8; i--) {
    nonce[i] ^= Number(s & 0xffn);
    s >>= 8n;
  }
  return nonce;
}

function sequenceBytes(seq: bigint): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(seq);
  return bytes;
}

function aeadOpen(aead: Aead, key: Buffer, nonce: Buffer, aad: Buffer, ciphertext: Buffer, tag: Buffer): Buffer | null {
  try {
    // ChaCha20-Poly1305 takes the same calls as GCM; the typings only list it apart.
    const decipher = createDecipheriv(aead as CipherGCMTypes, key, nonce, { authTagLength: TAG_LENGTH });
    decipher.setAAD(aad, { plaintextLength: ciphertext.length });
    decipher.setAuthTag(tag);
    const head = decipher.update(ciphertext);
    const tail = decipher.final();
    return tail.length === 0 ? head : Buffer.concat([head, tail]);
  } catch {
    // The tag does not authenticate (wrong key, wrong sequence, altered bytes): nothing is guessed.
    return null;
  }
}

/** An opened record: its real content type and its content. */
export interface OpenedRecord {
  type: number;
  content: Buffer;
}

/**
 * Opens one protected record (`header` its 5 bytes, `body` the rest) and advances the sequence
 * number; null when the record does not authenticate. TLS 1.3 takes the real content type from
 * the end of the inner plaintext, after its zero padding (RFC 8446 §5.4).
 */
export function openRecord(key: TrafficKey, header: Buffer, body: Buffer): OpenedRecord | null {
  if (body.length < TAG_LENGTH) return null;
  if (key.tls13) {
    const plain = aeadOpen(key.aead, key.key, xorNonce(key.iv, key.seq), header, body.subarray(0, body.length - TAG_LENGTH), body.subarray(body.length - TAG_LENGTH));
    if (plain === null) return null;
    key.seq++;
    let end = plain.length;
    while (end > 0 && plain[end - 1] === 0) end--;
    // An inner plaintext of zeros only has no content type: a protocol violation, not data.
    if (end === 0) return null;
    return { type: plain[end - 1], content: plain.subarray(0, end - 1) };
  }
  const explicit = key.aead === 'chacha20-poly1305' ? 0 : GCM_EXPLICIT_NONCE;
  if (body.length < explicit + TAG_LENGTH) return null;
  const nonce = explicit === 0 ? xorNonce(key.iv, key.seq) : Buffer.concat([key.iv, body.subarray(0, explicit)]);
  const ciphertext = body.subarray(explicit, body.length - TAG_LENGTH);
  const aad = Buffer.concat([sequenceBytes(key.seq), header.subarray(0, 3), Buffer.from([ciphertext.length >> 8, ciphertext.length & 0xff])]);
  const plain = aeadOpen(key.aead, key.key, nonce, aad, ciphertext, body.subarray(body.length - TAG_LENGTH));
  if (plain === null) return null;
  key.seq++;
  return { type: header[0], content: plain };
}

/**
 * A minimal DER reader: enough of X.690 to walk a certificate. Every read is bounds-checked
 * against its parent and throws DerError on anything malformed; parseCertificate turns that
 * into null.
 */

export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

/** Universal tags used in certificates. */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  NUMERIC_STRING: 0x12,
  PRINTABLE_STRING: 0x13,
  TELETEX_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  VISIBLE_STRING: 0x1a,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** One tag-length-value: `tag` is the whole identifier octet (class, constructed bit, number). */
export interface Tlv {
  readonly buf: Buffer;
  readonly tag: number;
  /** Offset of the identifier octet. */
  readonly start: number;
  /** Offset of the first content octet. */
  readonly contentStart: number;
  /** Offset just past the content. */
  readonly end: number;
}

/** Context-specific tag `[n]`, constructed or primitive. */
export function contextTag(n: number, constructed: boolean): number {
  return 0x80 | (constructed ? 0x20 : 0) | n;
}

/** Reads the TLV at `offset`, which must end by `limit`. */
export function readTlv(buf: Buffer, offset: number, limit: number = buf.length): Tlv {
  if (offset + 2 > limit) throw new DerError(`truncated header at ${offset}`);
  const tag = buf[offset];
  // Certificates use no tag numbers above 30 (the multi-byte form).
  if ((tag & 0x1f) === 0x1f) throw new DerError(`high tag number at ${offset}`);
  let pos = offset + 1;
  const first = buf[pos++];
  let length: number;
  if (first < 0x80) {
    length = first;
  } else {
    const octets = first & 0x7f;
    // 0x80 is BER's indefinite length, forbidden in DER; more than 4 octets is no certificate.
    if (octets === 0 || octets > 4) throw new DerError(`bad length form at ${offset}`);
    if (pos + octets > limit) throw new DerError(`truncated length at ${offset}`);
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + buf[pos++];
  }
  const end = pos + length;
  if (end > limit) throw new DerError(`length ${length} at ${offset} overruns its container`);
  return { buf, tag, start: offset, contentStart: pos, end };
}

/** Reads a TLV and checks its tag. */
export function expectTlv(buf: Buffer, offset: number, limit: number, tag: number): Tlv {
  const tlv = readTlv(buf, offset, limit);
  if (tlv.tag !== tag) throw new DerError(`expected tag 0x${tag.toString(16)} at ${offset}, got 0x${tlv.tag.toString(16)}`);
  return tlv;
}

/** The TLVs inside a constructed TLV. */
export function children(tlv: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let pos = tlv.contentStart; pos < tlv.end; ) {
    const child = readTlv(tlv.buf, pos, tlv.end);
    out.push(child);
    pos = child.end;
  }
  return out;
}

export function content(tlv: Tlv): Buffer {
  return tlv.buf.subarray(tlv.contentStart, tlv.end);
}

/** The whole encoding, header included. */
export function encoding(tlv: Tlv): Buffer {
  return tlv.buf.subarray(tlv.start, tlv.end);
}

export function decodeOid(tlv: Tlv): string {
  if (tlv.tag !== Tag.OID) throw new DerError(`expected an OID at ${tlv.start}`);
  const bytes = content(tlv);
  if (bytes.length === 0) throw new DerError(`empty OID at ${tlv.start}`);
  const arcs: string[] = [];
  let value = 0n;
  let pending = false;
  for (const byte of bytes) {
    value = (value << 7n) | BigInt(byte & 0x7f);
    pending = (byte & 0x80) !== 0;
    if (pending) continue;
    if (arcs.length === 0) {
      // The first subidentifier packs the first two arcs: 40 * X + Y, with X at most 2.
      const x = value < 40n ? 0n : value < 80n ? 1n : 2n;
      arcs.push(String(x), String(value - 40n * x));
    } else {
      arcs.push(String(value));
    }
    value = 0n;
  }
  if (pending) throw new DerError(`truncated OID at ${tlv.start}`);
  return arcs.join('.');
}

/** A positive or negative INTEGER's magnitude as upper-case hex, as openssl prints serials. */
export function integerHex(tlv: Tlv): string {
  if (tlv.tag !== Tag.INTEGER) throw new DerError(`expected an INTEGER at ${tlv.start}`);
  let bytes = content(tlv);
  if (bytes.length === 0) throw new DerError(`empty INTEGER at ${tlv.start}`);
  const negative = (bytes[0] & 0x80) !== 0;
  if (negative) {
    // Two's complement magnitude; openssl prints it with a leading '-'.
    const magnitude = (1n << BigInt(bytes.length * 8)) - BigInt(`0x${bytes.toString('hex')}`);
    return `-${evenHex(magnitude.toString(16)).toUpperCase()}`;
  }
  while (bytes.length > 1 && bytes[0] === 0) bytes = bytes.subarray(1);
  return bytes.toString('hex').toUpperCase();
}

function evenHex(hex: string): string {
  return hex.length % 2 === 0 ? hex : `0${hex}`;
}

/** Bit length of a non-negative INTEGER (an RSA modulus). */
export function integerBits(tlv: Tlv): number {
  if (tlv.tag !== Tag.INTEGER) throw new DerError(`expected an INTEGER at ${tlv.start}`);
  let bytes = content(tlv);
  while (bytes.length > 0 && bytes[0] === 0) bytes = bytes.subarray(1);
  if (bytes.length === 0) return 0;
  return (bytes.length - 1) * 8 + (32 - Math.clz32(bytes[0]));
}

export function decodeBoolean(tlv: Tlv): boolean {
  if (tlv.tag !== Tag.BOOLEAN || tlv.end - tlv.contentStart !== 1) throw new DerError(`bad BOOLEAN at ${tlv.start}`);
  return tlv.buf[tlv.contentStart] !== 0;
}

/** A BIT STRING's bits, first bit first (bit 0 is the most significant bit of the first octet). */
export function bitStringBits(tlv: Tlv): boolean[] {
  if (tlv.tag !== Tag.BIT_STRING || tlv.end === tlv.contentStart) throw new DerError(`bad BIT STRING at ${tlv.start}`);
  const unused = tlv.buf[tlv.contentStart];
  if (unused > 7) throw new DerError(`bad BIT STRING padding at ${tlv.start}`);
  const bits: boolean[] = [];
  const octets = tlv.buf.subarray(tlv.contentStart + 1, tlv.end);
  const count = octets.length * 8 - unused;
  for (let i = 0; i < count; i++) bits.push((octets[i >> 3] & (0x80 >> (i & 7))) !== 0);
  return bits;
}

/** A BIT STRING holding whole octets (a public key), without its padding octet. */
export function bitStringOctets(tlv: Tlv): Buffer {
  if (tlv.tag !== Tag.BIT_STRING || tlv.end === tlv.contentStart || tlv.buf[tlv.contentStart] !== 0) {
    throw new DerError(`expected an octet-aligned BIT STRING at ${tlv.start}`);
  }
  return tlv.buf.subarray(tlv.contentStart + 1, tlv.end);
}

/** UTCTime (YYMMDDHHMMSSZ, years 1950–2049) or GeneralizedTime (YYYYMMDDHHMMSSZ) as a Date. */
export function decodeTime(tlv: Tlv): Date {
  const text = content(tlv).toString('latin1');
  const match =
    tlv.tag === Tag.UTC_TIME
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/.exec(text)
      : tlv.tag === Tag.GENERALIZED_TIME
        ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/.exec(text)
        : null;
  if (!match) throw new DerError(`bad time ${JSON.stringify(text)} at ${tlv.start}`);
  let year = Number(match[1]);
  if (tlv.tag === Tag.UTC_TIME) year += year < 50 ? 2000 : 1900;
  const [month, day, hour, minute, second] = match.slice(2, 7).map((part) => Number(part ?? '0'));
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(ms);
  // Date.UTC rolls 31 February over into March: a field out of range is a bad time.
  if (Number.isNaN(ms) || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    throw new DerError(`bad time ${JSON.stringify(text)} at ${tlv.start}`);
  }
  // Date.UTC maps years 0–99 to 1900–1999; GeneralizedTime can say 0050.
  if (year < 100) date.setUTCFullYear(year);
  return date;
}

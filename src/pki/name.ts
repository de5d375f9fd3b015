/**
 * X.501 Names as RFC 4514 strings, exactly as python-cryptography's `Name.rfc4514_string()`
 * prints them (the subjects in ../shared/captures/thirdparty/MANIFEST.md):
 * - RDNs in reverse of their DER order, joined by `,` (the usual DER order C, ST, L, O, CN comes
 *   out `CN=…,O=…,L=…,ST=…,C=…`); the attributes of a multi-valued RDN in DER order, joined by `+`;
 * - short names only for CN, L, ST, O, OU, C, STREET, DC and UID; every other type (emailAddress,
 *   serialNumber, postalCode, businessCategory, jurisdiction…) as its dotted OID;
 * - `\` `"` `+` `,` `;` `<` `>` escaped with a backslash, NUL as `\00`, a leading `#` or space and a
 *   trailing space escaped;
 * - a value that is not a character string as `#` and the hex of its DER encoding (RFC 4514 §2.4).
 */
import { DerError, Tag, children, content, decodeOid, encoding, expectTlv, readTlv } from './der.js';
import type { Tlv } from './der.js';

const SHORT_NAMES: ReadonlyMap<string, string> = new Map([
  ['2.5.4.3', 'CN'],
  ['2.5.4.7', 'L'],
  ['2.5.4.8', 'ST'],
  ['2.5.4.10', 'O'],
  ['2.5.4.11', 'OU'],
  ['2.5.4.6', 'C'],
  ['2.5.4.9', 'STREET'],
  ['0.9.2342.19200300.100.1.25', 'DC'],
  ['0.9.2342.19200300.100.1.1', 'UID'],
]);

/** The string types whose octets are text; the narrow ones decode as UTF-8, as python-cryptography does. */
const TEXT_TAGS: ReadonlySet<number> = new Set([
  Tag.UTF8_STRING,
  Tag.NUMERIC_STRING,
  Tag.PRINTABLE_STRING,
  Tag.TELETEX_STRING,
  Tag.IA5_STRING,
  Tag.VISIBLE_STRING,
]);

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf16be = new TextDecoder('utf-16be', { fatal: true });

/** A DER Name on its own, such as a CertificateRequest's certificate_authorities entry; null if it is not one. */
export function formatDistinguishedName(der: Buffer): string | null {
  try {
    const tlv = readTlv(der, 0);
    return tlv.end === der.length ? formatName(tlv) : null;
  } catch {
    // DerError, or a BMPString/UniversalString that is not text.
    return null;
  }
}

/** Renders the Name (a SEQUENCE OF RDN) at `tlv`. */
export function formatName(tlv: Tlv): string {
  if (tlv.tag !== Tag.SEQUENCE) throw new DerError(`expected a Name at ${tlv.start}`);
  return children(tlv)
    .map((rdn) => {
      if (rdn.tag !== Tag.SET) throw new DerError(`expected an RDN at ${rdn.start}`);
      return children(rdn).map(formatAttribute).join('+');
    })
    .reverse()
    .join(',');
}

function formatAttribute(tlv: Tlv): string {
  const [type, value, extra] = children(expectTlv(tlv.buf, tlv.start, tlv.end, Tag.SEQUENCE));
  if (!type || !value || extra) throw new DerError(`bad AttributeTypeAndValue at ${tlv.start}`);
  const oid = decodeOid(type);
  return `${SHORT_NAMES.get(oid) ?? oid}=${formatValue(value)}`;
}

function formatValue(tlv: Tlv): string {
  const text = decodeText(tlv);
  return text === null ? `#${encoding(tlv).toString('hex')}` : escapeValue(text);
}

function decodeText(tlv: Tlv): string | null {
  const bytes = content(tlv);
  if (TEXT_TAGS.has(tlv.tag)) {
    try {
      return utf8.decode(bytes);
    } catch {
      // Teletex and mislabelled strings in old certificates are Latin-1 in practice.
      return bytes.toString('latin1');
    }
  }
  if (tlv.tag === Tag.BMP_STRING) return utf16be.decode(bytes);
  if (tlv.tag === Tag.UNIVERSAL_STRING) {
    if (bytes.length % 4 !== 0) throw new DerError(`bad UniversalString at ${tlv.start}`);
    const points: number[] = [];
    for (let i = 0; i < bytes.length; i += 4) points.push(bytes.readUInt32BE(i));
    return String.fromCodePoint(...points);
  }
  return null;
}

function escapeValue(value: string): string {
  if (value === '') return '';
  let out = value.replace(/[\\"+,;<>]/g, (c) => `\\${c}`).replaceAll('\0', '\\00');
  if (out.startsWith('#') || out.startsWith(' ')) out = `\\${out}`;
  if (out.endsWith(' ')) out = `${out.slice(0, -1)}\\ `;
  return out;
}

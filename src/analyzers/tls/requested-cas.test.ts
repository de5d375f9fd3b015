/** The CertificateRequest CA names are formatted by pki/ as certificate names are (real subjects: corpus.test.ts). */
import { describe, expect, it } from 'vitest';
import { formatDistinguishedName } from '../../pki/index.js';
import { derName } from './testing.js';

const tlv = (tag: number, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag, body.length]), body]);
};
const oid = (hex: string): Buffer => tlv(0x06, Buffer.from(hex, 'hex'));
const atv = (oidHex: string, value: Buffer): Buffer => tlv(0x30, oid(oidHex), value);

describe('formatDistinguishedName', () => {
  it('prints the RDNs last first, with RFC 4514 escaping', () => {
    expect(formatDistinguishedName(derName('kubernetes'))).toBe('CN=kubernetes');
    expect(formatDistinguishedName(derName('root', 'Facebook, Inc.'))).toBe('CN=Facebook\\, Inc.,CN=root');
    expect(formatDistinguishedName(derName(' #lead', 'trail '))).toBe('CN=trail\\ ,CN=\\ #lead');
  });

  it('names the RFC 4514 keywords, prints other attributes by OID, joins a multi-valued RDN with +', () => {
    const name = tlv(
      0x30,
      tlv(0x31, atv('550406', tlv(0x13, Buffer.from('US')))),
      tlv(0x31, atv('55040a', tlv(0x0c, Buffer.from('system:nodes'))), atv('550405', tlv(0x13, Buffer.from('42')))),
      tlv(0x31, atv('2a864886f70d010901', tlv(0x16, Buffer.from('a@b.c')))),
    );
    expect(formatDistinguishedName(name)).toBe('1.2.840.113549.1.9.1=a@b.c,O=system:nodes+2.5.4.5=42,C=US');
  });

  it('decodes BMPString, and prints a value that is not a string as # and its DER in hex', () => {
    const name = tlv(0x30, tlv(0x31, atv('550403', tlv(0x1e, Buffer.from('00e9007400e9', 'hex')))), tlv(0x31, atv('550403', tlv(0x02, Buffer.from([5])))));
    expect(formatDistinguishedName(name)).toBe('CN=#020105,CN=été');
  });

  it('gives null for what is not a Name', () => {
    expect(formatDistinguishedName(Buffer.alloc(0))).toBeNull();
    expect(formatDistinguishedName(Buffer.from('3005310330', 'hex'))).toBeNull();
    expect(formatDistinguishedName(Buffer.from('3103', 'hex'))).toBeNull();
  });
});

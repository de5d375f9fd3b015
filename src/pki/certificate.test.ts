import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDistinguishedName, parseCertificate } from './index.js';
import type { KeyAlgorithm } from './testing.js';
import { CA_EXTENSIONS, TestPki, opensslExtension, opensslReading, serverExtensions } from './testing.js';

/** openssl -text wording → CertificateInfo names. */
const KEY_USAGE_NAMES: Record<string, string> = {
  'Digital Signature': 'digitalSignature',
  'Key Encipherment': 'keyEncipherment',
  'Certificate Sign': 'keyCertSign',
  'CRL Sign': 'cRLSign',
};
const EKU_NAMES: Record<string, string> = {
  'TLS Web Server Authentication': 'serverAuth',
  'TLS Web Client Authentication': 'clientAuth',
};

/** openssl prints `IP Address:2001:DB8:0:0:0:0:0:7`; CertificateInfo has RFC 5952 `IP:2001:db8::7`, as flows do. */
function opensslSan(san: string): string {
  const ip = /^IP Address:(.*)$/.exec(san)?.[1];
  if (ip === undefined) return san;
  return `IP:${ip.includes(':') ? new URL(`http://[${ip}]`).hostname.slice(1, -1) : ip}`;
}

let pki: TestPki;

beforeAll(() => {
  pki = new TestPki();
});

afterAll(() => pki.cleanup());

describe('parseCertificate against openssl', () => {
  const cases: { key: KeyAlgorithm; keyType: string; keySize: number | null; curve: string | null; bitsLine: RegExp }[] = [
    { key: 'rsa2048', keyType: 'RSA', keySize: 2048, curve: null, bitsLine: /Public-Key: \(2048 bit\)/ },
    { key: 'p256', keyType: 'EC', keySize: 256, curve: 'prime256v1', bitsLine: /ASN1 OID: prime256v1/ },
    { key: 'p384', keyType: 'EC', keySize: 384, curve: 'secp384r1', bitsLine: /ASN1 OID: secp384r1/ },
    { key: 'ed25519', keyType: 'Ed25519', keySize: null, curve: null, bitsLine: /ED25519 Public-Key/ },
  ];

  for (const { key, keyType, keySize, curve, bitsLine } of cases) {
    it(`reads a ${key} CA and leaf as openssl does`, () => {
      const ca = pki.issue(`${key}-ca`, { subject: `/C=DE/O=Test ${key}/CN=${key} CA`, key, days: 3650, extensions: CA_EXTENSIONS });
      const leaf = pki.issue(`${key}-leaf`, {
        subject: `/CN=${key}.example`,
        key,
        issuer: `${key}-ca`,
        serial: 0x00c0ffee01,
        extensions: serverExtensions(`DNS:${key}.example,DNS:*.${key}.example,IP:198.18.0.7,IP:2001:db8::7`),
      });

      for (const [certificate, isCA] of [[ca, true], [leaf, false]] as const) {
        const info = parseCertificate(certificate.der)!;
        const openssl = opensslReading(certificate.file);
        expect(info).toMatchObject({
          subject: openssl.subject,
          issuer: openssl.issuer,
          serial: openssl.serial,
          notBefore: openssl.notBefore,
          notAfter: openssl.notAfter,
          sha256: openssl.sha256,
          keyType,
          keySize,
          curve,
          isCA,
          selfSigned: isCA,
        });
        expect(openssl.text).toMatch(bitsLine);
        expect(openssl.text).toContain(`CA:${isCA ? 'TRUE' : 'FALSE'}`);
        expect(info.keyUsage).toEqual(opensslExtension(openssl.text, 'X509v3 Key Usage').map((usage) => KEY_USAGE_NAMES[usage]));
        expect(info.extKeyUsage).toEqual(opensslExtension(openssl.text, 'X509v3 Extended Key Usage').map((usage) => EKU_NAMES[usage]));
        expect(info.san).toEqual(opensslExtension(openssl.text, 'X509v3 Subject Alternative Name').map(opensslSan));
      }
      expect(parseCertificate(ca.der)!.subject).toBe(`CN=${key} CA,O=Test ${key},C=DE`);
      expect(parseCertificate(leaf.der)!.serial).toBe('C0FFEE01');
      expect(parseCertificate(leaf.der)!.san).toEqual([`DNS:${key}.example`, `DNS:*.${key}.example`, 'IP:198.18.0.7', 'IP:2001:db8::7']);
    });
  }

  it('reads kubernetes identities: the kubelet CSR-issued serving certificate', () => {
    pki.issue('kubernetes', { subject: '/CN=kubernetes', key: 'rsa2048', days: 3650, extensions: CA_EXTENSIONS });
    const kubelet = pki.issue('kubelet', {
      subject: '/O=system:nodes/CN=system:node:node1',
      key: 'p256',
      issuer: 'kubernetes',
      extensions: serverExtensions('DNS:node1,IP:198.18.0.21'),
    });
    expect(parseCertificate(kubelet.der)).toMatchObject({
      subject: 'CN=system:node:node1,O=system:nodes',
      issuer: 'CN=kubernetes',
      keyType: 'EC',
      curve: 'prime256v1',
      selfSigned: false,
      extKeyUsage: ['serverAuth'],
      san: ['DNS:node1', 'IP:198.18.0.21'],
    });
  });

  it('writes names as python-cryptography does: escapes, OIDs, multi-valued RDNs', () => {
    const escaped = pki.issue('escaped', {
      subject: '/C=US/ST=California/L=San Francisco/O=Cloudflare, Inc./OU=a\\+b;c<d>"e"/CN=#lead\\/trail /emailAddress=user@xerox.com',
      key: 'p256',
    });
    expect(parseCertificate(escaped.der)!.subject).toBe(
      '1.2.840.113549.1.9.1=user@xerox.com,CN=\\#lead/trail\\ ,OU=a\\+b\\;c\\<d\\>\\"e\\",O=Cloudflare\\, Inc.,L=San Francisco,ST=California,C=US',
    );
    const other = pki.issue('other-attributes', { subject: '/DC=org/DC=example/UID=jdoe/serialNumber=4710875/street=1 Infinite Loop/CN=x', key: 'p256' });
    expect(parseCertificate(other.der)!.subject).toBe('CN=x,STREET=1 Infinite Loop,2.5.4.5=4710875,UID=jdoe,DC=example,DC=org');
    const utf8 = pki.issue('utf8', { subject: '/CN=Ünïcödé Straße/O=日本', key: 'p256' });
    expect(parseCertificate(utf8.der)!.subject).toBe('O=日本,CN=Ünïcödé Straße');
    const multiValued = pki.issue('multi-valued', { subject: '/O=org/CN=a+OU=b', key: 'p256' });
    expect(parseCertificate(multiValued.der)!.subject).toBe('CN=a+OU=b,O=org');
    // openssl's RFC2253 output reverses inside the RDN too; python-cryptography (the manifest's reader) does not.
    expect(opensslReading(multiValued.file).subject).toBe('OU=b+CN=a,O=org');
  });

  it('reads URI and email SANs, and a name that equals its issuer without being self-signed', () => {
    pki.issue('same-name-ca', { subject: '/CN=same', key: 'p256', extensions: CA_EXTENSIONS });
    const leaf = pki.issue('same-name-leaf', {
      subject: '/CN=same',
      key: 'p256',
      issuer: 'same-name-ca',
      extensions: ['subjectAltName=URI:spiffe://cluster.local/ns/default/sa/web,email:ops@example.com'],
    });
    expect(parseCertificate(leaf.der)).toMatchObject({
      subject: 'CN=same',
      issuer: 'CN=same',
      selfSigned: false,
      isCA: false,
      keyUsage: [],
      extKeyUsage: [],
      san: ['URI:spiffe://cluster.local/ns/default/sa/web', 'email:ops@example.com'],
    });
  });

  it('formats a Name on its own, as a CertificateRequest lists CAs', () => {
    // SEQUENCE { SET { SEQUENCE { commonName, UTF8String "kubernetes" } } }
    const name = Buffer.from('3015311330110603550403130a6b756265726e65746573', 'hex');
    expect(formatDistinguishedName(name)).toBe('CN=kubernetes');
    expect(formatDistinguishedName(Buffer.from('3000', 'hex'))).toBe('');
    expect(formatDistinguishedName(name.subarray(0, 10))).toBeNull();
    expect(formatDistinguishedName(Buffer.concat([name, Buffer.from([0])]))).toBeNull();
  });

  it('caches by content and hands out frozen records', () => {
    const der = pki.issue('cached', { subject: '/CN=cached', key: 'p256' }).der;
    const first = parseCertificate(der)!;
    expect(parseCertificate(Buffer.from(der))).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first.san)).toBe(true);
  });

  it('tells apart certificates that share their length and signature bytes (the cache key)', () => {
    const der = pki.issue('twin', { subject: '/CN=twin', key: 'p256' }).der;
    const original = parseCertificate(der)!;
    // The same certificate with one byte of its serial number changed: still DER, same length, same tail.
    const serialByte = der.indexOf(Buffer.from(original.serial.slice(0, 4), 'hex'));
    expect(serialByte).toBeGreaterThan(0);
    const twin = Buffer.from(der);
    twin[serialByte] ^= 0x01;
    const changed = parseCertificate(twin)!;
    expect(changed).not.toBe(original);
    expect(changed.sha256).toBe(createHash('sha256').update(twin).digest('hex'));
    expect(changed.serial).not.toBe(original.serial);
    // Each is still found as itself afterwards.
    expect(parseCertificate(Buffer.from(der))!.sha256).toBe(original.sha256);
    expect(parseCertificate(Buffer.from(twin))!.sha256).toBe(changed.sha256);
  });

  it('keeps no copy of bytes that are not a certificate: they are found again by their SHA-256', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // ArrayBuffers are freed by a sweeper that runs after the collection: give it time to finish.
    const settle = async () => {
      for (let i = 0; i < 5; i++) {
        gc();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return process.memoryUsage().arrayBuffers;
    };
    const before = await settle();
    for (let i = 0; i < 400; i++) {
      const junk = Buffer.alloc(64 * 1024, 0x30);
      junk.writeUInt32BE(i, junk.length - 4);
      expect(parseCertificate(junk)).toBeNull();
      expect(parseCertificate(Buffer.from(junk))).toBeNull();
    }
    // Copies would hold 400 × 64 KiB (25 MiB).
    expect((await settle()) - before).toBeLessThan(8 * 1024 * 1024);
  });

  it('says null for bytes that are not one certificate', () => {
    const certificate = pki.issue('not-quite', { subject: '/CN=not-quite', key: 'p256' });
    expect(parseCertificate(Buffer.alloc(0))).toBeNull();
    expect(parseCertificate(Buffer.from(certificate.pem))).toBeNull();
    expect(parseCertificate(Buffer.concat([certificate.der, Buffer.from([0])]))).toBeNull();
    expect(parseCertificate(certificate.der.subarray(0, certificate.der.length - 1))).toBeNull();
    expect(parseCertificate(Buffer.from('300a0201010201020201033000', 'hex'))).toBeNull();
  });
});

/** JA4 against the worked example of FoxIO's technical_details/JA4.md (the capture check is in corpus.test.ts). */
import { describe, expect, it } from 'vitest';
import type { ClientHelloInfo } from './hello.js';
import { ja4 } from './ja4.js';

/** The example of JA4.md, with GREASE values added where a browser puts them (they must not count). */
function example(overrides: Partial<ClientHelloInfo> = {}): ClientHelloInfo {
  return {
    legacyVersion: 0x0303,
    highestVersion: 0x0304,
    random: Buffer.alloc(32),
    sessionId: Buffer.alloc(0),
    ciphers: [0x2a2a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035],
    compression: [0],
    extensions: [0x0a0a, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015, 0x3a3a],
    sni: 'example.com',
    alpn: [Buffer.from('h2'), Buffer.from('http/1.1')],
    supportedVersions: [0x7a7a, 0x0304, 0x0303],
    signatureAlgorithms: [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601],
    supportedGroups: [],
    keyShareGroups: [],
    preSharedKey: false,
    earlyData: false,
    sessionTicket: false,
    sslv2: false,
    ...overrides,
  };
}

describe('ja4', () => {
  it('gives the fingerprint of the JA4.md example', () => {
    expect(ja4(example())).toBe('t13d1516h2_8daaf6152771_e5627efa2ab1');
  });

  it('hashes the extensions alone when there are no signature algorithms (JA4.md: 6d807ffa2a79)', () => {
    expect(ja4(example({ signatureAlgorithms: [] })).split('_')[2]).toBe('6d807ffa2a79');
  });

  it('uses legacy_version without supported_versions, i without SNI, zeros for empty lists', () => {
    const bare = example({ supportedVersions: [], extensions: [], ciphers: [], alpn: [], legacyVersion: 0x0301 });
    expect(ja4(bare)).toBe('t10i000000_000000000000_000000000000');
    expect(ja4(example({ supportedVersions: [], legacyVersion: 0x0300 })).slice(0, 3)).toBe('ts3');
    expect(ja4(example({ supportedVersions: [0x7f12] })).slice(0, 3)).toBe('t00');
  });

  it('takes the first ALPN value: its first and last characters, or those of its hex when not alphanumeric', () => {
    const alpn = (...bytes: number[]): string => ja4(example({ alpn: [Buffer.from(bytes)] })).slice(8, 10);
    expect(ja4(example({ alpn: [Buffer.from('http/1.1')] })).slice(8, 10)).toBe('h1');
    expect(alpn(0x61)).toBe('aa');
    expect(alpn(0xab)).toBe('ab');
    expect(alpn(0xab, 0xcd)).toBe('ad');
    expect(alpn(0x30, 0xab)).toBe('3b');
    expect(alpn(0x30, 0x31, 0xab, 0xcd)).toBe('3d');
    expect(alpn(0x30, 0xab, 0xcd, 0x31)).toBe('01');
  });

  it('caps the counts at 99', () => {
    const many = Array.from({ length: 120 }, (_, i) => 0x0100 + i);
    expect(ja4(example({ ciphers: many })).slice(4, 6)).toBe('99');
  });
});

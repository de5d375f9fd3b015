/** Code point names, checked against tshark's own tables where tshark has one. */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CIPHER_SUITE_TABLE, alertName, cipherName, isGrease, tls13RecordSizes, versionName, versionRank } from './names.js';

describe('names', () => {
  it('names every cipher suite of its table as tshark 4.0.17 does', () => {
    const tshark = new Map<number, string>();
    const out = execFileSync('tshark', ['-G', 'values'], { encoding: 'utf8', maxBuffer: 1 << 30 });
    for (const line of out.split('\n')) {
      const [kind, field, value, name] = line.split('\t');
      if (kind === 'V' && field === 'tls.handshake.ciphersuite') tshark.set(Number(value), name);
    }
    const differing = CIPHER_SUITE_TABLE.filter(([code, name]) => tshark.get(code) !== name);
    expect(differing).toEqual([]);
  });

  it('prints an unknown suite as hex', () => {
    expect(cipherName(0xc02f)).toBe('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');
    expect(cipherName(0xfefe)).toBe('0xfefe');
  });

  it('names versions, drafts by number, and ranks drafts just below 1.3', () => {
    expect([0x0002, 0x0300, 0x0301, 0x0302, 0x0303, 0x0304].map(versionName)).toEqual(['SSLv2', 'SSLv3', '1.0', '1.1', '1.2', '1.3']);
    expect(versionName(0x7f12)).toBe('1.3-draft18');
    expect(versionName(0xfb1a)).toBe('0xfb1a');
    expect(versionRank(0x7f17)).toBeGreaterThan(versionRank(0x0303));
    expect(versionRank(0x7f17)).toBeLessThan(versionRank(0x0304));
  });

  it('names alerts from the IANA table, unknown ones by number', () => {
    expect(alertName(48)).toBe('unknown_ca');
    expect(alertName(116)).toBe('certificate_required');
    expect(alertName(200)).toBe('200');
  });

  it('knows GREASE and the lengths of a TLS 1.3 Finished and alert record', () => {
    expect([0x0a0a, 0x1a1a, 0xfafa].every(isGrease)).toBe(true);
    expect([0x0a1a, 0x1301, 0x0000].some(isGrease)).toBe(false);
    expect([0x1301, 0x1302, 0x1303, 0xc02f].map((c) => tls13RecordSizes(c)?.finished ?? null)).toEqual([53, 69, 53, null]);
    expect(tls13RecordSizes(0x1301)?.alert).toBe(19);
    expect(tls13RecordSizes(0x1305)).toEqual({ finished: 45, alert: 11 });
  });
});

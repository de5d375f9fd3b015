import { describe, expect, it } from 'vitest';
import { DerError, bitStringBits, decodeOid, decodeTime, integerHex, readTlv } from './der.js';
import { LruCache } from './lru.js';

const tlv = (hex: string) => {
  const buf = Buffer.from(hex, 'hex');
  return readTlv(buf, 0);
};

describe('DER reader', () => {
  it('reads short and long lengths, and refuses indefinite, oversized and overrunning ones', () => {
    expect(tlv('0403616263')).toMatchObject({ tag: 0x04, contentStart: 2, end: 5 });
    expect(tlv(`0481${'03'}616263`)).toMatchObject({ contentStart: 3, end: 6 });
    expect(() => tlv('3080000000')).toThrow(DerError);
    expect(() => tlv('3085000000000100')).toThrow(DerError);
    expect(() => tlv('040461')).toThrow(/overruns/);
    expect(() => tlv('1f0100')).toThrow(/high tag/);
  });

  it('decodes OIDs, large arcs included', () => {
    expect(decodeOid(tlv('0603550403'))).toBe('2.5.4.3');
    expect(decodeOid(tlv('06092a864886f70d010901'))).toBe('1.2.840.113549.1.9.1');
    expect(decodeOid(tlv('060a2b0601040182373c0201'))).toBe('1.3.6.1.4.1.311.60.2.1');
    expect(decodeOid(tlv('0603883703'))).toBe('2.999.3');
    expect(() => decodeOid(tlv('0600'))).toThrow(/empty/);
    expect(() => decodeOid(tlv('06022b86'))).toThrow(/truncated/);
  });

  it('prints serials as openssl does: even digits, no sign byte, a minus for negatives', () => {
    expect(integerHex(tlv('020101'))).toBe('01');
    expect(integerHex(tlv('020300c0ff'))).toBe('C0FF');
    expect(integerHex(tlv('020100'))).toBe('00');
    expect(integerHex(tlv('0201ff'))).toBe('-01');
    expect(integerHex(tlv('0202ff00'))).toBe('-0100');
  });

  it('reads UTCTime with its 1950–2049 window, and GeneralizedTime', () => {
    const time = (tag: string, text: string) => decodeTime(tlv(`${tag}${text.length.toString(16).padStart(2, '0')}${Buffer.from(text).toString('hex')}`));
    expect(time('17', '491231235959Z').toISOString()).toBe('2049-12-31T23:59:59.000Z');
    expect(time('17', '500101000000Z').toISOString()).toBe('1950-01-01T00:00:00.000Z');
    expect(time('18', '20991231235959Z').toISOString()).toBe('2099-12-31T23:59:59.000Z');
    expect(() => time('17', '230231000000Z')).toThrow(/bad time/);
    expect(() => time('17', '2302010000000')).toThrow(/bad time/);
    expect(() => time('04', '230201000000Z')).toThrow(/bad time/);
  });

  it('reads BIT STRING bits first bit first', () => {
    // 5 unused bits of 1010 0000: digitalSignature and keyEncipherment, as a keyUsage.
    expect(bitStringBits(tlv('030205a0'))).toEqual([true, false, true]);
    expect(() => bitStringBits(tlv('030108'))).toThrow(DerError);
  });
});

describe('LruCache', () => {
  it('forgets the least recently used entry', () => {
    const cache = new LruCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3);
    expect([cache.has('a'), cache.has('b'), cache.has('c'), cache.size]).toEqual([true, false, true, 2]);
  });
});

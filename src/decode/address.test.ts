import { describe, expect, it } from 'vitest';
import { formatAddress } from './address.js';
import { hex } from './test-packets.js';

describe('formatAddress', () => {
  it('writes IPv4 dotted, reading at the offset given', () => {
    expect(formatAddress(hex('ff c0000201 ff'), 1, 4)).toBe('192.0.2.1');
    expect(formatAddress(hex('00000000'), 0, 4)).toBe('0.0.0.0');
    expect(formatAddress(hex('ffffffff'), 0, 4)).toBe('255.255.255.255');
  });

  // Expected strings are what tshark 4.0.17 prints for these addresses as ipv6.src/ipv6.dst.
  it.each([
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000000000001', '::1'],
    ['00000000000000000000000000000002', '::2'],
    ['0000000000000000000000000000ff02', '::ff02'],
    ['20010db8000000000000000000000001', '2001:db8::1'],
    ['20010db8000000010000000000000000', '2001:db8:0:1::'],
    ['fe800000000000000000000000000000', 'fe80::'],
    // a single zero group is not compressed
    ['20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'],
    // the longest run is compressed, the first of equal runs
    ['20010000000000010000000000000001', '2001:0:0:1::1'],
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    // lower-case, no leading zeros
    ['2001DB80ABCD0012000000000000000A', '2001:db80:abcd:12::a'],
    ['00010000000000000000ffff0a000001', '1::ffff:a00:1'],
    // IPv4-mapped and IPv4-compatible tails are dotted, as tshark does
    ['00000000000000000000ffffc0000201', '::ffff:192.0.2.1'],
    ['00000000000000000000ffff00000000', '::ffff:0.0.0.0'],
    ['000000000000000000000000c0000201', '::192.0.2.1'],
    ['0000000000000000ffff00000a000001', '::ffff:0:a00:1'],
  ])('writes %s as %s', (bytes, text) => {
    expect(formatAddress(hex(bytes), 0, 16)).toBe(text);
  });

  it('refuses lengths other than 4 and 16, and ranges outside the buffer', () => {
    expect(() => formatAddress(Buffer.alloc(8), 0, 6)).toThrow(RangeError);
    expect(() => formatAddress(Buffer.alloc(8), 6, 4)).toThrow(RangeError);
  });
});

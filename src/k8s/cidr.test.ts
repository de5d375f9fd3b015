import { describe, expect, it } from 'vitest';
import { addressKey, cidrContains, parseAddress, parseCidr } from './cidr.js';

describe('addresses and CIDRs', () => {
  it('reads IPv4 and IPv6 addresses, whatever the spelling of IPv6', () => {
    expect(parseAddress('192.0.2.10')).toEqual({ bits: 32, base: 0xc000020an, prefix: 32 });
    expect(addressKey(parseAddress('2001:db8::1')!)).toBe(addressKey(parseAddress('2001:0DB8:0:0:0:0:0:1')!));
    expect(parseAddress('::ffff:192.0.2.1')).toEqual({ bits: 128, base: 0xffffc0000201n, prefix: 128 });
    expect(parseAddress('::')).toEqual({ bits: 128, base: 0n, prefix: 128 });
  });

  it.each(['10.0.0.300', '10.0.0', '10.0.0.1.2', 'a.b.c.d', '2001:db8::1::2', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', 'node1', ''])('rejects %j', (text) => {
    expect(parseAddress(text)).toBeNull();
  });

  it('matches addresses against IPv4 and IPv6 blocks, clearing host bits', () => {
    const pods = parseCidr('10.244.1.7/16')!;
    expect(pods).toEqual({ bits: 32, base: 0x0af40000n, prefix: 16 });
    expect(cidrContains(pods, parseAddress('10.244.255.1')!)).toBe(true);
    expect(cidrContains(pods, parseAddress('10.245.0.1')!)).toBe(false);
    const v6 = parseCidr('fd00:10:244::/56')!;
    expect(cidrContains(v6, parseAddress('fd00:10:244:0:ff::3')!)).toBe(true);
    expect(cidrContains(v6, parseAddress('fd00:10:245::3')!)).toBe(false);
    expect(cidrContains(v6, parseAddress('10.244.0.1')!)).toBe(false);
    expect(cidrContains(parseCidr('0.0.0.0/0')!, parseAddress('198.18.0.1')!)).toBe(true);
  });

  it.each(['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/x', 'fd00::/129'])('rejects the CIDR %j', (text) => {
    expect(parseCidr(text)).toBeNull();
  });
});

/**
 * IPv4 and IPv6 addresses and CIDR blocks as numbers, for the cluster file's address fields.
 * Addresses are compared by value, so `2001:db8::1` and `2001:0db8:0:0:0:0:0:1` are the same host.
 */

export interface Cidr {
  /** 32 or 128. */
  bits: number;
  /** The network address (host bits cleared). */
  base: bigint;
  prefix: number;
}

function parseIpv4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

function parseIpv6(text: string): bigint | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (half: string): bigint[] | null => {
    if (half === '') return [];
    const out: bigint[] = [];
    const pieces = half.split(':');
    for (const [i, piece] of pieces.entries()) {
      // An embedded IPv4 address (::ffff:192.0.2.1) counts as two groups, last only.
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIpv4(piece);
        if (v4 === null) return null;
        out.push(v4 >> 16n, v4 & 0xffffn);
      } else if (/^[0-9a-f]{1,4}$/i.test(piece)) out.push(BigInt(`0x${piece}`));
      else return null;
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  return [...head, ...Array<bigint>(missing).fill(0n), ...tail].reduce((value, group) => (value << 16n) | group, 0n);
}

/** An address as a /32 or /128, or null when it is not one. */
export function parseAddress(text: string): Cidr | null {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { bits: 32, base: v4, prefix: 32 };
  const v6 = text.includes(':') ? parseIpv6(text.replace(/%.*$/, '')) : null;
  return v6 === null ? null : { bits: 128, base: v6, prefix: 128 };
}

/** `192.0.2.0/24`, `2001:db8::/32`, or a bare address; null when it is neither. */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf('/');
  if (slash < 0) return parseAddress(text);
  const address = parseAddress(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!address || !/^\d{1,3}$/.test(prefixText) || Number(prefixText) > address.bits) return null;
  const prefix = Number(prefixText);
  return { bits: address.bits, base: address.base & mask(address.bits, prefix), prefix };
}

function mask(bits: number, prefix: number): bigint {
  return ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
}

export function cidrContains(cidr: Cidr, address: Cidr): boolean {
  return cidr.bits === address.bits && (address.base & mask(cidr.bits, cidr.prefix)) === cidr.base;
}

/** One string per host, whatever the spelling: a Map key. */
export function addressKey(address: Cidr): string {
  return `${address.bits}:${address.base.toString(16)}`;
}

/**
 * 32-bit TCP sequence arithmetic (RFC 793 §3.3, RFC 1982 serial numbers): every comparison of
 * sequence or acknowledgement numbers in flow/ goes through here, so that wraparound at 2^32 is
 * handled in one place. Numbers are unsigned 32-bit values held in plain JS numbers.
 */

/** `a - b` as a signed 32-bit distance: positive when `a` is after `b`, modulo 2^32. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** `seq + n`, wrapped to an unsigned 32-bit value. */
export function seqAdd(seq: number, n: number): number {
  return (seq + n) >>> 0;
}

export function seqLessThan(a: number, b: number): boolean {
  return seqDiff(a, b) < 0;
}

import { describe, expect, it } from 'vitest';
import { seqAdd, seqDiff, seqLessThan } from './seq.js';

describe('32-bit sequence arithmetic', () => {
  it.each([
    // a, b, a - b
    [10, 3, 7],
    [3, 10, -7],
    [0, 0xffffffff, 1],
    [0xffffffff, 0, -1],
    [5, 0xfffffffb, 10],
    [0xfffffffb, 5, -10],
    [0x7fffffff, 0, 0x7fffffff],
    [0x80000000, 0, -0x80000000],
    [0, 0x80000001, 0x7fffffff],
  ])('seqDiff(%i, %i) = %i', (a, b, difference) => {
    expect(seqDiff(a, b)).toBe(difference);
  });

  it.each([
    [0xffffffff, 1, 0],
    [0xfffffff0, 0x20, 0x10],
    [0, -1, 0xffffffff],
    [5, -10, 0xfffffffb],
    [1000, 24, 1024],
  ])('seqAdd(%i, %i) = %i', (seq, n, sum) => {
    expect(seqAdd(seq, n)).toBe(sum);
  });

  it('orders numbers across the wrap', () => {
    expect(seqLessThan(0xfffffff0, 0x10)).toBe(true);
    expect(seqLessThan(0x10, 0xfffffff0)).toBe(false);
    expect(seqLessThan(7, 7)).toBe(false);
    expect(seqLessThan(0xffffffff, 0)).toBe(true);
  });
});

/** The flow key: one per connection whichever way a packet goes, and the last-packet shortcut changes nothing. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FlowKeyBuilder } from './key.js';
import { toPacket, type Endpoint, type Segment } from './testing.js';

/** A few endpoints that share addresses and ports, so that tuples differ by one field at a time. */
const endpoints: Endpoint[] = [
  { address: '198.18.0.1', port: 40000 },
  { address: '198.18.0.1', port: 6443 },
  { address: '198.18.0.2', port: 40000 },
  { address: '198.18.0.2', port: 6443 },
  { address: '2001:db8::1', port: 40000 },
  { address: '2001:db8::2', port: 6443 },
];
const tunnel = { kind: 'vxlan' as const, outerSrc: '198.19.0.1', outerDst: '198.19.0.2', vni: 42 };

const segment = fc
  .record({
    from: fc.nat({ max: endpoints.length - 1 }),
    to: fc.nat({ max: endpoints.length - 1 }),
    vlan: fc.constantFrom(-1, -1, 100),
    tunnelled: fc.boolean(),
  })
  .filter(({ from, to }) => endpoints[from].address.includes(':') === endpoints[to].address.includes(':'))
  .map(({ from, to, vlan, tunnelled }): Segment => ({
    from: endpoints[from],
    to: endpoints[to],
    flags: 'A',
    seq: 1,
    ack: 1,
    data: Buffer.alloc(0),
    vlan,
    tunnel: tunnelled ? tunnel : undefined,
  }));

function keyOf(builder: FlowKeyBuilder, seg: Segment): { key: string; senderIsLow: boolean; sameAsLast: boolean } {
  builder.build(toPacket(seg));
  return { key: builder.key, senderIsLow: builder.senderIsLow, sameAsLast: builder.sameAsLast };
}

describe('FlowKeyBuilder', () => {
  it('gives both directions of a connection one key, with the sender on its side of it', () => {
    const [a, b] = [endpoints[0], endpoints[3]];
    const forth = keyOf(new FlowKeyBuilder(), { from: a, to: b, flags: 'S', seq: 1, ack: 0, data: Buffer.alloc(0) });
    const back = keyOf(new FlowKeyBuilder(), { from: b, to: a, flags: 'SA', seq: 9, ack: 2, data: Buffer.alloc(0) });
    expect(back.key).toBe(forth.key);
    expect(back.senderIsLow).toBe(!forth.senderIsLow);
  });

  it('keeps the last key for the same 4-tuple either way round, and only then', () => {
    const builder = new FlowKeyBuilder();
    const [a, b, c] = [endpoints[0], endpoints[3], endpoints[2]];
    const base = { flags: 'A', seq: 1, ack: 1, data: Buffer.alloc(0) };
    expect(keyOf(builder, { ...base, from: a, to: b }).sameAsLast).toBe(false);
    expect(keyOf(builder, { ...base, from: a, to: b }).sameAsLast).toBe(true);
    expect(keyOf(builder, { ...base, from: b, to: a }).sameAsLast).toBe(true);
    expect(keyOf(builder, { ...base, from: b, to: a, vlan: 100 }).sameAsLast).toBe(false);
    expect(keyOf(builder, { ...base, from: c, to: b, vlan: 100 }).sameAsLast).toBe(false);
    expect(keyOf(builder, { ...base, from: c, to: b, vlan: 100, tunnel }).sameAsLast).toBe(false);
    expect(keyOf(builder, { ...base, from: c, to: b, vlan: 100, tunnel }).sameAsLast).toBe(false);
  });

  it('with its memory of the last packet, says what a fresh builder says of every packet', () => {
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 60 }), (segments) => {
        const builder = new FlowKeyBuilder();
        for (const seg of segments) {
          const { key, senderIsLow } = keyOf(builder, seg);
          const fresh = keyOf(new FlowKeyBuilder(), seg);
          expect({ key, senderIsLow }).toEqual({ key: fresh.key, senderIsLow: fresh.senderIsLow });
        }
      }),
      { numRuns: 500 },
    );
  });
});

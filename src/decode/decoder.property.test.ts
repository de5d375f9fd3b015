import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LinkType, type Frame } from '../model/frame.js';
import { newDecodedPacket, type DecodeResult } from '../model/packet.js';
import { DECODE_ERRORS, PacketDecoder } from './decoder.js';
import { ethernet, geneve, ipv4, ipv6, ipv6Extension, ipv6FragmentHeader, tcp, udp, vlan, vxlan } from './test-packets.js';

const RESULTS: readonly DecodeResult[] = ['ok', 'held', 'ignored', ...DECODE_ERRORS];
const LINKTYPES = [...Object.values(LinkType), 147];

const payload = tcp({ sport: 1, dport: 2, options: Buffer.from('020405b40402', 'hex'), payload: Buffer.from('x') });
/** Valid frames reaching every layer, to be mutated: random bytes alone rarely get past Ethernet. */
const SEEDS: Buffer[] = [
  ethernet(0x88a8, vlan(1, 0x8100, vlan(2, 0x8864, Buffer.concat([Buffer.from('1100000100320021', 'hex'), ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 6, payload, options: Buffer.from('01010100', 'hex') })])))),
  ethernet(0x0800, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 17, payload: udp(1, 4789, vxlan(1, ethernet(0x86dd, ipv6({ src: '::1', dst: '::2', nextHeader: 0, payload: ipv6Extension(44, ipv6FragmentHeader(6, 0, true, 1, payload)) })))) })),
  ethernet(0x0800, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 17, payload: udp(1, 6081, geneve(1, 0x0800, ipv4({ src: '3.3.3.3', dst: '4.4.4.4', proto: 4, payload: ipv4({ src: '5.5.5.5', dst: '6.6.6.6', proto: 6, payload, moreFragments: true }) }), Buffer.alloc(8))) })),
];

function decodesSafely(decoder: PacketDecoder, frame: Frame): void {
  const result = decoder.decode(frame, newDecodedPacket());
  expect(RESULTS).toContain(result);
}

const frameArbitrary = (data: fc.Arbitrary<Uint8Array>) =>
  fc.record({
    linktype: fc.constantFrom(...LINKTYPES),
    data,
    offset: fc.nat(8),
    caplenCut: fc.nat(16),
    origlenExtra: fc.integer({ min: -8, max: 70000 }),
  });

function toFrame(input: { linktype: number; data: Uint8Array; offset: number; caplenCut: number; origlenExtra: number }): Frame {
  const buf = Buffer.concat([Buffer.alloc(input.offset), Buffer.from(input.data)]);
  // caplen may even claim more than the buffer holds: the decoder must not read past it.
  const caplen = Math.max(0, input.data.length - input.caplenCut + (input.caplenCut % 3 === 0 ? 5 : 0));
  return { index: 1, ts: 0, linktype: input.linktype, buf, offset: input.offset, caplen, origlen: caplen + input.origlenExtra, iface: 0 };
}

describe('any bytes at any link type', () => {
  it('never throw and always give a DecodeResult', () => {
    const decoder = new PacketDecoder();
    fc.assert(
      fc.property(frameArbitrary(fc.uint8Array({ maxLength: 200 })), (input) => decodesSafely(decoder, toFrame(input))),
      { numRuns: 3000 },
    );
  });

  it('mutated valid frames (every layer reached) never throw either', () => {
    const decoder = new PacketDecoder({ maxTunnelDepth: 2 });
    const mutated = fc
      .record({ seed: fc.constantFrom(...SEEDS), flips: fc.array(fc.record({ at: fc.nat(), value: fc.nat(255) }), { maxLength: 6 }) })
      .map(({ seed, flips }) => {
        const data = Buffer.from(seed);
        for (const flip of flips) data[flip.at % data.length] = flip.value;
        return new Uint8Array(data);
      });
    fc.assert(
      fc.property(frameArbitrary(mutated), (input) => decodesSafely(decoder, toFrame({ ...input, linktype: LinkType.ETHERNET }))),
      { numRuns: 3000 },
    );
  });

  it('the unmutated seeds decode to the end', () => {
    const results = SEEDS.map((data) =>
      new PacketDecoder().decode({ index: 1, ts: 0, linktype: LinkType.ETHERNET, buf: data, offset: 0, caplen: data.length, origlen: data.length, iface: 0 }, newDecodedPacket()),
    );
    expect(results).toEqual(['ok', 'held', 'held']);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LinkType } from '../model/frame.js';
import { newDecodedPacket, type DecodeResult } from '../model/packet.js';
import { PacketDecoder, Layer } from './decoder.js';
import { FragmentReassembler } from './fragments.js';
import { ethernet, frameOf, ipv4, ipv6, ipv6FragmentHeader, tsharkFields, udp, writePcap } from './test-packets.js';

const SRC = '192.0.2.1';
const DST = '198.51.100.2';

/** A 2008-byte UDP datagram (8-byte header and 2000 bytes counting up), as one buffer. */
const DATAGRAM = udp(40000, 53, Buffer.from(Array.from({ length: 2000 }, (_, i) => i & 0xff)));

interface Piece {
  offset: number;
  length: number;
  more: boolean;
  /** Overrides the bytes (for conflicting overlaps). */
  fill?: number;
  id?: number;
  ts?: number;
}

function fragment4(piece: Piece): Buffer {
  const payload = piece.fill === undefined ? DATAGRAM.subarray(piece.offset, piece.offset + piece.length) : Buffer.alloc(piece.length, piece.fill);
  return ethernet(0x0800, ipv4({ src: SRC, dst: DST, proto: 17, id: piece.id ?? 0xbeef, fragmentOffset: piece.offset, moreFragments: piece.more, payload }));
}

const FIRST: Piece = { offset: 0, length: 800, more: true };
const SECOND: Piece = { offset: 800, length: 800, more: true };
const LAST: Piece = { offset: 1600, length: 408, more: false };

function run(pieces: Piece[], decoder = new PacketDecoder()) {
  const packet = newDecodedPacket();
  let payload = Buffer.alloc(0);
  const results: DecodeResult[] = pieces.map((piece) => {
    const result = decoder.decode(frameOf(LinkType.ETHERNET, fragment4(piece), { ts: piece.ts ?? 100 }), packet);
    // Copied as a consumer would: the packet is reused by the next decode.
    if (result === 'ok') payload = Buffer.from(packet.buf.subarray(packet.udp.payloadOff, packet.udp.payloadOff + packet.udp.payloadLen));
    return result;
  });
  return { results, packet, payload, decoder };
}

describe('IPv4 fragments', () => {
  it('in order: held, held, then the whole datagram in a fresh buffer', () => {
    const { results, packet, payload, decoder } = run([FIRST, SECOND, LAST]);
    expect(results).toEqual(['held', 'held', 'ok']);
    expect([packet.proto, packet.udp.srcPort, packet.udp.dstPort, packet.udp.payloadLen]).toEqual([17, 40000, 53, 2000]);
    expect(payload.equals(DATAGRAM.subarray(8))).toBe(true);
    expect(packet.buf.length).toBe(20 + 2008);
    expect(packet.buf.toString('hex', packet.srcOff, packet.srcOff + 4)).toBe('c0000201');
    expect(decoder.layers & Layer.FRAGMENTS).toBe(Layer.FRAGMENTS);
    expect([decoder.held, decoder.ok, decoder.errorTotal]).toEqual([2, 1, 0]);
  });

  it('out of order', () => {
    const { results, payload } = run([LAST, FIRST, SECOND]);
    expect(results).toEqual(['held', 'held', 'ok']);
    expect(payload.equals(DATAGRAM.subarray(8))).toBe(true);
  });

  it('a duplicate fragment changes nothing', () => {
    const { results, payload } = run([FIRST, FIRST, LAST, SECOND, SECOND]);
    expect(results).toEqual(['held', 'held', 'held', 'ok', 'held']);
    expect(payload.equals(DATAGRAM.subarray(8))).toBe(true);
  });

  it('overlaps: the bytes that arrived first win, whatever the later fragment says', () => {
    const overlapping: Piece = { offset: 400, length: 800, more: true, fill: 0xee };
    const { results, payload } = run([FIRST, overlapping, SECOND, LAST]);
    expect(results).toEqual(['held', 'held', 'held', 'ok']);
    const expected = Buffer.from(DATAGRAM.subarray(8));
    expected.fill(0xee, 800 - 8, 1200 - 8); // only the hole [800, 1200) was the overlapping fragment's to fill
    expect(payload.equals(expected)).toBe(true);
  });

  it('a second last fragment does not change the length the first one gave', () => {
    const { results, payload } = run([FIRST, LAST, { offset: 1600, length: 200, more: false }, SECOND]);
    expect(results).toEqual(['held', 'held', 'held', 'ok']);
    expect(payload.equals(DATAGRAM.subarray(8))).toBe(true);
  });

  it('a fragment reaching past 64 KiB overflows and drops its datagram', () => {
    const { results, decoder } = run([FIRST, { offset: 65528, length: 16, more: false, fill: 1 }, SECOND, LAST]);
    expect(results).toEqual(['held', 'fragment-overflow', 'held', 'held']);
    expect(decoder.errorCounts()).toEqual({ 'fragment-overflow': 1 });
  });

  it('more datagrams than the limit overflow; the ones held still complete', () => {
    const decoder = new PacketDecoder({ fragmentLimits: { maxDatagrams: 2 } });
    const { results } = run([FIRST, { ...FIRST, id: 2 }, { ...FIRST, id: 3 }, SECOND, LAST], decoder);
    expect(results).toEqual(['held', 'held', 'fragment-overflow', 'held', 'ok']);
  });

  it('more bytes than the limit overflow', () => {
    // 820 bytes held after the first fragment; the second needs 800 more; the last alone needs 2008.
    const decoder = new PacketDecoder({ fragmentLimits: { maxTotalBytes: 1500 } });
    const { results } = run([FIRST, SECOND, LAST, { ...FIRST, id: 2 }], decoder);
    expect(results).toEqual(['held', 'fragment-overflow', 'fragment-overflow', 'held']);
  });

  it('an incomplete datagram times out 30 s of capture time after its first fragment', () => {
    const { results, decoder } = run([
      { ...FIRST, ts: 100 },
      { ...SECOND, ts: 130.5 }, // the first fragment is past its timeout now: its datagram is gone
      { ...LAST, ts: 131 },
      { ...FIRST, ts: 132 },
    ]);
    expect(results).toEqual(['held', 'held', 'held', 'ok']);
    expect(decoder.fragmentsExpired).toBe(1);
  });

  it('a fragment the snaplen cut is not reassembled', () => {
    const decoder = new PacketDecoder();
    const data = fragment4(FIRST);
    expect(decoder.decode(frameOf(LinkType.ETHERNET, data.subarray(0, 100), { origlen: data.length }), newDecodedPacket())).toBe('truncated-ip');
  });

  it('tshark reassembles the same frames the same way', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kwire-fragments-'));
    try {
      const file = path.join(dir, 'fragments.pcap');
      writePcap(file, LinkType.ETHERNET, [LAST, FIRST, SECOND].map((piece) => ({ data: fragment4(piece) })));
      // tshark shows the UDP layer on the frame that completed the datagram only.
      expect(tsharkFields(file, ['frame.number', 'udp.srcport', 'udp.dstport', 'udp.length'], 'udp')).toEqual([['3', '40000', '53', '2008']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('IPv6 fragments (the same reassembler)', () => {
  const A6 = '2001:db8::1';
  const B6 = '2001:db8::2';
  const fragment6 = (offset: number, length: number, more: boolean) =>
    ipv6({ src: A6, dst: B6, nextHeader: 44, payload: ipv6FragmentHeader(17, offset, more, 0x01020304, DATAGRAM.subarray(offset, offset + length)) });

  it('reassembles, out of order', () => {
    const decoder = new PacketDecoder();
    const packet = newDecodedPacket();
    const results = [fragment6(1232, 776, false), fragment6(0, 1232, true)].map((data) => decoder.decode(frameOf(LinkType.RAW, data), packet));
    expect(results).toEqual(['held', 'ok']);
    expect([packet.ipVersion, packet.proto, packet.udp.dstPort, packet.udp.payloadLen]).toEqual([6, 17, 53, 2000]);
    expect(packet.buf.subarray(packet.udp.payloadOff, packet.udp.payloadOff + 2000).equals(DATAGRAM.subarray(8))).toBe(true);
    expect(packet.buf.toString('hex', packet.dstOff, packet.dstOff + 16)).toBe('20010db8000000000000000000000002');
  });
});

describe('FragmentReassembler bookkeeping', () => {
  it('releases what it held when a datagram completes or expires', () => {
    const reassembler = new FragmentReassembler({ timeoutSeconds: 10 });
    const header = Buffer.alloc(20);
    const data = Buffer.alloc(16, 1);
    const piece = (fragmentOffset: number, moreFragments: boolean) => ({ buf: data, off: 0, end: 16, headerOff: 0, headerLen: 0, fragmentOffset, moreFragments, proto: 17 });
    expect(reassembler.add(0, 'a', { ...piece(0, true), buf: Buffer.concat([header, data]), off: 20, end: 36, headerLen: 20 })).toBe('held');
    expect([reassembler.datagramsHeld, reassembler.bytesHeld]).toEqual([1, 20 + 16]);
    const whole = reassembler.add(1, 'a', piece(16, false));
    expect(typeof whole === 'object' && [whole.buf.length, whole.payloadOff, whole.proto]).toEqual([20 + 32, 20, 17]);
    expect([reassembler.datagramsHeld, reassembler.bytesHeld]).toEqual([0, 0]);
    expect(reassembler.add(2, 'b', piece(0, true))).toBe('held');
    reassembler.expire(12.5);
    expect([reassembler.datagramsHeld, reassembler.bytesHeld, reassembler.expired]).toEqual([0, 0, 1]);
  });
});

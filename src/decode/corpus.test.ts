/**
 * Every frame of every capture in the third-party corpus, decoded and compared with tshark:
 * which frames carry TCP, their addresses and ports (inner ones for tunnels), and the counts of
 * IPv6 and VLAN-tagged frames that MANIFEST.md records.
 */
import { describe, expect, it } from 'vitest';
import { readCaptureFile } from '../capture/index.js';
import type { Frame } from '../model/frame.js';
import { InputError } from '../model/errors.js';
import { newDecodedPacket } from '../model/packet.js';
import { corpusFacts, corpusPath } from '../../test/helpers/corpus.js';
import { formatAddress } from './address.js';
import { Layer, PacketDecoder } from './decoder.js';
import { tsharkFields } from './test-packets.js';

interface CorpusReading {
  /** "frame src sport > dst dport" per TCP frame. */
  tcpFrames: string[];
  ipv6Frames: number;
  vlanFrames: number;
}

async function decodeCapture(file: string): Promise<CorpusReading> {
  const decoder = new PacketDecoder();
  const packet = newDecodedPacket();
  const reading: CorpusReading = { tcpFrames: [], ipv6Frames: 0, vlanFrames: 0 };
  const sink = {
    frame(frame: Frame) {
      const result = decoder.decode(frame, packet);
      if (decoder.layers & Layer.IPV6) reading.ipv6Frames++;
      if (decoder.layers & Layer.VLAN) reading.vlanFrames++;
      if (result !== 'ok' || packet.proto !== 6) return;
      const src = formatAddress(packet.buf, packet.srcOff, packet.addrLen);
      const dst = formatAddress(packet.buf, packet.dstOff, packet.addrLen);
      reading.tcpFrames.push(`${frame.index} ${src} ${packet.tcp.srcPort} > ${dst} ${packet.tcp.dstPort}`);
    },
    secrets() {},
    interfaceStats() {},
  };
  try {
    await readCaptureFile(file, sink);
  } catch (error) {
    if (!(error instanceof InputError)) throw error; // not a capture at all: no frames
  }
  return reading;
}

/** tshark's TCP frames; ICMP errors quoting a TCP header are not TCP frames (kwire ignores ICMP). */
function tsharkTcpFrames(file: string): string[] {
  const rows = tsharkFields(
    file,
    ['frame.number', 'frame.protocols', 'ip.src', 'ipv6.src', 'ip.dst', 'ipv6.dst', 'tcp.srcport', 'tcp.dstport'],
    'tcp && !icmp && !icmpv6',
  );
  const last = (value: string | undefined) => (value ?? '').split(',').at(-1) ?? '';
  return rows.map(([number, protocols, ipSrc, ipv6Src, ipDst, ipv6Dst, sport, dport]) => {
    const layers = (protocols ?? '').split(':');
    const innerIsV6 = layers.lastIndexOf('ipv6') > layers.lastIndexOf('ip');
    const src = innerIsV6 ? last(ipv6Src) : last(ipSrc);
    const dst = innerIsV6 ? last(ipv6Dst) : last(ipDst);
    return `${number} ${src} ${last(sport)} > ${dst} ${last(dport)}`;
  });
}

const facts = corpusFacts();
const files = Object.keys(facts).sort();

describe('the third-party corpus, decoded as tshark reads it', () => {
  it('has the captures MANIFEST.md lists', () => {
    expect(files.length).toBe(75);
  });

  it.each(files)('%s', async (relative) => {
    const fact = facts[relative];
    const file = corpusPath(relative);
    const reading = await decodeCapture(file);
    // A capture where tshark saw no TCP stream has no TCP frame: no need to ask it again.
    const expected = fact.tcp_streams === 0 ? [] : tsharkTcpFrames(file);
    expect(reading.tcpFrames).toEqual(expected);
    expect(reading.ipv6Frames).toBe(fact.ipv6_pkts);
    expect(reading.vlanFrames).toBe(fact.vlan_pkts);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LinkType } from '../model/frame.js';
import { newDecodedPacket, type DecodedPacket, type DecodeResult, type TcpView, type TunnelInfo } from '../model/packet.js';
import { formatAddress } from './address.js';
import { Layer, PacketDecoder } from './decoder.js';
import {
  ethernet,
  frameOf,
  geneve,
  hex,
  ipv4,
  ipv6,
  ipv6Extension,
  ipv6FragmentHeader,
  pppoeSession,
  tcp,
  tsharkFields,
  udp,
  vlan,
  vxlan,
  writePcap,
  type TcpFields,
} from './test-packets.js';

const A4 = '192.0.2.1';
const B4 = '198.51.100.2';
const A6 = '2001:db8::1';
const B6 = '2001:db8:0:1::2';

/** MSS 1460, SACK permitted, NOP, window scale 7, EOL padding: what a Linux SYN carries. */
const SYN_OPTIONS = hex('020405b4 0402 01 030307 0000');
const SYN: TcpFields = { sport: 51000, dport: 6443, seq: 0xfffffff0, flags: 0x02, window: 64240, options: SYN_OPTIONS };
const DATA: TcpFields = { sport: 51000, dport: 6443, seq: 1, ack: 0x80000001, flags: 0x18, window: 502, payload: Buffer.from('hello') };

const tcp4 = (fields: TcpFields = DATA) => ipv4({ src: A4, dst: B4, proto: 6, payload: tcp(fields) });
const tcp6 = (fields: TcpFields = DATA) => ipv6({ src: A6, dst: B6, nextHeader: 6, payload: tcp(fields) });
const udp4 = (dport: number, payload: Buffer, src = A4, dst = B4) => ipv4({ src, dst, proto: 17, payload: udp(40000, dport, payload) });
const ether4 = (payload: Buffer) => ethernet(0x0800, payload);
const ether6 = (payload: Buffer) => ethernet(0x86dd, payload);
const littleEndian32 = (value: number) => Buffer.from([value, 0, 0, 0]);
const bigEndian32 = (value: number) => Buffer.from([0, 0, 0, value]);

interface Case {
  name: string;
  linktype: number;
  data: Buffer;
  /** Bytes on the wire when the snaplen cut the frame. */
  origlen?: number;
  result: DecodeResult;
  /**
   * The innermost transport layer as tshark shows it ("src sport > dst dport", from the last
   * ip/ipv6 and tcp/udp fields); checked against tshark itself below.
   */
  flow?: string;
  vlan?: number;
  tcp?: Partial<TcpView>;
  payload?: string;
  tunnel?: TunnelInfo | null;
  layers?: number;
  /** Why tshark reads this frame differently (its flow is then not compared). */
  tsharkDiffers?: string;
}

const FLOW4 = `${A4} 51000 > ${B4} 6443`;
const FLOW6 = `${A6} 51000 > ${B6} 6443`;
const DATA_TCP: Partial<TcpView> = { seq: 1, ack: 0x80000001, flags: 0x18, window: 502, payloadLen: 5, payloadWireLen: 5, mss: -1, windowScale: -1, sackPermitted: false };

const cases: Case[] = [
  // --- link types -------------------------------------------------------------------------
  {
    name: 'Ethernet, IPv4, TCP SYN with options', // tshark: 51000 → 6443 [SYN] Seq=0 Win=64240 Len=0 MSS=1460 SACK_PERM WS=128
    linktype: LinkType.ETHERNET,
    data: ether4(tcp4(SYN)),
    result: 'ok',
    flow: FLOW4,
    vlan: -1,
    tcp: { seq: 0xfffffff0, ack: 0, flags: 0x02, window: 64240, mss: 1460, windowScale: 7, sackPermitted: true, payloadLen: 0, payloadWireLen: 0 },
    layers: Layer.IPV4 | Layer.TCP,
  },
  {
    name: 'Ethernet, IPv4 with options (IHL 6, Router Alert), TCP with payload', // tshark: Options: (4 bytes), Router Alert; Len=5
    linktype: LinkType.ETHERNET,
    data: ether4(ipv4({ src: A4, dst: B4, proto: 6, payload: tcp(DATA), options: hex('94040000') })),
    result: 'ok',
    flow: FLOW4,
    tcp: DATA_TCP,
    payload: 'hello',
  },
  {
    name: 'Ethernet padding after a 40-byte datagram is not payload', // tshark: 60 bytes, Len=0, Padding: 000000000000
    linktype: LinkType.ETHERNET,
    data: Buffer.concat([ether4(tcp4({ sport: 51000, dport: 6443, flags: 0x10 })), Buffer.alloc(6)]),
    result: 'ok',
    flow: FLOW4,
    tcp: { payloadLen: 0, payloadWireLen: 0, flags: 0x10 },
  },
  {
    name: 'Ethernet, IPv6, TCP',
    linktype: LinkType.ETHERNET,
    data: ether6(tcp6()),
    result: 'ok',
    flow: FLOW6,
    tcp: DATA_TCP,
    payload: 'hello',
    layers: Layer.IPV6 | Layer.TCP,
  },
  {
    name: '802.1Q VLAN 100', // tshark: 802.1Q Virtual LAN, PRI: 5, ID: 100
    linktype: LinkType.ETHERNET,
    data: ethernet(0x8100, vlan(100, 0x0800, tcp4(), 5)),
    result: 'ok',
    flow: FLOW4,
    vlan: 100,
    layers: Layer.VLAN | Layer.IPV4 | Layer.TCP,
  },
  {
    name: 'QinQ 802.1ad 10 over 802.1Q 20: the outer id counts', // tshark: vlan.id 10,20
    linktype: LinkType.ETHERNET,
    data: ethernet(0x88a8, vlan(10, 0x8100, vlan(20, 0x0800, tcp4()))),
    result: 'ok',
    flow: FLOW4,
    vlan: 10,
  },
  {
    name: 'QinQ with the old 0x9100 TPID',
    linktype: LinkType.ETHERNET,
    data: ethernet(0x9100, vlan(4094, 0x8100, vlan(7, 0x86dd, tcp6()))),
    result: 'ok',
    flow: FLOW6,
    vlan: 4094,
  },
  {
    name: 'PPPoE session over QinQ, IPv4', // as zeek/pppoe-over-qinq.pcap
    linktype: LinkType.ETHERNET,
    data: ethernet(0x88a8, vlan(300, 0x8100, vlan(4, 0x8864, pppoeSession(0x0021, tcp4())))),
    result: 'ok',
    flow: FLOW4,
    vlan: 300,
    payload: 'hello',
    layers: Layer.VLAN | Layer.PPPOE | Layer.IPV4 | Layer.TCP,
  },
  {
    // zeek/pppoe-over-qinq.pcap frame 19: IP total length 46, PPPoE length 42, six bytes of padding.
    // tshark trusts the PPPoE length: the ACK carries no data (Possible bad payload length 42 != 48).
    name: 'PPPoE session shorter than the IP length: the padding is not payload',
    linktype: LinkType.ETHERNET,
    data: Buffer.concat([
      ethernet(0x8864, pppoeSession(0x0021, ipv4({ src: A4, dst: B4, proto: 6, payload: tcp({ ...DATA, payload: Buffer.alloc(0), flags: 0x10 }), totalLength: 46 }))),
      Buffer.alloc(6),
    ]),
    result: 'ok',
    flow: FLOW4,
    tcp: { payloadLen: 0, payloadWireLen: 0 },
  },
  { name: 'PPPoE session, IPv6', linktype: LinkType.ETHERNET, data: ethernet(0x8864, pppoeSession(0x0057, tcp6())), result: 'ok', flow: FLOW6 },
  { name: 'PPPoE session, LCP', linktype: LinkType.ETHERNET, data: ethernet(0x8864, pppoeSession(0xc021, hex('0101000a 0104 05d4 0000'))), result: 'ignored' },
  { name: 'ARP', linktype: LinkType.ETHERNET, data: ethernet(0x0806, hex('0001 0800 06 04 0001 02000000000a c0000201 000000000000 c6336402')), result: 'ignored' },
  { name: 'LLDP', linktype: LinkType.ETHERNET, data: ethernet(0x88cc, hex('0207 04 02000000000a 0000')), result: 'ignored' },
  { name: '802.3 frame with an LLC header (STP)', linktype: LinkType.ETHERNET, data: ethernet(0x0026, hex('424203 0000 00 00')), result: 'ignored' },
  { name: 'unknown EtherType', linktype: LinkType.ETHERNET, data: ethernet(0x88b5, hex('00112233')), result: 'unsupported-ethertype' },
  {
    name: 'Linux cooked v1 (-i any), IPv4', // tshark: Linux cooked capture v1, Protocol: IPv4 (0x0800)
    linktype: LinkType.LINUX_SLL,
    data: Buffer.concat([hex('0000 0001 0006 02000000000a 0000 0800'), tcp4()]),
    result: 'ok',
    flow: FLOW4,
  },
  {
    name: 'Linux cooked v1 with a VLAN tag put back by libpcap',
    linktype: LinkType.LINUX_SLL,
    data: Buffer.concat([hex('0004 0001 0006 02000000000a 0000 8100'), vlan(42, 0x0800, tcp4())]),
    result: 'ok',
    flow: FLOW4,
    vlan: 42,
  },
  {
    name: 'Linux cooked v1, netlink',
    linktype: LinkType.LINUX_SLL,
    data: Buffer.concat([hex('0004 0338 0000 0000000000000000 0000'), hex('14000000')]),
    result: 'ignored',
  },
  {
    name: 'Linux cooked v2, IPv6', // tshark: Linux cooked capture v2, Protocol: IPv6 (0x86dd)
    linktype: LinkType.LINUX_SLL2,
    data: Buffer.concat([hex('86dd 0000 00000002 0001 04 06 02000000000a 0000'), tcp6()]),
    result: 'ok',
    flow: FLOW6,
  },
  { name: 'BSD NULL, AF_INET little-endian', linktype: LinkType.NULL, data: Buffer.concat([littleEndian32(2), tcp4()]), result: 'ok', flow: FLOW4 },
  { name: 'BSD NULL, AF_INET6 (Darwin 30) little-endian', linktype: LinkType.NULL, data: Buffer.concat([littleEndian32(30), tcp6()]), result: 'ok', flow: FLOW6 },
  { name: 'BSD NULL, AF_INET6 (FreeBSD 28) big-endian', linktype: LinkType.NULL, data: Buffer.concat([bigEndian32(28), tcp6()]), result: 'ok', flow: FLOW6 },
  { name: 'OpenBSD LOOP, AF_INET', linktype: LinkType.LOOP, data: Buffer.concat([bigEndian32(2), tcp4()]), result: 'ok', flow: FLOW4 },
  { name: 'OpenBSD LOOP, AF_INET6 (24)', linktype: LinkType.LOOP, data: Buffer.concat([bigEndian32(24), tcp6()]), result: 'ok', flow: FLOW6 },
  { name: 'BSD NULL, unknown family', linktype: LinkType.NULL, data: Buffer.concat([littleEndian32(7), tcp4()]), result: 'unsupported-ethertype' },
  { name: 'RAW, IPv4', linktype: LinkType.RAW, data: tcp4(), result: 'ok', flow: FLOW4 },
  { name: 'RAW, IPv6', linktype: LinkType.RAW, data: tcp6(), result: 'ok', flow: FLOW6 },
  { name: 'RAW, version 5', linktype: LinkType.RAW, data: Buffer.concat([hex('50'), tcp4().subarray(1)]), result: 'bad-ip-version' },
  { name: 'LINKTYPE_IPV4', linktype: LinkType.IPV4, data: tcp4(), result: 'ok', flow: FLOW4 },
  { name: 'LINKTYPE_IPV6', linktype: LinkType.IPV6, data: tcp6(), result: 'ok', flow: FLOW6 },
  { name: 'LINKTYPE_IPV4 holding IPv6', linktype: LinkType.IPV4, data: tcp6(), result: 'bad-ip-version' },
  { name: 'unknown link type (802.11)', linktype: 105, data: tcp4(), result: 'unsupported-linktype' },

  // --- truncation at each layer boundary ----------------------------------------------------
  { name: 'Ethernet header cut', linktype: LinkType.ETHERNET, data: ether4(tcp4()).subarray(0, 13), origlen: 59, result: 'truncated-link' },
  { name: 'VLAN tag cut', linktype: LinkType.ETHERNET, data: ethernet(0x8100, vlan(5, 0x0800, tcp4())).subarray(0, 17), origlen: 63, result: 'truncated-link' },
  { name: 'PPPoE header cut', linktype: LinkType.ETHERNET, data: ethernet(0x8864, pppoeSession(0x0021, tcp4())).subarray(0, 20), origlen: 67, result: 'truncated-link' },
  { name: 'SLL header cut', linktype: LinkType.LINUX_SLL, data: hex('0000 0001 0006 02000000000a 00'), result: 'truncated-link' },
  { name: 'SLL2 header cut', linktype: LinkType.LINUX_SLL2, data: hex('0800 0000 00000002 0001 04'), result: 'truncated-link' },
  { name: 'NULL header cut', linktype: LinkType.NULL, data: hex('0200'), result: 'truncated-link' },
  { name: 'RAW, empty', linktype: LinkType.RAW, data: Buffer.alloc(0), result: 'truncated-link' },
  { name: 'IPv4 header cut', linktype: LinkType.ETHERNET, data: ether4(tcp4()).subarray(0, 14 + 19), origlen: 59, result: 'truncated-ip' },
  {
    name: 'IPv4 options cut',
    linktype: LinkType.ETHERNET,
    data: ether4(ipv4({ src: A4, dst: B4, proto: 6, payload: tcp(DATA), options: hex('94040000') })).subarray(0, 14 + 22),
    origlen: 63,
    result: 'truncated-ip',
  },
  { name: 'IPv6 header cut', linktype: LinkType.ETHERNET, data: ether6(tcp6()).subarray(0, 14 + 39), origlen: 79, result: 'truncated-ip' },
  { name: 'TCP cut to 13 bytes', linktype: LinkType.ETHERNET, data: ether4(tcp4()).subarray(0, 34 + 13), origlen: 59, result: 'truncated-tcp' },
  {
    name: 'TCP cut to 14 bytes: ports, numbers and flags are enough',
    linktype: LinkType.ETHERNET,
    data: ether4(tcp4()).subarray(0, 34 + 14),
    origlen: 59,
    result: 'ok',
    flow: FLOW4,
    tcp: { seq: 1, ack: 0x80000001, flags: 0x18, window: 0, payloadLen: 0, payloadWireLen: 5 },
  },
  {
    name: 'TCP options cut (as zeek/tcp/truncated-header.pcap frame 1)', // tshark: SYN … MSS=1460 [Packet size limited during capture]
    linktype: LinkType.ETHERNET,
    data: ether4(tcp4(SYN)).subarray(0, 34 + 26),
    origlen: 66,
    result: 'ok',
    flow: FLOW4,
    tcp: { flags: 0x02, window: 64240, mss: 1460, windowScale: -1, sackPermitted: true, payloadLen: 0, payloadWireLen: 0 },
  },
  {
    name: 'TCP payload cut by the snaplen', // tshark: Len=5, 2 bytes captured
    linktype: LinkType.ETHERNET,
    data: ether4(tcp4()).subarray(0, 54 + 2),
    origlen: 59,
    result: 'ok',
    flow: FLOW4,
    tcp: { payloadLen: 2, payloadWireLen: 5 },
    payload: 'he',
  },
  {
    name: 'UDP header cut',
    linktype: LinkType.ETHERNET,
    data: ether4(udp4(53, Buffer.from('query'))).subarray(0, 34 + 7),
    origlen: 47,
    result: 'truncated-udp',
  },
  {
    name: 'IPv6 extension header cut',
    linktype: LinkType.ETHERNET,
    data: ether6(ipv6({ src: A6, dst: B6, nextHeader: 0, payload: ipv6Extension(6, tcp(DATA), 16) })).subarray(0, 54 + 12),
    origlen: 54 + 16 + 25,
    result: 'truncated-ipv6-ext',
  },

  // --- malformed headers ----------------------------------------------------------------------
  { name: 'IPv4 IHL below 5', linktype: LinkType.RAW, data: Buffer.concat([hex('44'), tcp4().subarray(1)]), result: 'bad-ip-header' },
  { name: 'IPv4 total length below the header', linktype: LinkType.RAW, data: ipv4({ src: A4, dst: B4, proto: 6, payload: tcp(DATA), totalLength: 19 }), result: 'bad-ip-length' },
  {
    // tshark: "IPv4 total length exceeds packet length (45 bytes)", and dissects the TCP that is there
    // (as zeek/tcp/reassembly.pcap frame 7). The frame was whole on the wire (caplen = origlen), so the
    // bytes the length claims beyond it never existed: the segment ends with the frame. (A later
    // segment then leaves a hole, which flow/ counts as a gap, as tshark's "previous segment not captured".)
    name: 'IPv4 total length beyond the frame',
    linktype: LinkType.RAW,
    data: ipv4({ src: A4, dst: B4, proto: 6, payload: tcp(DATA), totalLength: 100 }),
    result: 'ok',
    flow: FLOW4,
    tcp: { payloadLen: 5, payloadWireLen: 5 },
  },
  {
    name: 'IPv4 total length 0 (TSO): the frame gives the length', // tshark: Total Length: 0 (reported as 45, presumed to be because of "TCP segmentation offload" (TSO))
    linktype: LinkType.ETHERNET,
    data: ether4(ipv4({ src: A4, dst: B4, proto: 6, payload: tcp(DATA), totalLength: 0 })),
    result: 'ok',
    flow: FLOW4,
    tcp: { payloadLen: 5, payloadWireLen: 5 },
  },
  {
    name: 'IPv6 payload length beyond the frame, as IPv4',
    linktype: LinkType.RAW,
    data: ipv6({ src: A6, dst: B6, nextHeader: 6, payload: tcp(DATA), payloadLength: 200 }),
    result: 'ok',
    flow: FLOW6,
    tcp: { payloadLen: 5, payloadWireLen: 5 },
  },
  { name: 'TCP data offset 4', linktype: LinkType.RAW, data: tcp4({ ...DATA, dataOffset: 4 }), result: 'bad-tcp-header', tsharkDiffers: 'tshark shows the ports of a bogus header' },
  { name: 'TCP data offset beyond the segment', linktype: LinkType.RAW, data: tcp4({ ...DATA, payload: undefined, dataOffset: 15 }), result: 'bad-tcp-header', tsharkDiffers: 'as above' },
  { name: 'TCP segment shorter than 20 bytes on the wire', linktype: LinkType.RAW, data: ipv4({ src: A4, dst: B4, proto: 6, payload: tcp(DATA).subarray(0, 16) }), result: 'bad-tcp-header', tsharkDiffers: 'as above' },
  {
    name: 'TCP options: window scale above 14 is used as 14, a zero-length option ends the parse',
    linktype: LinkType.RAW,
    data: tcp4({ ...SYN, options: hex('03030f 01 020405b4 0400 0402') }),
    result: 'ok',
    flow: FLOW4,
    tcp: { windowScale: 14, mss: 1460, sackPermitted: false },
  },
  {
    name: 'TCP options: MSS of the wrong length is skipped, an option past the header ends the parse',
    linktype: LinkType.RAW,
    data: tcp4({ ...SYN, options: hex('0203ff 0402 030a07') }),
    result: 'ok',
    flow: FLOW4,
    tcp: { windowScale: -1, mss: -1, sackPermitted: true },
  },

  // --- IPv4 and IPv6 payloads ---------------------------------------------------------------
  { name: 'ICMP echo', linktype: LinkType.RAW, data: ipv4({ src: A4, dst: B4, proto: 1, payload: hex('0800f7ff 0000 0000') }), result: 'ignored', layers: Layer.IPV4 },
  { name: 'ICMPv6 neighbour solicitation', linktype: LinkType.RAW, data: ipv6({ src: A6, dst: B6, nextHeader: 58, payload: hex('8700 0000 00000000') }), result: 'ignored', layers: Layer.IPV6 },
  {
    name: 'IPv6 hop-by-hop, destination options, routing, then TCP', // tshark: IPv6 Hop-by-Hop Option, Destination Options, Routing Header
    linktype: LinkType.RAW,
    data: ipv6({ src: A6, dst: B6, nextHeader: 0, payload: ipv6Extension(60, ipv6Extension(43, ipv6Extension(6, tcp(DATA)), 16)) }),
    result: 'ok',
    flow: FLOW6,
    tcp: DATA_TCP,
    payload: 'hello',
  },
  {
    name: 'IPv6 AH, then TCP', // tshark: Authentication Header, Length: 24
    linktype: LinkType.RAW,
    data: ipv6({ src: A6, dst: B6, nextHeader: 51, payload: Buffer.concat([hex('06 04 0000 00000100 00000001 00112233445566778899aabb'), tcp(DATA)]) }),
    result: 'ok',
    flow: FLOW6,
    payload: 'hello',
  },
  { name: 'IPv6 ESP', linktype: LinkType.RAW, data: ipv6({ src: A6, dst: B6, nextHeader: 50, payload: hex('00000100 00000001 deadbeef') }), result: 'ignored' },
  { name: 'IPv6 no next header', linktype: LinkType.RAW, data: ipv6({ src: A6, dst: B6, nextHeader: 59, payload: Buffer.alloc(0) }), result: 'ignored' },
  {
    name: 'IPv6 atomic fragment is a whole packet', // RFC 6946; tshark dissects the TCP inside
    linktype: LinkType.RAW,
    data: ipv6({ src: A6, dst: B6, nextHeader: 44, payload: ipv6FragmentHeader(6, 0, false, 7, tcp(DATA)) }),
    result: 'ok',
    flow: FLOW6,
    payload: 'hello',
  },
  { name: 'plain UDP', linktype: LinkType.RAW, data: udp4(53, Buffer.from('query')), result: 'ok', flow: `${A4} 40000 > ${B4} 53`, layers: Layer.IPV4 | Layer.UDP },

  // --- tunnels ------------------------------------------------------------------------------
  {
    name: 'VXLAN (4789), inner Ethernet IPv4 TCP', // tshark: Virtual eXtensible Local Area Network, VNI: 4096
    linktype: LinkType.ETHERNET,
    data: ether4(udp4(4789, vxlan(4096, ether4(tcp4())), '10.0.0.1', '10.0.0.2')),
    result: 'ok',
    flow: FLOW4,
    tcp: DATA_TCP,
    payload: 'hello',
    tunnel: { kind: 'vxlan', outerSrc: '10.0.0.1', outerDst: '10.0.0.2', vni: 4096 },
    layers: Layer.IPV4 | Layer.UDP | Layer.TUNNEL | Layer.TCP,
  },
  {
    name: "flannel's VXLAN port 8472, inner IPv6 TCP",
    linktype: LinkType.ETHERNET,
    data: ether4(udp4(8472, vxlan(1, ether6(tcp6())), '10.0.0.1', '10.0.0.2')),
    result: 'ok',
    flow: FLOW6,
    tunnel: { kind: 'vxlan', outerSrc: '10.0.0.1', outerDst: '10.0.0.2', vni: 1 },
    layers: Layer.IPV4 | Layer.UDP | Layer.TUNNEL | Layer.IPV6 | Layer.TCP,
    tsharkDiffers: 'tshark does not decode port 8472 as VXLAN by default',
  },
  {
    name: 'UDP to 4789 without the VXLAN I flag stays plain UDP',
    linktype: LinkType.ETHERNET,
    data: ether4(udp4(4789, vxlan(5, ether4(tcp4()), 0x00))),
    result: 'ok',
    flow: `${A4} 40000 > ${B4} 4789`,
    tunnel: null,
    tsharkDiffers: 'tshark decodes any UDP to 4789 as VXLAN',
  },
  { name: 'UDP to 4789 too short for VXLAN stays plain UDP', linktype: LinkType.RAW, data: udp4(4789, hex('0800000000000100')), result: 'ok', flow: `${A4} 40000 > ${B4} 4789`, tunnel: null },
  { name: 'VXLAN header cut by the snaplen', linktype: LinkType.RAW, data: udp4(4789, vxlan(5, ether4(tcp4()))).subarray(0, 28 + 4), origlen: 28 + 8 + 14 + 45, result: 'truncated-tunnel' },
  {
    name: 'Geneve with 8 bytes of options, inner Ethernet', // tshark: Generic Network Virtualization Encapsulation, Options: (8 bytes)
    linktype: LinkType.ETHERNET,
    data: ether4(udp4(6081, geneve(0xabcdef, 0x6558, ether4(tcp4()), hex('0102 03 01 00000000')), '10.0.0.1', '10.0.0.2')),
    result: 'ok',
    flow: FLOW4,
    payload: 'hello',
    tunnel: { kind: 'geneve', outerSrc: '10.0.0.1', outerDst: '10.0.0.2', vni: 0xabcdef },
  },
  {
    name: 'Geneve carrying IPv4 directly',
    linktype: LinkType.ETHERNET,
    data: ether6(ipv6({ src: '2001:db8::a', dst: '2001:db8::b', nextHeader: 17, payload: udp(40000, 6081, geneve(9, 0x0800, tcp4())) })),
    result: 'ok',
    flow: FLOW4,
    tunnel: { kind: 'geneve', outerSrc: '2001:db8::a', outerDst: '2001:db8::b', vni: 9 },
  },
  { name: 'Geneve version 1 stays plain UDP', linktype: LinkType.RAW, data: udp4(6081, Buffer.concat([hex('40006558 00000900'), ether4(tcp4())])), result: 'ok', flow: `${A4} 40000 > ${B4} 6081`, tunnel: null, tsharkDiffers: 'tshark shows the bad version' },
  { name: 'Geneve options cut by the snaplen', linktype: LinkType.RAW, data: udp4(6081, geneve(9, 0x0800, tcp4(), Buffer.alloc(16))).subarray(0, 28 + 12), origlen: 28 + 24 + 45, result: 'truncated-tunnel' },
  {
    name: 'IPv4 in IPv4',
    linktype: LinkType.RAW,
    data: ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 4, payload: tcp4() }),
    result: 'ok',
    flow: FLOW4,
    tunnel: { kind: 'ipip', outerSrc: '10.0.0.1', outerDst: '10.0.0.2', vni: null },
  },
  { name: 'IPv6 in IPv4 (6in4)', linktype: LinkType.RAW, data: ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 41, payload: tcp6() }), result: 'ok', flow: FLOW6, layers: Layer.IPV4 | Layer.TUNNEL | Layer.IPV6 | Layer.TCP },
  {
    name: 'IPv4 in IPv6',
    linktype: LinkType.RAW,
    data: ipv6({ src: 'fd00::1', dst: 'fd00::2', nextHeader: 4, payload: tcp4() }),
    result: 'ok',
    flow: FLOW4,
    tunnel: { kind: 'ipip', outerSrc: 'fd00::1', outerDst: 'fd00::2', vni: null },
  },
  { name: 'IPv6 in IPv6', linktype: LinkType.RAW, data: ipv6({ src: 'fd00::1', dst: 'fd00::2', nextHeader: 41, payload: tcp6() }), result: 'ok', flow: FLOW6 },
  {
    name: 'four nested tunnels are decoded, the outermost is recorded',
    linktype: LinkType.ETHERNET,
    data: ether4(udp4(4789, vxlan(77, ether4(ipv4({ src: '10.1.0.1', dst: '10.1.0.2', proto: 4, payload: ipv4({ src: '10.2.0.1', dst: '10.2.0.2', proto: 41, payload: ipv6({ src: 'fd00::1', dst: 'fd00::2', nextHeader: 4, payload: tcp4() }) }) }))), '10.0.0.1', '10.0.0.2')),
    result: 'ok',
    flow: FLOW4,
    tunnel: { kind: 'vxlan', outerSrc: '10.0.0.1', outerDst: '10.0.0.2', vni: 77 },
  },
  {
    name: 'a fifth nested tunnel is too deep',
    linktype: LinkType.RAW,
    data: ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 4, payload: ipv4({ src: '10.1.0.1', dst: '10.1.0.2', proto: 4, payload: ipv4({ src: '10.2.0.1', dst: '10.2.0.2', proto: 4, payload: ipv4({ src: '10.3.0.1', dst: '10.3.0.2', proto: 4, payload: ipv4({ src: '10.4.0.1', dst: '10.4.0.2', proto: 4, payload: tcp4() }) }) }) }) }),
    result: 'tunnel-too-deep',
  },
];

function describeFlow(packet: DecodedPacket): string {
  const ports = packet.proto === 6 ? packet.tcp : packet.udp;
  const src = formatAddress(packet.buf, packet.srcOff, packet.addrLen);
  const dst = formatAddress(packet.buf, packet.dstOff, packet.addrLen);
  return `${src} ${ports.srcPort} > ${dst} ${ports.dstPort}`;
}

function decodeCase(testCase: Case): { result: DecodeResult; packet: DecodedPacket; decoder: PacketDecoder } {
  const decoder = new PacketDecoder();
  const packet = newDecodedPacket();
  const result = decoder.decode(frameOf(testCase.linktype, testCase.data, { origlen: testCase.origlen }), packet);
  return { result, packet, decoder };
}

describe('PacketDecoder, layer by layer', () => {
  it.each(cases.map((testCase) => [testCase.name, testCase] as const))('%s', (_name, testCase) => {
    const { result, packet, decoder } = decodeCase(testCase);
    expect(result).toBe(testCase.result);
    if (testCase.flow !== undefined) expect(describeFlow(packet)).toBe(testCase.flow);
    if (testCase.vlan !== undefined) expect(packet.vlan).toBe(testCase.vlan);
    if (testCase.tcp !== undefined) expect(packet.tcp).toMatchObject(testCase.tcp);
    if (testCase.payload !== undefined) {
      const view = packet.proto === 6 ? packet.tcp : packet.udp;
      expect(packet.buf.toString('latin1', view.payloadOff, view.payloadOff + view.payloadLen)).toBe(testCase.payload);
    }
    if (testCase.tunnel !== undefined) expect(packet.tunnel).toEqual(testCase.tunnel);
    if (testCase.layers !== undefined) expect(decoder.layers).toBe(testCase.layers);
    // Counted by name: errors apart from 'ok', 'held' and 'ignored'.
    const isError = result !== 'ok' && result !== 'held' && result !== 'ignored';
    expect(decoder.errorTotal).toBe(isError ? 1 : 0);
    expect(decoder.errorCounts()).toEqual(isError ? { [result]: 1 } : {});
    expect([decoder.ok, decoder.held, decoder.ignored]).toEqual([result === 'ok' ? 1 : 0, result === 'held' ? 1 : 0, result === 'ignored' ? 1 : 0]);
  });

  it('reuses one DecodedPacket: a frame with no VLAN or tunnel clears what the last one set', () => {
    const decoder = new PacketDecoder();
    const packet = newDecodedPacket();
    decoder.decode(frameOf(LinkType.ETHERNET, ethernet(0x8100, vlan(9, 0x0800, udp4(4789, vxlan(3, ether4(tcp4())))))), packet);
    expect([packet.vlan, packet.tunnel?.vni]).toEqual([9, 3]);
    expect(decoder.decode(frameOf(LinkType.ETHERNET, ether4(tcp4())), packet)).toBe('ok');
    expect([packet.vlan, packet.tunnel]).toEqual([-1, null]);
  });

  it('points into the frame buffer without copying', () => {
    const frame = frameOf(LinkType.ETHERNET, ether4(tcp4()));
    const packet = newDecodedPacket();
    new PacketDecoder().decode(frame, packet);
    expect(packet.buf).toBe(frame.buf);
    expect([packet.srcOff, packet.dstOff, packet.tcp.payloadOff]).toEqual([4 + 14 + 12, 4 + 14 + 16, 4 + 14 + 20 + 20]);
  });

  it('honours other tunnel ports and depth limits', () => {
    const decoder = new PacketDecoder({ vxlanPorts: [9999], genevePorts: [], maxTunnelDepth: 1 });
    const packet = newDecodedPacket();
    expect(decoder.decode(frameOf(LinkType.RAW, udp4(9999, vxlan(1, ether4(tcp4())))), packet)).toBe('ok');
    expect(packet.tunnel?.kind).toBe('vxlan');
    expect(decoder.decode(frameOf(LinkType.RAW, udp4(4789, vxlan(1, ether4(tcp4())))), packet)).toBe('ok');
    expect([packet.proto, packet.udp.dstPort, packet.tunnel]).toEqual([17, 4789, null]);
    expect(decoder.decode(frameOf(LinkType.RAW, udp4(6081, geneve(1, 0x0800, tcp4()))), packet)).toBe('ok');
    expect(packet.tunnel).toBe(null);
    const twoDeep = udp4(9999, vxlan(1, ether4(ipv4({ src: A4, dst: B4, proto: 4, payload: tcp4() }))));
    expect(decoder.decode(frameOf(LinkType.RAW, twoDeep), packet)).toBe('tunnel-too-deep');
  });
});

describe('the fixtures as tshark reads them', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kwire-decode-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const checked = cases.filter((testCase) => testCase.flow !== undefined && testCase.tsharkDiffers === undefined);
  const linktypes = [...new Set(checked.map((testCase) => testCase.linktype))];

  it.each(linktypes)('linktype %i: tshark shows the same innermost flow and outer VLAN', (linktype) => {
    const group = checked.filter((testCase) => testCase.linktype === linktype);
    const file = path.join(dir, `${linktype}.pcap`);
    writePcap(file, linktype, group.map((testCase) => ({ data: testCase.data, origlen: testCase.origlen })));
    const rows = tsharkFields(file, ['frame.protocols', 'ip.src', 'ipv6.src', 'ip.dst', 'ipv6.dst', 'tcp.srcport', 'udp.srcport', 'tcp.dstport', 'udp.dstport', 'ieee8021ad.id', 'vlan.id']);
    expect(rows).toHaveLength(group.length);
    const last = (value: string) => value.split(',').at(-1) ?? '';
    const tsharkView = rows.map((row) => {
      const [protocols, ipSrc, ipv6Src, ipDst, ipv6Dst, tcpSport, udpSport, tcpDport, udpDport, serviceVlanId, vlanId] = row.map((column) => column ?? '');
      // tshark lists IPv4 and IPv6 fields apart: frame.protocols says which is nested innermost.
      const layers = protocols.split(':');
      const innerIsV6 = layers.lastIndexOf('ipv6') > layers.lastIndexOf('ip');
      const src = innerIsV6 ? last(ipv6Src) : last(ipSrc);
      const dst = innerIsV6 ? last(ipv6Dst) : last(ipDst);
      const sport = last(tcpSport) || last(udpSport);
      const dport = last(tcpDport) || last(udpDport);
      // 802.1ad (0x88a8) tags are ieee8021ad.id to tshark, 802.1Q and 0x9100 tags vlan.id.
      const outerVlan = serviceVlanId || vlanId;
      return { flow: `${src} ${sport} > ${dst} ${dport}`, vlan: outerVlan === '' ? -1 : Number(outerVlan.split(',')[0]) };
    });
    expect(tsharkView).toEqual(group.map((testCase) => ({ flow: testCase.flow, vlan: decodeCase(testCase).packet.vlan })));
  });
});

import type { Frame } from '../model/frame.js';
import { LinkType } from '../model/frame.js';
import type { DecodedPacket, DecodeError, DecodeResult, TunnelKind } from '../model/packet.js';
import { formatAddress } from './address.js';
import { FragmentReassembler, type FragmentLimits } from './fragments.js';
import { decodeTcp } from './tcp.js';
import { u16be } from '../model/bytes.js';

/*
 * Every layer is a method over `(buf, off, end, wireEnd)`: the header starts at `off`, the bytes
 * captured end at `end`, and the layer ends on the wire at `wireEnd` (beyond `end` when the
 * snaplen cut the frame). Each checks its length once, reads named offsets, writes into the
 * reused DecodedPacket and returns a DecodeResult; none allocates or throws on the common path.
 */

export interface DecoderOptions {
  /** UDP destination ports carrying VXLAN (default: IANA's 4789 and flannel's 8472). */
  vxlanPorts?: readonly number[];
  /** UDP destination ports carrying Geneve (default 6081). */
  genevePorts?: readonly number[];
  /** Encapsulations decoded within one another before 'tunnel-too-deep' (default 4). */
  maxTunnelDepth?: number;
  fragmentLimits?: Partial<FragmentLimits>;
}

/** What the last decoded frame contained (PacketDecoder.layers), whatever its result: for statistics. */
export const Layer = {
  VLAN: 1 << 0,
  PPPOE: 1 << 1,
  IPV4: 1 << 2,
  IPV6: 1 << 3,
  TCP: 1 << 4,
  UDP: 1 << 5,
  TUNNEL: 1 << 6,
  /** The datagram was reassembled from IP fragments. */
  FRAGMENTS: 1 << 7,
} as const;

/** Every DecodeError once: a Record, so that the compiler notices when model/packet.ts adds one. */
const ERROR_NAMES: Record<DecodeError, true> = {
  'unsupported-linktype': true,
  'truncated-link': true,
  'unsupported-ethertype': true,
  'truncated-ip': true,
  'bad-ip-version': true,
  'bad-ip-header': true,
  'bad-ip-length': true,
  'fragment-overflow': true,
  'truncated-ipv6-ext': true,
  'truncated-tcp': true,
  'bad-tcp-header': true,
  'truncated-udp': true,
  'truncated-tunnel': true,
  'tunnel-too-deep': true,
};

export const DECODE_ERRORS: readonly DecodeError[] = Object.keys(ERROR_NAMES) as DecodeError[];

export type DecodeErrorCounts = Record<DecodeError, number>;

const EtherType = {
  IPV4: 0x0800,
  ARP: 0x0806,
  TRANSPARENT_ETHERNET: 0x6558,
  RARP: 0x8035,
  VLAN: 0x8100,
  IPV6: 0x86dd,
  SLOW_PROTOCOLS: 0x8809,
  PPPOE_DISCOVERY: 0x8863,
  PPPOE_SESSION: 0x8864,
  EAPOL: 0x888e,
  QINQ: 0x88a8,
  LLDP: 0x88cc,
  QINQ_OLD: 0x9100,
} as const;

/** Below this an Ethernet type field is an 802.3 length (LLC, STP, CDP …): no IP inside. */
const ETHERTYPE_MIN = 0x0600;

const IpProto = {
  HOP_BY_HOP: 0,
  IPV4: 4,
  TCP: 6,
  UDP: 17,
  IPV6: 41,
  ROUTING: 43,
  FRAGMENT: 44,
  ESP: 50,
  AH: 51,
  NO_NEXT_HEADER: 59,
  DESTINATION_OPTIONS: 60,
} as const;

const Ethernet = { TYPE: 12, LENGTH: 14 } as const;
const VlanTag = { TCI: 0, TYPE: 2, LENGTH: 4 } as const;
const VLAN_ID_MASK = 0x0fff;
/** PPPoE session header (RFC 2516) and the PPP protocol field after it. */
const Pppoe = { PAYLOAD_LENGTH: 4, PPP_PROTOCOL: 6, LENGTH: 8 } as const;
const PppProtocol = { IPV4: 0x0021, IPV6: 0x0057 } as const;
/** Linux cooked capture v1 and v2 (https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html, …SLL2.html). */
const Sll = { HATYPE: 2, PROTOCOL: 14, LENGTH: 16 } as const;
const Sll2 = { PROTOCOL: 0, HATYPE: 8, LENGTH: 20 } as const;
const ARPHRD_NETLINK = 824;
/** BSD loopback: a 4-byte address family, in the capturing host's byte order (NULL) or network order (LOOP). */
const LOOPBACK_HEADER_LENGTH = 4;
const AddressFamily = { INET: 2, INET6_OPENBSD: 24, INET6_FREEBSD: 28, INET6_DARWIN: 30 } as const;

const Ipv4 = { VERSION_IHL: 0, TOTAL_LENGTH: 2, ID: 4, FLAGS_FRAGMENT: 6, PROTOCOL: 9, SRC: 12, DST: 16, MIN_LENGTH: 20 } as const;
const IPV4_MORE_FRAGMENTS = 0x2000;
const IPV4_FRAGMENT_OFFSET_MASK = 0x1fff;
const Ipv6 = { PAYLOAD_LENGTH: 4, NEXT_HEADER: 6, SRC: 8, DST: 24, LENGTH: 40 } as const;
const Ipv6Fragment = { NEXT_HEADER: 0, OFFSET_FLAGS: 2, ID: 4, LENGTH: 8 } as const;
const IPV6_FRAGMENT_OFFSET_MASK = 0xfff8;
const IPV6_MORE_FRAGMENTS = 0x0001;

const Udp = { SRC_PORT: 0, DST_PORT: 2, LENGTH: 4, HEADER_LENGTH: 8 } as const;
/** VXLAN (RFC 7348): flags with the I bit (VNI valid), reserved, 24-bit VNI, reserved. */
const Vxlan = { FLAGS: 0, VNI: 4, LENGTH: 8 } as const;
const VXLAN_FLAG_VNI = 0x08;
/** Geneve (RFC 8926): version and option length (in 4-byte words), flags, protocol type, VNI. */
const Geneve = { VERSION_OPTIONS: 0, PROTOCOL: 2, VNI: 4, LENGTH: 8 } as const;

const TunnelPort = { NONE: 0, VXLAN: 1, GENEVE: 2 } as const;

export class PacketDecoder {
  /** Frames per DecodeError; they are not thrown. */
  readonly errors: DecodeErrorCounts;
  ok = 0;
  /** IP fragments kept until their datagram is whole. */
  held = 0;
  /** Well-formed frames of no interest (ARP, ICMP, LLDP, ESP …). */
  ignored = 0;
  /** Layer bits of the last decoded frame. */
  layers = 0;

  private readonly tunnelPorts = new Uint8Array(65536);
  private readonly maxTunnelDepth: number;
  private readonly fragments: FragmentReassembler;
  private tunnelDepth = 0;
  private frameTs = 0;

  constructor(options: DecoderOptions = {}) {
    for (const port of options.vxlanPorts ?? [4789, 8472]) this.tunnelPorts[port] = TunnelPort.VXLAN;
    for (const port of options.genevePorts ?? [6081]) this.tunnelPorts[port] = TunnelPort.GENEVE;
    this.maxTunnelDepth = options.maxTunnelDepth ?? 4;
    this.fragments = new FragmentReassembler(options.fragmentLimits);
    const errors = {} as DecodeErrorCounts;
    for (const name of DECODE_ERRORS) errors[name] = 0;
    this.errors = errors;
  }

  /** Sum of the error counts (`capture.decodeErrors`). */
  get errorTotal(): number {
    let total = 0;
    for (const name of DECODE_ERRORS) total += this.errors[name];
    return total;
  }

  /** Incomplete fragmented datagrams dropped when their timeout passed (not an error: their frames were 'held'). */
  get fragmentsExpired(): number {
    return this.fragments.expired;
  }

  /** The errors that occurred, by name (`capture.decodeErrorsByName`). */
  errorCounts(): Record<string, number> {
    const byName: Record<string, number> = {};
    for (const name of DECODE_ERRORS) if (this.errors[name] > 0) byName[name] = this.errors[name];
    return byName;
  }

  /** Decodes `frame` into `out`, down to TCP or UDP, and counts the outcome. */
  decode(frame: Frame, out: DecodedPacket): DecodeResult {
    out.buf = frame.buf;
    out.proto = 0;
    out.vlan = -1;
    out.tunnel = null;
    this.layers = 0;
    this.tunnelDepth = 0;
    this.frameTs = frame.ts;
    // Clamped, so that a reader's inconsistent caplen cannot make a read go past the buffer.
    const end = Math.min(frame.offset + frame.caplen, frame.buf.length);
    const wireEnd = end + Math.max(0, frame.origlen - frame.caplen);
    const result = this.link(frame.linktype, frame.buf, frame.offset, end, wireEnd, out);
    if (result === 'ok') this.ok++;
    else if (result === 'held') this.held++;
    else if (result === 'ignored') this.ignored++;
    else this.errors[result]++;
    return result;
  }

  private link(linktype: number, buf: Buffer, off: number, end: number, wireEnd: number, out: DecodedPacket): DecodeResult {
    switch (linktype) {
      case LinkType.ETHERNET:
        return this.ethernet(buf, off, end, wireEnd, out);
      case LinkType.LINUX_SLL:
        if (end - off < Sll.LENGTH) return 'truncated-link';
        if (buf.readUInt16BE(off + Sll.HATYPE) === ARPHRD_NETLINK) return 'ignored';
        return this.ethertype(buf.readUInt16BE(off + Sll.PROTOCOL), buf, off + Sll.LENGTH, end, wireEnd, out);
      case LinkType.LINUX_SLL2:
        if (end - off < Sll2.LENGTH) return 'truncated-link';
        if (buf.readUInt16BE(off + Sll2.HATYPE) === ARPHRD_NETLINK) return 'ignored';
        return this.ethertype(buf.readUInt16BE(off + Sll2.PROTOCOL), buf, off + Sll2.LENGTH, end, wireEnd, out);
      case LinkType.NULL:
      case LinkType.LOOP:
        return this.loopback(buf, off, end, wireEnd, out);
      case LinkType.RAW:
        if (end - off < 1) return 'truncated-link';
        return this.ip(buf[off] >> 4, buf, off, end, wireEnd, out);
      case LinkType.IPV4:
        return this.ipv4(buf, off, end, wireEnd, out);
      case LinkType.IPV6:
        return this.ipv6(buf, off, end, wireEnd, out);
      default:
        return 'unsupported-linktype';
    }
  }

  private ethernet(buf: Buffer, off: number, end: number, wireEnd: number, out: DecodedPacket): DecodeResult {
    if (end - off < Ethernet.LENGTH) return 'truncated-link';
    return this.ethertype(u16be(buf, off + Ethernet.TYPE), buf, off + Ethernet.LENGTH, end, wireEnd, out);
  }

  /** What follows an EtherType: stacked VLAN tags, then IPv4, IPv6 or a PPPoE session. */
  private ethertype(type: number, buf: Buffer, off: number, end: number, wireEnd: number, out: DecodedPacket): DecodeResult {
    while (type === EtherType.VLAN || type === EtherType.QINQ || type === EtherType.QINQ_OLD) {
      if (end - off < VlanTag.LENGTH) return 'truncated-link';
      if (out.vlan < 0) out.vlan = buf.readUInt16BE(off + VlanTag.TCI) & VLAN_ID_MASK;
      this.layers |= Layer.VLAN;
      type = buf.readUInt16BE(off + VlanTag.TYPE);
      off += VlanTag.LENGTH;
    }
    switch (type) {
      case EtherType.IPV4:
        return this.ipv4(buf, off, end, wireEnd, out);
      case EtherType.IPV6:
        return this.ipv6(buf, off, end, wireEnd, out);
      case EtherType.PPPOE_SESSION:
        return this.pppoe(buf, off, end, wireEnd, out);
      case EtherType.ARP:
      case EtherType.RARP:
      case EtherType.SLOW_PROTOCOLS:
      case EtherType.PPPOE_DISCOVERY:
      case EtherType.EAPOL:
      case EtherType.LLDP:
        return 'ignored';
      default:
        return type < ETHERTYPE_MIN ? 'ignored' : 'unsupported-ethertype';
    }
  }

  private pppoe(buf: Buffer, off: number, end: number, wireEnd: number, out: DecodedPacket): DecodeResult {
    if (end - off < Pppoe.LENGTH) return 'truncated-link';
    this.layers |= Layer.PPPOE;
    const protocol = buf.readUInt16BE(off + Pppoe.PPP_PROTOCOL);
    // The session length (from the PPP protocol field on) is where the packet ends, as tshark takes
    // it: what a frame carries beyond it is padding, even where the IP length claims it.
    const payloadEnd = off + Pppoe.PPP_PROTOCOL + buf.readUInt16BE(off + Pppoe.PAYLOAD_LENGTH);
    const packetWireEnd = Math.min(wireEnd, payloadEnd);
    const packetEnd = Math.min(end, packetWireEnd);
    if (protocol === PppProtocol.IPV4) return this.ipv4(buf, off + Pppoe.LENGTH, packetEnd, packetWireEnd, out);
    if (protocol === PppProtocol.IPV6) return this.ipv6(buf, off + Pppoe.LENGTH, packetEnd, packetWireEnd, out);
    return 'ignored'; // LCP, IPCP, authentication …
  }

  private loopback(buf: Buffer, off: number, end: number, wireEnd: number, out: DecodedPacket): DecodeResult {
    if (end - off < LOOPBACK_HEADER_LENGTH) return 'truncated-link';
    // Either byte order: a NULL capture read on a machine of the other endianness stays readable.
    const networkOrder = buf.readUInt32BE(off);
    const family = networkOrder <= 0xffff ? networkOrder : buf.readUInt32LE(off);
    switch (family) {
      case AddressFamily.INET:
        return this.ipv4(buf, off + LOOPBACK_HEADER_LENGTH, end, wireEnd, out);
      case AddressFamily.INET6_OPENBSD:
      case AddressFamily.INET6_FREEBSD:
      case AddressFamily.INET6_DARWIN:
        return this.ipv6(buf, off + LOOPBACK_HEADER_LENGTH, end, wireEnd, out);
      default:
        return 'unsupported-ethertype'; // the address family plays the EtherType's part here
    }
  }

  /** Raw IP, and IP inside IP: the version nibble decides. */
  private ip(version: number, buf: Buffer, off: number, end: number, wireEnd: number, out: DecodedPacket): DecodeResult {
    if (version === 4) return this.ipv4(buf, off, end, wireEnd, out);
    if (version === 6) return this.ipv6(buf, off, end, wireEnd, out);
    return 'bad-ip-version';
  }

  private ipv4(buf: Buffer, off: number, end: number, wireEnd: number, out: DecodedPacket): DecodeResult {
    if (end - off < Ipv4.MIN_LENGTH) return 'truncated-ip';
    const versionIhl = buf[off + Ipv4.VERSION_IHL];
    if (versionIhl >> 4 !== 4) return 'bad-ip-version';
    const headerLength = (versionIhl & 0x0f) * 4;
    if (headerLength < Ipv4.MIN_LENGTH) return 'bad-ip-header';
    if (end - off < headerLength) return 'truncated-ip';
    const datagramWireEnd = lengthOrFrame(u16be(buf, off + Ipv4.TOTAL_LENGTH), off, wireEnd);
    if (datagramWireEnd < off + headerLength) return 'bad-ip-length';
    // Ethernet padding after the datagram is not part of it. A length beyond the frame is read
    // as tshark does: what is there is decoded, the rest counts as not captured.
    const datagramEnd = Math.min(end, datagramWireEnd);

    this.layers |= Layer.IPV4;
    const proto = buf[off + Ipv4.PROTOCOL];
    setAddresses(out, buf, 4, off + Ipv4.SRC, off + Ipv4.DST, proto);
    const flagsFragment = u16be(buf, off + Ipv4.FLAGS_FRAGMENT);
    const fragmentOffset = (flagsFragment & IPV4_FRAGMENT_OFFSET_MASK) * 8;
    const moreFragments = (flagsFragment & IPV4_MORE_FRAGMENTS) !== 0;
    if (fragmentOffset === 0 && !moreFragments) return this.transport(proto, buf, off + headerLength, datagramEnd, datagramWireEnd, out);

    if (datagramEnd < datagramWireEnd) return 'truncated-ip'; // a fragment the snaplen cut cannot be reassembled
    // Rare path: a string key and a copy are fine here.
    const key = `4${buf.toString('latin1', off + Ipv4.SRC, off + Ipv4.DST + 4)}${buf.readUInt16BE(off + Ipv4.ID)}:${proto}`;
    const outcome = this.fragments.add(this.frameTs, key, {
      buf,
      off: off + headerLength,
      end: datagramEnd,
      headerOff: off,
      headerLen: headerLength,
      fragmentOffset,
      moreFragments,
      proto,
    });
    if (typeof outcome === 'string') return outcome;
    this.layers |= Layer.FRAGMENTS;
    setAddresses(out, outcome.buf, 4, Ipv4.SRC, Ipv4.DST, outcome.proto);
    return this.transport(outcome.proto, outcome.buf, outcome.payloadOff, outcome.buf.length, outcome.buf.length, out);
  }

  private ipv6(buf: Buffer, off: number, end: number, wireEnd: number, out: DecodedPacket): DecodeResult {
    if (end - off < Ipv6.LENGTH) return 'truncated-ip';
    if (buf[off] >> 4 !== 6) return 'bad-ip-version';
    const packetWireEnd = lengthOrFrame(u16be(buf, off + Ipv6.PAYLOAD_LENGTH), off + Ipv6.LENGTH, wireEnd);
    this.layers |= Layer.IPV6;
    const nextHeader = buf[off + Ipv6.NEXT_HEADER];
    setAddresses(out, buf, 6, off + Ipv6.SRC, off + Ipv6.DST, nextHeader);
    return this.ipv6Payload(nextHeader, buf, off, off + Ipv6.LENGTH, Math.min(end, packetWireEnd), packetWireEnd, out);
  }

  /** Walks the extension headers after the IPv6 header at `ipOff`, to the upper-layer protocol. */
  private ipv6Payload(
    nextHeader: number,
    buf: Buffer,
    ipOff: number,
    off: number,
    end: number,
    wireEnd: number,
    out: DecodedPacket,
  ): DecodeResult {
    for (;;) {
      out.proto = nextHeader;
      let headerLength: number;
      switch (nextHeader) {
        case IpProto.HOP_BY_HOP:
        case IpProto.ROUTING:
        case IpProto.DESTINATION_OPTIONS:
          if (end - off < 2) return 'truncated-ipv6-ext';
          headerLength = (buf[off + 1] + 1) * 8;
          break;
        case IpProto.AH:
          if (end - off < 2) return 'truncated-ipv6-ext';
          headerLength = (buf[off + 1] + 2) * 4;
          break;
        case IpProto.FRAGMENT:
          return this.ipv6Fragment(buf, ipOff, off, end, wireEnd, out);
        case IpProto.ESP:
        case IpProto.NO_NEXT_HEADER:
          return 'ignored';
        default:
          return this.transport(nextHeader, buf, off, end, wireEnd, out);
      }
      if (end - off < headerLength) return 'truncated-ipv6-ext';
      nextHeader = buf[off];
      off += headerLength;
    }
  }

  /**
   * IPv6 fragments go through the same reassembler as IPv4's (key: source, destination,
   * identification); the whole packet is the fixed IPv6 header followed by the reassembled payload.
   */
  private ipv6Fragment(buf: Buffer, ipOff: number, off: number, end: number, wireEnd: number, out: DecodedPacket): DecodeResult {
    if (end - off < Ipv6Fragment.LENGTH) return 'truncated-ipv6-ext';
    const nextHeader = buf[off + Ipv6Fragment.NEXT_HEADER];
    const offsetFlags = buf.readUInt16BE(off + Ipv6Fragment.OFFSET_FLAGS);
    const fragmentOffset = offsetFlags & IPV6_FRAGMENT_OFFSET_MASK;
    const moreFragments = (offsetFlags & IPV6_MORE_FRAGMENTS) !== 0;
    const payloadOff = off + Ipv6Fragment.LENGTH;
    // An atomic fragment (RFC 6946) is a whole packet.
    if (fragmentOffset === 0 && !moreFragments) return this.ipv6Payload(nextHeader, buf, ipOff, payloadOff, end, wireEnd, out);

    if (end < wireEnd) return 'truncated-ip';
    const key = `6${buf.toString('latin1', ipOff + Ipv6.SRC, ipOff + Ipv6.DST + 16)}${buf.readUInt32BE(off + Ipv6Fragment.ID)}`;
    const proto = fragmentOffset === 0 ? nextHeader : -1;
    const outcome = this.fragments.add(this.frameTs, key, {
      buf,
      off: payloadOff,
      end,
      headerOff: ipOff,
      headerLen: Ipv6.LENGTH,
      fragmentOffset,
      moreFragments,
      proto,
    });
    if (typeof outcome === 'string') return outcome;
    this.layers |= Layer.FRAGMENTS;
    setAddresses(out, outcome.buf, 6, Ipv6.SRC, Ipv6.DST, outcome.proto);
    return this.ipv6Payload(outcome.proto, outcome.buf, 0, outcome.payloadOff, outcome.buf.length, outcome.buf.length, out);
  }

  private transport(proto: number, buf: Buffer, off: number, end: number, wireEnd: number, out: DecodedPacket): DecodeResult {
    switch (proto) {
      case IpProto.TCP: {
        const result = decodeTcp(buf, off, end, wireEnd, out.tcp);
        if (result === 'ok') this.layers |= Layer.TCP;
        return result;
      }
      case IpProto.UDP:
        return this.udp(buf, off, end, wireEnd, out);
      case IpProto.IPV4:
      case IpProto.IPV6:
        if (!this.enterTunnel('ipip', null, out)) return 'tunnel-too-deep';
        return this.ip(proto === IpProto.IPV4 ? 4 : 6, buf, off, end, wireEnd, out);
      default:
        return 'ignored'; // ICMP, ICMPv6, IGMP, GRE, SCTP …
    }
  }

  private udp(buf: Buffer, off: number, end: number, wireEnd: number, out: DecodedPacket): DecodeResult {
    if (end - off < Udp.HEADER_LENGTH) return 'truncated-udp';
    // A UDP length that is 0 (GSO) or disagrees with IP is not trusted: IP's length stands.
    const udpLength = buf.readUInt16BE(off + Udp.LENGTH);
    const datagramWireEnd = udpLength >= Udp.HEADER_LENGTH && off + udpLength <= wireEnd ? off + udpLength : wireEnd;
    const datagramEnd = Math.min(end, datagramWireEnd);
    const udp = out.udp;
    udp.srcPort = buf.readUInt16BE(off + Udp.SRC_PORT);
    udp.dstPort = buf.readUInt16BE(off + Udp.DST_PORT);
    udp.payloadOff = off + Udp.HEADER_LENGTH;
    udp.payloadLen = datagramEnd - udp.payloadOff;
    this.layers |= Layer.UDP;
    switch (this.tunnelPorts[udp.dstPort]) {
      case TunnelPort.VXLAN:
        return this.vxlan(buf, udp.payloadOff, datagramEnd, datagramWireEnd, out);
      case TunnelPort.GENEVE:
        return this.geneve(buf, udp.payloadOff, datagramEnd, datagramWireEnd, out);
      default:
        return 'ok';
    }
  }

  /** VXLAN: inner Ethernet. What does not carry the I flag is not VXLAN and stays plain UDP. */
  private vxlan(buf: Buffer, off: number, end: number, wireEnd: number, out: DecodedPacket): DecodeResult {
    if (wireEnd - off < Vxlan.LENGTH + Ethernet.LENGTH) return 'ok';
    if (end - off < Vxlan.LENGTH) return 'truncated-tunnel';
    if ((buf[off + Vxlan.FLAGS] & VXLAN_FLAG_VNI) === 0) return 'ok';
    if (!this.enterTunnel('vxlan', buf.readUIntBE(off + Vxlan.VNI, 3), out)) return 'tunnel-too-deep';
    return this.ethernet(buf, off + Vxlan.LENGTH, end, wireEnd, out);
  }

  /** Geneve: inner Ethernet or IP after variable-length options. Another version or protocol stays plain UDP. */
  private geneve(buf: Buffer, off: number, end: number, wireEnd: number, out: DecodedPacket): DecodeResult {
    if (wireEnd - off < Geneve.LENGTH) return 'ok';
    if (end - off < Geneve.LENGTH) return 'truncated-tunnel';
    const versionOptions = buf[off + Geneve.VERSION_OPTIONS];
    if (versionOptions >> 6 !== 0) return 'ok';
    const headerLength = Geneve.LENGTH + (versionOptions & 0x3f) * 4;
    if (wireEnd - off < headerLength) return 'ok';
    if (end - off < headerLength) return 'truncated-tunnel';
    const protocol = buf.readUInt16BE(off + Geneve.PROTOCOL);
    const innerOff = off + headerLength;
    if (protocol !== EtherType.TRANSPARENT_ETHERNET && protocol !== EtherType.IPV4 && protocol !== EtherType.IPV6) return 'ok';
    if (!this.enterTunnel('geneve', buf.readUIntBE(off + Geneve.VNI, 3), out)) return 'tunnel-too-deep';
    if (protocol === EtherType.TRANSPARENT_ETHERNET) return this.ethernet(buf, innerOff, end, wireEnd, out);
    return this.ethertype(protocol, buf, innerOff, end, wireEnd, out);
  }

  /**
   * Counts one more level of encapsulation; false beyond the limit. The outermost tunnel is the
   * one recorded: `out` still points at its outer IP header when this is called.
   */
  private enterTunnel(kind: TunnelKind, vni: number | null, out: DecodedPacket): boolean {
    if (this.tunnelDepth >= this.maxTunnelDepth) return false;
    this.tunnelDepth++;
    this.layers |= Layer.TUNNEL;
    out.tunnel ??= {
      kind,
      outerSrc: formatAddress(out.buf, out.srcOff, out.addrLen),
      outerDst: formatAddress(out.buf, out.dstOff, out.addrLen),
      vni,
    };
    return true;
  }
}

/**
 * Where a packet whose length field says `length` from `start` ends; 0 (TSO/GSO, jumbogram) means
 * "as far as the frame goes". A length beyond the frame's end on the wire claims bytes that never
 * existed: the packet ends with the frame (the bytes the capture cut off are still counted, through
 * `wireEnd`).
 */
function lengthOrFrame(length: number, start: number, wireEnd: number): number {
  return length === 0 ? wireEnd : Math.min(start + length, wireEnd);
}

function setAddresses(out: DecodedPacket, buf: Buffer, version: 4 | 6, srcOff: number, dstOff: number, proto: number): void {
  out.buf = buf;
  out.ipVersion = version;
  out.addrLen = version === 4 ? 4 : 16;
  out.srcOff = srcOff;
  out.dstOff = dstOff;
  out.proto = proto;
}

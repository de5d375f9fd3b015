/**
 * What decode/ hands to flow/: a view over one decoded packet, down to TCP or UDP.
 *
 * The decoder fills one reused DecodedPacket per source (no per-packet allocation on the common
 * path). Offsets point into `buf`, which is the frame's buffer, or a fresh buffer holding an IPv4
 * datagram reassembled from fragments. Consumers copy what they keep.
 */
export interface TcpView {
  srcPort: number;
  dstPort: number;
  /** Unsigned 32-bit sequence and acknowledgement numbers. */
  seq: number;
  ack: number;
  /** The flags byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20, ECE 0x40, CWR 0x80). */
  flags: number;
  window: number;
  /** Payload bytes captured: buf[payloadOff, payloadOff + payloadLen). */
  payloadOff: number;
  payloadLen: number;
  /** Payload bytes the IP header says the segment carries (more than payloadLen when the snaplen cut it). */
  payloadWireLen: number;
  /** Options (-1 when absent). */
  mss: number;
  windowScale: number;
  sackPermitted: boolean;
}

export const TcpFlags = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

export interface UdpView {
  srcPort: number;
  dstPort: number;
  payloadOff: number;
  payloadLen: number;
}

export type TunnelKind = 'vxlan' | 'geneve' | 'ipip';

/** The outer layer of an encapsulated packet: the inner flow is analysed, these are kept. */
export interface TunnelInfo {
  kind: TunnelKind;
  outerSrc: string;
  outerDst: string;
  /** VXLAN/Geneve network identifier; null for IP-in-IP. */
  vni: number | null;
}

export interface DecodedPacket {
  buf: Buffer;
  ipVersion: 4 | 6;
  /** Addresses in buf: addrLen (4 or 16) bytes at srcOff and dstOff. */
  srcOff: number;
  dstOff: number;
  addrLen: 4 | 16;
  /** IP protocol number of the transport header (6 TCP, 17 UDP, other values leave tcp/udp unset). */
  proto: number;
  /** Outermost 802.1Q/802.1ad VLAN id, or -1. Part of the flow key, as tcpflow's `--VLAN`. */
  vlan: number;
  tunnel: TunnelInfo | null;
  /** Valid when proto === 6. */
  tcp: TcpView;
  /** Valid when proto === 17 (and not consumed as a tunnel). */
  udp: UdpView;
}

export function newDecodedPacket(): DecodedPacket {
  return {
    buf: Buffer.alloc(0),
    ipVersion: 4,
    srcOff: 0,
    dstOff: 0,
    addrLen: 4,
    proto: 0,
    vlan: -1,
    tunnel: null,
    tcp: {
      srcPort: 0, dstPort: 0, seq: 0, ack: 0, flags: 0, window: 0,
      payloadOff: 0, payloadLen: 0, payloadWireLen: 0, mss: -1, windowScale: -1, sackPermitted: false,
    },
    udp: { srcPort: 0, dstPort: 0, payloadOff: 0, payloadLen: 0 },
  };
}

/**
 * Why a frame did not yield a TCP/UDP packet. Each is counted by name (`capture.decodeErrors` is
 * their sum; the stats line lists them).
 */
export type DecodeError =
  | 'unsupported-linktype'
  | 'truncated-link'
  | 'unsupported-ethertype'
  | 'truncated-ip'
  | 'bad-ip-version'
  | 'bad-ip-header'
  | 'bad-ip-length'
  | 'fragment-overflow'
  | 'truncated-ipv6-ext'
  | 'truncated-tcp'
  | 'bad-tcp-header'
  | 'truncated-udp'
  | 'truncated-tunnel'
  | 'tunnel-too-deep';

/**
 * Outcome of decoding one frame: 'ok' means `DecodedPacket` holds a TCP or UDP packet; 'held'
 * means an IPv4 fragment was kept until its datagram is whole; 'ignored' means a well-formed frame
 * of no interest (ARP, ICMP, LLDP, ...), which is not an error.
 */
export type DecodeResult = 'ok' | 'held' | 'ignored' | DecodeError;

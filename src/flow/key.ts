/**
 * The flow table's key: one string per packet, the same for both directions of a connection.
 *
 * Built by a single `String.fromCharCode` over 16-bit values (VLAN, address words, ports), with
 * the lower endpoint first. Measured on Node 20 at ~60 ns per packet including the Map lookup,
 * against ~150 ns for `latin1Slice` of the address bytes plus a port string.
 */
import type { DecodedPacket, TunnelInfo } from '../model/packet.js';

export class FlowKeyBuilder {
  key = '';
  /** Whether the packet's sender is the endpoint written first in `key`. */
  senderIsLow = false;

  build(pkt: DecodedPacket): void {
    const { buf, srcOff, dstOff, tcp } = pkt;
    const vlanCode = pkt.vlan + 1;
    let key: string;
    if (pkt.addrLen === 4) {
      const src = buf.readUInt32BE(srcOff);
      const dst = buf.readUInt32BE(dstOff);
      this.senderIsLow = src < dst || (src === dst && tcp.srcPort <= tcp.dstPort);
      key = this.senderIsLow
        ? String.fromCharCode(vlanCode, src >>> 16, src & 0xffff, tcp.srcPort, dst >>> 16, dst & 0xffff, tcp.dstPort)
        : String.fromCharCode(vlanCode, dst >>> 16, dst & 0xffff, tcp.dstPort, src >>> 16, src & 0xffff, tcp.srcPort);
    } else {
      const order = buf.compare(buf, dstOff, dstOff + 16, srcOff, srcOff + 16);
      this.senderIsLow = order < 0 || (order === 0 && tcp.srcPort <= tcp.dstPort);
      key = this.senderIsLow
        ? ipv6Key(buf, vlanCode, srcOff, tcp.srcPort, dstOff, tcp.dstPort)
        : ipv6Key(buf, vlanCode, dstOff, tcp.dstPort, srcOff, tcp.srcPort);
    }
    this.key = pkt.tunnel === null ? key : tunnelPrefix(pkt.tunnel) + key;
  }
}

function ipv6Key(buf: Buffer, vlanCode: number, lowOff: number, lowPort: number, highOff: number, highPort: number): string {
  return String.fromCharCode(
    vlanCode,
    buf.readUInt16BE(lowOff), buf.readUInt16BE(lowOff + 2), buf.readUInt16BE(lowOff + 4), buf.readUInt16BE(lowOff + 6),
    buf.readUInt16BE(lowOff + 8), buf.readUInt16BE(lowOff + 10), buf.readUInt16BE(lowOff + 12), buf.readUInt16BE(lowOff + 14),
    lowPort,
    buf.readUInt16BE(highOff), buf.readUInt16BE(highOff + 2), buf.readUInt16BE(highOff + 4), buf.readUInt16BE(highOff + 6),
    buf.readUInt16BE(highOff + 8), buf.readUInt16BE(highOff + 10), buf.readUInt16BE(highOff + 12), buf.readUInt16BE(highOff + 14),
    highPort,
  );
}

/** Encapsulated flows are told apart by their outer addresses (in either order) and network id. */
function tunnelPrefix(tunnel: TunnelInfo): string {
  const [low, high] = tunnel.outerSrc <= tunnel.outerDst ? [tunnel.outerSrc, tunnel.outerDst] : [tunnel.outerDst, tunnel.outerSrc];
  return `${tunnel.kind}|${low}|${high}|${tunnel.vni ?? ''}|`;
}

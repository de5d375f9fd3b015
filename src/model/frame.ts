/**
 * What capture/ hands to decode/: one captured frame.
 *
 * Readers reuse a single Frame object for a whole source (gopacket's zero-copy habit): the
 * bytes live in `buf[offset, offset + caplen)`, and a consumer that keeps anything past the
 * callback must copy it.
 */
export interface Frame {
  /** 1-based packet number across the whole source, as tshark's `frame.number`. */
  index: number;
  /** Seconds since the epoch. Microseconds are exact; nanoseconds are rounded by float64. */
  ts: number;
  /** LINKTYPE_* value of the interface the frame was captured on. */
  linktype: number;
  buf: Buffer;
  offset: number;
  /** Bytes captured (what buf holds for this frame). */
  caplen: number;
  /** Bytes on the wire; larger than caplen when the snaplen cut the frame. */
  origlen: number;
  /** Interface id within the source (pcapng IDB index across sections; 0 for pcap and live). */
  iface: number;
}

/** LINKTYPE_* values we decode (https://www.tcpdump.org/linktypes.html). */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/** Names as SPEC.md §5 prints them in `capture.linktypes`. */
export function linktypeName(linktype: number): string {
  for (const [name, value] of Object.entries(LinkType)) if (value === linktype) return name;
  return `LINKTYPE_${linktype}`;
}

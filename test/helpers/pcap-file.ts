/** The classic pcap framing (little-endian, microseconds), for tests that write captures of their own. */

/** The 24-byte global header of a classic pcap. */
export function pcapGlobalHeader(linktype: number, snaplen = 262_144): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(snaplen, 16);
  header.writeUInt32LE(linktype, 20);
  return header;
}

/** Writes a 16-byte record header at `offset` of `buf`. */
export function writePcapRecordHeader(buf: Buffer, offset: number, ts: number, caplen: number, origlen = caplen): void {
  const seconds = Math.floor(ts);
  buf.writeUInt32LE(seconds, offset);
  buf.writeUInt32LE(Math.min(999_999, Math.round((ts - seconds) * 1e6)), offset + 4);
  buf.writeUInt32LE(caplen, offset + 8);
  buf.writeUInt32LE(origlen, offset + 12);
}

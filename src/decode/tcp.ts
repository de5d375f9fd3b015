import type { DecodeResult, TcpView } from '../model/packet.js';
import { u16be, u32be } from '../model/bytes.js';

/** Field offsets of the TCP header (RFC 9293 §3.1). */
const Tcp = {
  SRC_PORT: 0,
  DST_PORT: 2,
  SEQ: 4,
  ACK: 8,
  DATA_OFFSET: 12,
  FLAGS: 13,
  WINDOW: 14,
  OPTIONS: 20,
} as const;

const MIN_HEADER_LENGTH = 20;

/**
 * A segment that the snaplen cut inside its header is still decoded when ports, sequence and
 * acknowledgement numbers, data offset and flags (the first 14 bytes) were captured: that is all
 * flow tracking needs, and tshark too counts such a frame as TCP (zeek/tcp/truncated-header.pcap:
 * every frame cut, one TCP stream). The window is then 0 when it was not captured, options are
 * read as far as they were captured, and the payload is empty (payloadLen 0, payloadWireLen what
 * the IP header says). Fewer than 14 bytes: 'truncated-tcp'.
 */
const MIN_USABLE_LENGTH = 14;

const Option = { END: 0, NOP: 1, MSS: 2, WINDOW_SCALE: 3, SACK_PERMITTED: 4 } as const;

/** RFC 7323 §2.3: a shift count above 14 is used as 14. */
const MAX_WINDOW_SCALE = 14;

/**
 * Decodes the TCP segment at `buf[off, end)` into `tcp`. `wireEnd` is where the segment ends on
 * the wire (from the IP header); it is beyond `end` when the snaplen cut the segment.
 */
export function decodeTcp(buf: Buffer, off: number, end: number, wireEnd: number, tcp: TcpView): DecodeResult {
  if (wireEnd - off < MIN_HEADER_LENGTH) return 'bad-tcp-header';
  if (end - off < MIN_USABLE_LENGTH) return 'truncated-tcp';
  const headerLength = (buf[off + Tcp.DATA_OFFSET] >> 4) * 4;
  if (headerLength < MIN_HEADER_LENGTH || headerLength > wireEnd - off) return 'bad-tcp-header';

  tcp.srcPort = u16be(buf, off + Tcp.SRC_PORT);
  tcp.dstPort = u16be(buf, off + Tcp.DST_PORT);
  tcp.seq = u32be(buf, off + Tcp.SEQ);
  tcp.ack = u32be(buf, off + Tcp.ACK);
  tcp.flags = buf[off + Tcp.FLAGS];
  tcp.window = end - off >= Tcp.WINDOW + 2 ? u16be(buf, off + Tcp.WINDOW) : 0;
  const payloadOff = off + headerLength;
  parseTcpOptions(buf, off + Tcp.OPTIONS, Math.min(payloadOff, end), tcp);
  tcp.payloadOff = payloadOff;
  tcp.payloadLen = end > payloadOff ? end - payloadOff : 0;
  tcp.payloadWireLen = wireEnd - payloadOff;
  return 'ok';
}

/**
 * Reads MSS, window scale and SACK-permitted from the options in `buf[off, end)`. A malformed
 * option (length below 2 or past the end) ends the parse; what was read before it is kept.
 */
export function parseTcpOptions(buf: Buffer, off: number, end: number, tcp: TcpView): void {
  tcp.mss = -1;
  tcp.windowScale = -1;
  tcp.sackPermitted = false;
  while (off < end) {
    const kind = buf[off];
    if (kind === Option.END) return;
    if (kind === Option.NOP) {
      off++;
      continue;
    }
    if (end - off < 2) return;
    const length = buf[off + 1];
    if (length < 2 || length > end - off) return;
    if (kind === Option.MSS && length === 4) tcp.mss = buf.readUInt16BE(off + 2);
    else if (kind === Option.WINDOW_SCALE && length === 3) tcp.windowScale = Math.min(buf[off + 2], MAX_WINDOW_SCALE);
    else if (kind === Option.SACK_PERMITTED && length === 2) tcp.sackPermitted = true;
    off += length;
  }
}

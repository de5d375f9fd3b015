/**
 * Addresses as text, the way tshark prints them: IPv4 dotted quad; IPv6 in RFC 5952 canonical
 * form (lower-case hex, no leading zeros, the longest run of two or more zero groups — the first
 * on a tie — written as `::`). Like tshark (Wireshark's ws_inet_ntop6), the last 32 bits are written
 * dotted when the address is IPv4-mapped (`::ffff:a.b.c.d`) or IPv4-compatible (`::a.b.c.d`, the
 * first 96 bits zero and the seventh group not), but `::2` stays `::2`.
 *
 * Only called where a string is really needed (tunnel outer addresses, flow records), never per packet.
 */
export function formatAddress(buf: Buffer, off: number, len: number): string {
  if (off < 0 || off + len > buf.length) throw new RangeError(`address at ${off}+${len} is outside the buffer`);
  if (len === 4) return formatIpv4(buf, off);
  if (len === 16) return formatIpv6(buf, off);
  throw new RangeError(`an IP address is 4 or 16 bytes, not ${len}`);
}

function formatIpv4(buf: Buffer, off: number): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

const GROUPS = 8;

function formatIpv6(buf: Buffer, off: number): string {
  // The longest run of zero groups; a single zero group stays "0" (RFC 5952 §4.2.2).
  let bestStart = -1;
  let bestLength = 1;
  for (let group = 0; group < GROUPS; ) {
    if (buf.readUInt16BE(off + group * 2) !== 0) {
      group++;
      continue;
    }
    const start = group;
    while (group < GROUPS && buf.readUInt16BE(off + group * 2) === 0) group++;
    if (group - start > bestLength) {
      bestStart = start;
      bestLength = group - start;
    }
  }

  if (bestStart === 0 && bestLength === 6) return `::${formatIpv4(buf, off + 12)}`;
  if (bestStart === 0 && bestLength === 5 && buf.readUInt16BE(off + 10) === 0xffff) return `::ffff:${formatIpv4(buf, off + 12)}`;

  let text = '';
  for (let group = 0; group < GROUPS; group++) {
    if (group === bestStart) {
      text += '::';
      group += bestLength - 1;
      continue;
    }
    if (text !== '' && !text.endsWith(':')) text += ':';
    text += buf.readUInt16BE(off + group * 2).toString(16);
  }
  return text;
}

import type { CaptureSink } from '../model/capture.js';
import { MAX_CAPLEN, MAX_RECORD, RecordStreamReader } from './record-stream.js';

/** Block types (https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcapng/); live/pcapng-writer.ts writes the same. */
export const BlockType = {
  SECTION_HEADER: 0x0a0d0d0a,
  INTERFACE_DESCRIPTION: 0x00000001,
  OBSOLETE_PACKET: 0x00000002,
  SIMPLE_PACKET: 0x00000003,
  INTERFACE_STATISTICS: 0x00000005,
  ENHANCED_PACKET: 0x00000006,
  DECRYPTION_SECRETS: 0x0000000a,
} as const;

export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BLOCK_HEADER_LENGTH = 12;
/** Type, length and trailing length: what every block carries besides its body. */
const BLOCK_FRAMING = 12;

/** Option codes, by the block they belong to. */
export const Option = {
  END: 0,
  SHB_USERAPPL: 4,
  IF_NAME: 2,
  IF_TSRESOL: 9,
  IF_TSOFFSET: 14,
  ISB_IFRECV: 4,
  ISB_IFDROP: 5,
} as const;

/** Whether `buf` starts with a pcapng Section Header Block. */
export function isPcapngMagic(buf: Buffer): boolean {
  return buf.length >= 4 && buf.readUInt32LE(0) === BlockType.SECTION_HEADER;
}

/**
 * pcapng: sections (each with its own byte order) of blocks. Interfaces are numbered across the
 * whole file, in the order of their Interface Description Blocks, so that Frame.iface stays
 * unique when a file holds several sections.
 */
export class PcapngReader extends RecordStreamReader {
  private sectionSeen = false;
  /** Global index of the current section's interface 0, and how many the section has. */
  private sectionBase = 0;
  private sectionInterfaces = 0;
  // Per interface, indexed by global interface id.
  private readonly interfaceLinktypes: number[] = [];
  private readonly interfaceSnaplens: number[] = [];
  private readonly ticksPerSecond: number[] = [];
  private readonly tsOffsets: number[] = [];

  constructor(sink: CaptureSink, name: string) {
    super(sink, name, 'pcapng');
  }

  protected headerLength(): number {
    return BLOCK_HEADER_LENGTH;
  }

  protected describePartialRecord(): string {
    return 'a block';
  }

  protected recordLength(buf: Buffer, offset: number): number {
    const type = buf.readUInt32LE(offset); // the SHB type reads the same in both byte orders
    let length: number;
    if (type === BlockType.SECTION_HEADER) {
      const littleEndian = sectionByteOrder(buf, offset);
      if (littleEndian === null) {
        this.fail(`section header with a bad byte-order magic 0x${buf.toString('hex', offset + 8, offset + 12)}`);
        return -1;
      }
      length = littleEndian ? buf.readUInt32LE(offset + 4) : buf.readUInt32BE(offset + 4);
    } else if (!this.sectionSeen) {
      this.fail(`not a pcapng file: first block has type 0x${hex32(type)}, not a Section Header Block`);
      return -1;
    } else {
      length = this.u32(buf, offset + 4);
    }
    if (length < BLOCK_FRAMING || length % 4 !== 0 || length > MAX_RECORD) {
      const why = length > MAX_RECORD ? `bigger than the maximum of ${MAX_RECORD}` : 'not a multiple of 4 of at least 12';
      this.fail(`block of type 0x${hex32(this.blockType(buf, offset))} has length ${length}, ${why}`);
      return -1;
    }
    return length;
  }

  protected consume(buf: Buffer, offset: number, length: number): void {
    if (this.blockType(buf, offset) === BlockType.SECTION_HEADER) {
      this.littleEndian = sectionByteOrder(buf, offset) === true;
    }
    const trailing = this.u32(buf, offset + length - 4);
    if (trailing !== length) {
      this.fail(`block length ${length} disagrees with its trailing length ${trailing}`);
      return;
    }
    switch (this.blockType(buf, offset)) {
      case BlockType.SECTION_HEADER:
        return this.readSectionHeader(buf, offset, length);
      case BlockType.INTERFACE_DESCRIPTION:
        return this.readInterfaceDescription(buf, offset, length);
      case BlockType.ENHANCED_PACKET:
        return this.readPacket(buf, offset, length, this.u32(buf, offset + 8));
      case BlockType.OBSOLETE_PACKET:
        return this.readPacket(buf, offset, length, this.u16(buf, offset + 8));
      case BlockType.SIMPLE_PACKET:
        return this.readSimplePacket(buf, offset, length);
      case BlockType.INTERFACE_STATISTICS:
        return this.readInterfaceStatistics(buf, offset, length);
      case BlockType.DECRYPTION_SECRETS:
        return this.readDecryptionSecrets(buf, offset, length);
      default:
        // Name resolution, comments, custom and unknown blocks carry nothing we use.
        return;
    }
  }

  private blockType(buf: Buffer, offset: number): number {
    return this.u32(buf, offset);
  }

  private readSectionHeader(buf: Buffer, offset: number, length: number): void {
    if (!this.requireLength(length, 28, 'section header')) return;
    const major = this.u16(buf, offset + 12);
    const minor = this.u16(buf, offset + 14);
    if (major !== 1) {
      this.fail(`unknown SHB version ${major}.${minor}`);
      return;
    }
    this.sectionSeen = true;
    this.sectionBase = this.interfaceLinktypes.length;
    this.sectionInterfaces = 0;
  }

  private readInterfaceDescription(buf: Buffer, offset: number, length: number): void {
    if (!this.requireLength(length, 20, 'interface description')) return;
    const linktype = this.u16(buf, offset + 8);
    let ticksPerSecond = 1e6;
    let tsOffset = 0;
    const optionsEnd = offset + length - 4;
    const resolution = this.findOption(buf, offset + 16, optionsEnd, Option.IF_TSRESOL, 1);
    if (resolution >= 0) {
      const exponent = buf[resolution]!;
      // The high bit says whether the exponent is of 2 or of 10.
      ticksPerSecond = exponent & 0x80 ? 2 ** (exponent & 0x7f) : 10 ** exponent;
    }
    const offsetOption = this.findOption(buf, offset + 16, optionsEnd, Option.IF_TSOFFSET, 8);
    if (offsetOption >= 0) tsOffset = this.i64(buf, offsetOption);
    this.interfaceLinktypes.push(linktype);
    this.interfaceSnaplens.push(this.u32(buf, offset + 12));
    this.ticksPerSecond.push(ticksPerSecond);
    this.tsOffsets.push(tsOffset);
    this.sectionInterfaces++;
    this.noteLinktype(linktype);
  }

  /** Enhanced and obsolete Packet Blocks: the same layout but for the width of the interface id. */
  private readPacket(buf: Buffer, offset: number, length: number, sectionIface: number): void {
    if (!this.requireLength(length, 32, 'packet')) return;
    const iface = this.globalInterface(sectionIface);
    if (iface < 0) return;
    const caplen = this.u32(buf, offset + 20);
    if (caplen > MAX_CAPLEN || 28 + caplen > length - 4) {
      this.fail(`packet of ${caplen} bytes does not fit its ${length}-byte block`);
      return;
    }
    this.frame.ts = this.timestamp(iface, this.u32(buf, offset + 12), this.u32(buf, offset + 16));
    this.setFrame(buf, offset + 28, caplen, this.u32(buf, offset + 24), iface);
  }

  private readSimplePacket(buf: Buffer, offset: number, length: number): void {
    if (!this.requireLength(length, 16, 'simple packet')) return;
    const iface = this.globalInterface(0);
    if (iface < 0) return;
    const origlen = this.u32(buf, offset + 8);
    const snaplen = this.interfaceSnaplens[iface]!;
    let caplen = Math.min(origlen, length - 16);
    if (snaplen > 0) caplen = Math.min(caplen, snaplen);
    // A Simple Packet Block has no timestamp: the frame keeps the previous frame's, so that
    // time never runs backwards downstream.
    this.setFrame(buf, offset + 12, caplen, origlen, iface);
  }

  private setFrame(buf: Buffer, dataOffset: number, caplen: number, origlen: number, iface: number): void {
    const frame = this.frame;
    frame.buf = buf;
    frame.offset = dataOffset;
    frame.caplen = caplen;
    frame.origlen = origlen;
    frame.iface = iface;
    frame.linktype = this.interfaceLinktypes[iface]!;
    this.emitFrame();
  }

  private readInterfaceStatistics(buf: Buffer, offset: number, length: number): void {
    if (!this.requireLength(length, 24, 'interface statistics')) return;
    const sectionIface = this.u32(buf, offset + 8);
    // Statistics for an interface the section has not described are meaningless: skip them.
    if (sectionIface >= this.sectionInterfaces) return;
    const iface = this.sectionBase + sectionIface;
    const optionsEnd = offset + length - 4;
    const received = this.findOption(buf, offset + 20, optionsEnd, Option.ISB_IFRECV, 8);
    const dropped = this.findOption(buf, offset + 20, optionsEnd, Option.ISB_IFDROP, 8);
    this.sink.interfaceStats({
      iface,
      ts: this.timestamp(iface, this.u32(buf, offset + 12), this.u32(buf, offset + 16)),
      received: received >= 0 ? this.u64(buf, received) : null,
      dropped: dropped >= 0 ? this.u64(buf, dropped) : null,
    });
  }

  private readDecryptionSecrets(buf: Buffer, offset: number, length: number): void {
    if (!this.requireLength(length, 20, 'decryption secrets')) return;
    const secretsLength = this.u32(buf, offset + 12);
    if (secretsLength > length - 20) {
      this.fail(`decryption secrets of ${secretsLength} bytes do not fit their ${length}-byte block`);
      return;
    }
    const start = offset + 16;
    this.sink.secrets(this.u32(buf, offset + 8), Buffer.from(buf.subarray(start, start + secretsLength)));
  }

  private requireLength(length: number, minimum: number, what: string): boolean {
    if (length >= minimum) return true;
    this.fail(`${what} block of ${length} bytes is shorter than its ${minimum}-byte minimum`);
    return false;
  }

  /** The file-wide id of a section's interface, or -1 after fail() when there is none. */
  private globalInterface(sectionIface: number): number {
    if (sectionIface < this.sectionInterfaces) return this.sectionBase + sectionIface;
    this.fail(`packet on interface ${sectionIface}, which the section has not described`);
    return -1;
  }

  private timestamp(iface: number, high: number, low: number): number {
    const ticksPerSecond = this.ticksPerSecond[iface]!;
    const ticks = high * 4294967296 + low;
    // One rounding when the tick count is exact (microseconds); nanosecond counts exceed 2^53.
    const seconds = Number.isSafeInteger(ticks)
      ? ticks / ticksPerSecond
      : (high * 4294967296) / ticksPerSecond + low / ticksPerSecond;
    return this.tsOffsets[iface]! + seconds;
  }

  /**
   * The offset of the value of option `code` within `buf[start, end)`, or -1 when it is absent,
   * shorter than `minLength`, or the options are malformed (options are advisory: no damage).
   */
  private findOption(buf: Buffer, start: number, end: number, code: number, minLength: number): number {
    let pos = start;
    while (pos + 4 <= end) {
      const optionCode = this.u16(buf, pos);
      const optionLength = this.u16(buf, pos + 2);
      if (optionCode === Option.END || pos + 4 + optionLength > end) return -1;
      if (optionCode === code) return optionLength >= minLength ? pos + 4 : -1;
      pos += 4 + ((optionLength + 3) & ~3);
    }
    return -1;
  }

  private u64(buf: Buffer, offset: number): number {
    const first = this.u32(buf, offset);
    const second = this.u32(buf, offset + 4);
    return this.littleEndian ? second * 4294967296 + first : first * 4294967296 + second;
  }

  private i64(buf: Buffer, offset: number): number {
    const high = this.littleEndian ? buf.readInt32LE(offset + 4) : buf.readInt32BE(offset);
    const low = this.littleEndian ? buf.readUInt32LE(offset) : buf.readUInt32BE(offset + 4);
    return high * 4294967296 + low;
  }
}

/** true for a little-endian section, false for big-endian, null when the magic is wrong. */
function sectionByteOrder(buf: Buffer, offset: number): boolean | null {
  const magic = buf.readUInt32LE(offset + 8);
  if (magic === BYTE_ORDER_MAGIC) return true;
  if (magic === 0x4d3c2b1a) return false;
  return null;
}

function hex32(value: number): string {
  return value.toString(16).padStart(8, '0');
}

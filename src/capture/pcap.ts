import type { CaptureSink } from '../model/capture.js';
import { MAX_CAPLEN, RecordStreamReader } from './record-stream.js';

const FILE_HEADER_LENGTH = 24;
const RECORD_HEADER_LENGTH = 16;

/** The magic as read little-endian, and what it says about the file. */
const MAGICS: ReadonlyMap<number, { littleEndian: boolean; fractionsPerSecond: number }> = new Map([
  [0xa1b2c3d4, { littleEndian: true, fractionsPerSecond: 1e6 }],
  [0xd4c3b2a1, { littleEndian: false, fractionsPerSecond: 1e6 }],
  [0xa1b23c4d, { littleEndian: true, fractionsPerSecond: 1e9 }],
  [0x4d3cb2a1, { littleEndian: false, fractionsPerSecond: 1e9 }],
]);

/** Whether `buf` starts with one of the classic pcap magics (either byte order, µs or ns). */
export function isPcapMagic(buf: Buffer): boolean {
  return buf.length >= 4 && MAGICS.has(buf.readUInt32LE(0));
}

/** How the record header's two lengths are to be read, from the file's version (see below). */
type LengthOrder = 'normal' | 'swapped' | 'swapped-when-inverted';

/**
 * Classic libpcap files (https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcap/): a 24-byte
 * file header, then 16-byte record headers each followed by caplen bytes of packet.
 */
export class PcapReader extends RecordStreamReader {
  private headerSeen = false;
  private fractionsPerSecond = 1e6;
  private lengthOrder: LengthOrder = 'normal';

  constructor(sink: CaptureSink, name: string) {
    super(sink, name, 'pcap');
  }

  protected headerLength(): number {
    return this.headerSeen ? RECORD_HEADER_LENGTH : FILE_HEADER_LENGTH;
  }

  protected describePartialRecord(): string {
    return this.headerSeen ? 'a packet record' : 'the file header';
  }

  protected recordLength(buf: Buffer, offset: number): number {
    if (!this.headerSeen) return FILE_HEADER_LENGTH;
    const caplen = this.capturedLength(buf, offset);
    if (caplen > MAX_CAPLEN) {
      this.fail(`packet record of ${caplen} bytes, bigger than the maximum of ${MAX_CAPLEN}`);
      return -1;
    }
    return RECORD_HEADER_LENGTH + caplen;
  }

  protected consume(buf: Buffer, offset: number, length: number): void {
    if (!this.headerSeen) {
      this.readFileHeader(buf, offset);
      return;
    }
    const frame = this.frame;
    const seconds = this.u32(buf, offset);
    const fraction = this.u32(buf, offset + 4);
    frame.ts = seconds + fraction / this.fractionsPerSecond;
    frame.caplen = length - RECORD_HEADER_LENGTH;
    frame.origlen = this.originalLength(buf, offset);
    frame.buf = buf;
    frame.offset = offset + RECORD_HEADER_LENGTH;
    this.emitFrame();
  }

  private readFileHeader(buf: Buffer, offset: number): void {
    const magic = MAGICS.get(buf.readUInt32LE(offset));
    if (!magic) {
      this.fail(`not a pcap file header (magic 0x${buf.toString('hex', offset, offset + 4)})`);
      return;
    }
    this.headerSeen = true;
    this.littleEndian = magic.littleEndian;
    this.fractionsPerSecond = magic.fractionsPerSecond;
    const major = this.u16(buf, offset + 4);
    const minor = this.u16(buf, offset + 6);
    // Files written before libpcap 0.4 (version 2.0–2.2) store origlen before caplen; 2.3 was
    // written both ways. libpcap and Wireshark swap them back, and so do we (the ndpi fuzz file).
    if (major === 2 && minor < 3) this.lengthOrder = 'swapped';
    else if (major === 2 && minor === 3) this.lengthOrder = 'swapped-when-inverted';
    // The upper bits of the field carry the FCS length, not the link type.
    this.frame.linktype = this.u32(buf, offset + 20) & 0xffff;
    this.noteLinktype(this.frame.linktype);
  }

  private capturedLength(buf: Buffer, offset: number): number {
    const first = this.u32(buf, offset + 8);
    if (this.lengthOrder === 'normal') return first;
    const second = this.u32(buf, offset + 12);
    return this.isSwapped(first, second) ? second : first;
  }

  private originalLength(buf: Buffer, offset: number): number {
    const second = this.u32(buf, offset + 12);
    if (this.lengthOrder === 'normal') return second;
    const first = this.u32(buf, offset + 8);
    return this.isSwapped(first, second) ? first : second;
  }

  private isSwapped(caplen: number, origlen: number): boolean {
    return (
      this.lengthOrder === 'swapped' ||
      (this.lengthOrder === 'swapped-when-inverted' && caplen > origlen)
    );
  }
}

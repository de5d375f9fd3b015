import type { Frame } from '../model/frame.js';
import type { CaptureDamage, CaptureSink, CaptureSummary } from '../model/capture.js';
import { u16be, u16le, u32be, u32le } from '../model/bytes.js';

/** tcpdump's and Wireshark's largest packet (libpcap MAXIMUM_SNAPLEN): a longer record is damage. */
export const MAX_CAPLEN = 262_144;

/**
 * Largest record a reader accepts: a packet of MAX_CAPLEN plus room for the block header and its
 * options. It bounds the carry-over buffer, so memory never grows with a bad length field.
 */
export const MAX_RECORD = MAX_CAPLEN + 65_536;

/**
 * The skeleton shared by the pcap and pcapng readers: a capture is a sequence of records whose
 * length is known once a fixed-size header has been read. Records that lie within one chunk are
 * handled in place; only a record that straddles two chunks is copied, into a carry-over buffer
 * whose size is bounded by MAX_RECORD.
 *
 * push() and end() never throw on bad input: the first problem stops the reader and becomes
 * `damage`, with every frame before it already delivered.
 */
export abstract class RecordStreamReader {
  protected readonly frame: Frame = {
    index: 0,
    ts: 0,
    linktype: 0,
    buf: Buffer.alloc(0),
    offset: 0,
    caplen: 0,
    origlen: 0,
    iface: 0,
  };
  protected readonly linktypes: number[] = [];

  private readonly carry = Buffer.allocUnsafe(MAX_RECORD);
  private carryLength = 0;
  /** Length of the record being assembled in `carry`, or -1 while its header is incomplete. */
  private carryRecordLength = -1;
  /** Stream offset of the record being parsed: where damage is reported. */
  protected recordStart = 0;
  private damage: CaptureDamage | null = null;
  /** Byte order of the current file or section. */
  protected littleEndian = true;

  protected constructor(
    protected readonly sink: CaptureSink,
    /** The source's name, for the caller's messages. */
    readonly name: string,
    private readonly format: CaptureSummary['format'],
  ) {}

  /** Bytes needed at the start of the next record to know its length. */
  protected abstract headerLength(): number;

  /**
   * Total length of the record whose header starts at `buf[offset]` (headerLength() bytes are
   * available), or -1 after calling fail() when the length is impossible.
   */
  protected abstract recordLength(buf: Buffer, offset: number): number;

  /** Handles a complete record; may call fail(). */
  protected abstract consume(buf: Buffer, offset: number, length: number): void;

  /** What a partial record at the end of the stream is called in the damage message. */
  protected abstract describePartialRecord(): string;

  /** Stops the reader: everything from the current record on is damage. */
  protected fail(message: string): void {
    this.damage ??= { offset: this.recordStart, message };
  }

  protected noteLinktype(linktype: number): void {
    if (!this.linktypes.includes(linktype)) this.linktypes.push(linktype);
  }

  protected emitFrame(): void {
    this.frame.index++;
    this.sink.frame(this.frame);
  }

  protected u16(buf: Buffer, offset: number): number {
    return this.littleEndian ? u16le(buf, offset) : u16be(buf, offset);
  }

  protected u32(buf: Buffer, offset: number): number {
    return this.littleEndian ? u32le(buf, offset) : u32be(buf, offset);
  }

  /** Feeds the next chunk of the stream. Returns false once the reader has stopped. */
  push(chunk: Buffer): boolean {
    if (this.damage) return false;
    let pos = 0;
    if (this.carryLength > 0) {
      pos = this.fillCarry(chunk);
      if (pos < 0) return !this.damage;
    }
    let incompleteLength = -1;
    while (!this.damage) {
      const available = chunk.length - pos;
      if (available < this.headerLength()) break;
      const length = this.recordLength(chunk, pos);
      if (length < 0) break;
      if (available < length) {
        incompleteLength = length;
        break;
      }
      this.consume(chunk, pos, length);
      if (this.damage) break;
      pos += length;
      this.recordStart += length;
    }
    if (!this.damage && pos < chunk.length) {
      // At most a header or one record no longer than MAX_RECORD (recordLength checked it).
      this.carryLength = chunk.copy(this.carry, 0, pos);
      this.carryRecordLength = incompleteLength;
    }
    return !this.damage;
  }

  /**
   * Completes the straddling record from the start of `chunk`. Returns where the chunk's own
   * records start, or -1 when the chunk was used up (or the record turned out to be damage).
   */
  private fillCarry(chunk: Buffer): number {
    let pos = 0;
    if (this.carryRecordLength < 0) {
      const take = Math.min(this.headerLength() - this.carryLength, chunk.length);
      this.carryLength += chunk.copy(this.carry, this.carryLength, 0, take);
      pos = take;
      if (this.carryLength < this.headerLength()) return -1;
      this.carryRecordLength = this.recordLength(this.carry, 0);
      if (this.carryRecordLength < 0) return -1;
    }
    const take = Math.min(this.carryRecordLength - this.carryLength, chunk.length - pos);
    this.carryLength += chunk.copy(this.carry, this.carryLength, pos, pos + take);
    pos += take;
    if (this.carryLength < this.carryRecordLength) return -1;
    const length = this.carryRecordLength;
    this.carryLength = 0;
    this.carryRecordLength = -1;
    this.consume(this.carry, 0, length);
    if (this.damage) return -1;
    this.recordStart += length;
    return pos;
  }

  /**
   * Ends the stream. `cause` names why it ended early (a corrupt gzip stream, say): it becomes
   * the damage even when the stream stopped on a record boundary.
   */
  /**
   * The source ended (`cause`: why, if it failed). `stopped`: the reader stopped reading it (SIGINT,
   * SIGTERM), so a record cut short is where it stopped, not damage.
   */
  end(cause?: string, stopped = false): CaptureSummary {
    if (!this.damage && this.carryLength > 0 && !stopped) {
      const expected = this.carryRecordLength < 0 ? '' : ` (${this.carryLength} of ${this.carryRecordLength} bytes)`;
      this.fail(cause ?? `cut short in the middle of ${this.describePartialRecord()}${expected}`);
    } else if (!this.damage && cause !== undefined) {
      this.fail(cause);
    }
    return {
      format: this.format,
      linktypes: [...this.linktypes],
      frames: this.frame.index,
      // The readable part of the stream: all of it, or up to the damage.
      bytes: this.damage ? this.damage.offset : this.recordStart,
      damage: this.damage,
    };
  }
}

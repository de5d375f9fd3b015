/**
 * `kwire sniff --write FILE`: the raw packets of a live capture saved as pcapng, as `tcpdump -w`
 * saves them, so that `kwire read FILE` replays the session later. One Interface Description
 * Block per link type, an Enhanced Packet Block per frame (microsecond timestamps, the pcapng
 * default), and at the end an Interface Statistics Block with the packets received and dropped,
 * so that the replay reports the drops too. Writes go through one reused buffer of BUFFER_BYTES
 * with synchronous writes: no allocation per packet, and nothing queued without bound.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Frame } from '../../model/frame.js';
import { LiveCaptureError } from '../../model/errors.js';
import { MAX_CAPLEN } from '../record-stream.js';
import { BYTE_ORDER_MAGIC, BlockType, Option } from '../pcapng.js';

const BUFFER_BYTES = 1 << 20;

const pad4 = (n: number) => (n + 3) & ~3;

export class PcapngWriter {
  private readonly fd: number;
  private readonly buf = Buffer.allocUnsafe(BUFFER_BYTES);
  private used = 0;
  /** pcapng interface id by link type (a live capture has one interface, one link type). */
  private readonly interfaceIds = new Map<number, number>();

  /** Creates (or truncates) `file`; throws LiveCaptureError naming it when it cannot be written. */
  constructor(
    readonly file: string,
    private readonly interfaceName: string,
    application: string,
  ) {
    try {
      this.fd = openSync(file, 'w');
    } catch (error) {
      throw new LiveCaptureError('UNWRITABLE', `${file}: cannot write the capture (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    const appl = Buffer.from(application);
    const length = 24 + 4 + pad4(appl.length) + 4 + 4;
    this.reserve(length);
    let at = this.blockStart(BlockType.SECTION_HEADER, length);
    at = this.buf.writeUInt32LE(BYTE_ORDER_MAGIC, at);
    at = this.buf.writeUInt16LE(1, at);
    at = this.buf.writeUInt16LE(0, at);
    at = this.buf.writeBigInt64LE(-1n, at); // section length unknown
    at = this.option(at, Option.SHB_USERAPPL, appl);
    this.blockEnd(at, Option.END, length);
  }

  frame(frame: Frame): void {
    const id = this.interfaceIds.get(frame.linktype) ?? this.describeInterface(frame.linktype);
    const caplen = Math.min(frame.caplen, MAX_CAPLEN);
    const length = 32 + pad4(caplen);
    this.reserve(length);
    const buf = this.buf;
    let at = this.blockStart(BlockType.ENHANCED_PACKET, length);
    at = buf.writeUInt32LE(id, at);
    const micros = Math.round(frame.ts * 1e6);
    at = buf.writeUInt32LE(Math.floor(micros / 0x1_0000_0000), at);
    at = buf.writeUInt32LE(micros % 0x1_0000_0000, at);
    at = buf.writeUInt32LE(caplen, at);
    at = buf.writeUInt32LE(Math.max(frame.origlen, caplen), at);
    at += frame.buf.copy(buf, at, frame.offset, frame.offset + caplen);
    const end = this.used - length + 28 + pad4(caplen);
    buf.fill(0, at, end);
    buf.writeUInt32LE(length, end);
  }

  /** Writes the statistics block (when the counts are known) and closes the file. */
  close(stats: { ts: number; received: number | null; dropped: number | null } | null): void {
    try {
      if (stats && this.interfaceIds.size > 0) {
        const options = (stats.received === null ? 0 : 12) + (stats.dropped === null ? 0 : 12);
        const length = 20 + options + 4 + 4;
        this.reserve(length);
        let at = this.blockStart(BlockType.INTERFACE_STATISTICS, length);
        const micros = Math.round(stats.ts * 1e6);
        at = this.buf.writeUInt32LE(0, at);
        at = this.buf.writeUInt32LE(Math.floor(micros / 0x1_0000_0000), at);
        at = this.buf.writeUInt32LE(micros % 0x1_0000_0000, at);
        if (stats.received !== null) at = this.u64Option(at, Option.ISB_IFRECV, stats.received);
        if (stats.dropped !== null) at = this.u64Option(at, Option.ISB_IFDROP, stats.dropped);
        this.blockEnd(at, Option.END, length);
      }
      this.flush();
    } finally {
      closeSync(this.fd);
    }
  }

  private describeInterface(linktype: number): number {
    const id = this.interfaceIds.size;
    this.interfaceIds.set(linktype, id);
    const name = Buffer.from(this.interfaceName);
    const length = 16 + 4 + pad4(name.length) + 4 + 4;
    this.reserve(length);
    let at = this.blockStart(BlockType.INTERFACE_DESCRIPTION, length);
    at = this.buf.writeUInt16LE(linktype, at);
    at = this.buf.writeUInt16LE(0, at);
    at = this.buf.writeUInt32LE(MAX_CAPLEN, at); // snaplen
    at = this.option(at, Option.IF_NAME, name);
    this.blockEnd(at, Option.END, length);
    return id;
  }

  /** Makes room for a block of `length` bytes at the end of the buffer, and claims it. */
  private reserve(length: number): void {
    if (this.used + length > BUFFER_BYTES) this.flush();
    this.used += length;
  }

  /** Writes a block's type and length at the start of the room reserve() claimed; returns the body's offset. */
  private blockStart(type: number, length: number): number {
    const at = this.used - length;
    this.buf.writeUInt32LE(type, at);
    return this.buf.writeUInt32LE(length, at + 4);
  }

  /** Ends the options (`opt_endofopt`) and the block (its trailing length). */
  private blockEnd(at: number, endOfOptions: number, length: number): void {
    at = this.buf.writeUInt16LE(endOfOptions, at);
    at = this.buf.writeUInt16LE(0, at);
    this.buf.writeUInt32LE(length, at);
  }

  private option(at: number, code: number, value: Buffer): number {
    at = this.buf.writeUInt16LE(code, at);
    at = this.buf.writeUInt16LE(value.length, at);
    const end = at + pad4(value.length);
    value.copy(this.buf, at);
    this.buf.fill(0, at + value.length, end);
    return end;
  }

  private u64Option(at: number, code: number, value: number): number {
    at = this.buf.writeUInt16LE(code, at);
    at = this.buf.writeUInt16LE(8, at);
    return this.buf.writeBigUInt64LE(BigInt(value), at);
  }

  private flush(): void {
    let written = 0;
    try {
      while (written < this.used) written += writeSync(this.fd, this.buf, written, this.used - written);
    } catch (error) {
      throw new LiveCaptureError('UNWRITABLE', `${this.file}: cannot write the capture (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    this.used = 0;
  }
}

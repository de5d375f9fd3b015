/**
 * One direction of a TCP connection, reassembled: bytes leave in sequence order, each once.
 *
 * - In-order data is handed on at once, as a subarray of the packet buffer (no copy).
 * - Data ahead of a hole is copied (the packet buffer is a reused read chunk) and held in a
 *   sorted array of non-overlapping pieces until the hole fills.
 * - Overlaps: the first bytes seen for a sequence number win (tcpflow's and Zeek's policy). A
 *   segment is cut into the pieces nobody has delivered or held yet; only those are used, and the
 *   rest is counted as retransmitted. Keep-alives (one old byte at nextSeq - 1) fall out of this.
 * - Holes are skipped — reported as a gap, then the held data after them delivered — when the peer
 *   acknowledges bytes beyond the hole (sent but not captured: Zeek's content gap), when the table
 *   enforces a budget, and when the flow ends. A hole before a FIN is skipped when the peer
 *   acknowledges the FIN or when the flow ends, not on the FIN itself: a FIN may be reordered
 *   ahead of the last data segment.
 * - A segment cut by the snaplen carries its captured bytes followed by a missing tail; both keep
 *   their place in sequence space, and the tail is reported as a gap when the stream reaches it
 *   (data that arrives later for those sequence numbers is dropped, as first-seen data wins).
 * - Every chunk goes out with the number of the packet that made it deliverable: its own packet
 *   when in order; the packet that filled the hole before it when it was held (the frame tshark
 *   shows completing a reassembled PDU). Held data after a skipped hole keeps the number of the
 *   packet that carried it: an ACK, a budget or the flow's end carries none of its bytes.
 */
import type { Direction } from '../model/flow.js';
import { seqAdd, seqDiff, seqLessThan } from './seq.js';

/**
 * How far ahead of the next expected byte a segment or an acknowledgement may point and still be
 * believed (1 GiB, a quarter of sequence space); beyond, it is counted and ignored.
 */
export const MAX_AHEAD = 1 << 30;

/** Where a direction's results go (implemented by the flow table's connection). */
export interface ReassemblySink {
  /** `packet`: the number (Frame.index) of the packet that made `chunk` deliverable. */
  data(dir: Direction, chunk: Buffer, packet: number): void;
  gap(dir: Direction, bytes: number): void;
  /** The bytes held out of order changed by `delta`. */
  held(delta: number): void;
}

export interface ReassemblyStats {
  /** Captured payload bytes dropped because their sequence numbers were already delivered or held. */
  retransmittedBytes: number;
  /** Segments that arrived ahead of a hole. */
  outOfOrderSegments: number;
  /** Segments or acknowledgements more than MAX_AHEAD beyond the next expected byte. */
  outOfWindow: number;
}

/** A piece of sequence space held ahead of a hole: `data` covers its start, the rest of `span` was not captured. */
interface HeldPiece {
  seq: number;
  data: Buffer;
  span: number;
  /** Number of the packet that carried it. */
  packet: number;
}

const NO_DATA = Buffer.alloc(0);
/** advance()'s `filler` after a skipped hole: no packet filled it, so held pieces go out under their own packets. */
const NO_FILLER = 0;

export class HalfStream {
  /** Whether a packet from this side has told which sequence number comes next. */
  started = false;
  nextSeq = 0;
  /** Sorted by sequence number, never overlapping, all after nextSeq. */
  readonly held: HeldPiece[] = [];
  heldBytes = 0;
  finSeen = false;
  finSeq = 0;
  finConsumed = false;
  /** The highest acknowledgement from the peer that pointed beyond nextSeq, while it still does. */
  ackedAhead = false;
  acked = 0;

  /** Scratch for the pieces of one segment (segment-relative offsets); reused, never retained. */
  private static readonly pieceStarts: number[] = [];
  private static readonly pieceEnds: number[] = [];

  constructor(
    public dir: Direction,
    private readonly sink: ReassemblySink,
    private readonly stats: ReassemblyStats,
  ) {}

  /**
   * Whether finish() has nothing left to do (nothing held, no acknowledged hole still to report, no
   * FIN still ahead) and, once the FIN is consumed, no later segment or ACK can deliver or skip a byte.
   */
  get settled(): boolean {
    return this.held.length === 0 && !this.ackedAhead && (!this.finSeen || this.finConsumed);
  }

  start(seq: number): void {
    this.started = true;
    this.nextSeq = seq;
  }

  /**
   * A segment whose payload occupies [seq, seq + span) in sequence space, of which the first
   * `length` bytes were captured at buf[offset, offset + length), carried by packet number `packet`.
   */
  segment(seq: number, buf: Buffer, offset: number, length: number, span: number, packet: number): void {
    if (!this.started) this.start(seq);
    let start = seqDiff(seq, this.nextSeq);
    if (start > MAX_AHEAD) {
      this.stats.outOfWindow++;
      return;
    }
    if (start > 0) {
      this.stats.outOfOrderSegments++;
      // The peer acknowledged bytes before this segment that were never captured.
      if (this.ackedAhead) {
        this.skip(Math.min(seqDiff(this.acked, this.nextSeq), start));
        start = seqDiff(seq, this.nextSeq);
      }
    }
    let end = start + span;
    if (this.finSeen) end = Math.min(end, seqDiff(this.finSeq, this.nextSeq));
    let used = 0;
    if (end > 0) {
      used =
        this.held.length === 0
          ? this.emit(seq, Math.max(start, 0) - start, end - start, buf, offset, length, packet)
          : this.fitAroundHeld(seq, start, end, buf, offset, length, packet);
    }
    this.stats.retransmittedBytes += length - used;
  }

  /** A FIN at `seq` (after the segment's data). */
  fin(seq: number): void {
    if (!this.started) this.start(seq);
    if (this.finSeen) return;
    this.finSeen = true;
    this.finSeq = seq;
    const finAt = seqDiff(seq, this.nextSeq);
    if (finAt < 0) {
      // A FIN behind data already delivered: nothing more to wait for.
      this.finConsumed = true;
      return;
    }
    while (this.held.length > 0 && seqDiff(this.held[this.held.length - 1].seq, this.nextSeq) >= finAt) this.release(this.held.pop()!);
    this.consumeFin();
  }

  /** The peer acknowledged everything before `ackNo`. */
  ack(ackNo: number): void {
    // Nothing is sent after a FIN: an ACK beyond it is not evidence of lost bytes.
    if (!this.started || this.finConsumed) return;
    const ahead = seqDiff(ackNo, this.nextSeq);
    if (ahead <= 0) return;
    if (ahead > MAX_AHEAD) {
      this.stats.outOfWindow++;
      return;
    }
    if (!this.ackedAhead || seqLessThan(this.acked, ackNo)) {
      this.acked = ackNo;
      this.ackedAhead = true;
    }
    // Holes before held data or before the FIN, acknowledged: sent, never captured, and they will
    // not be retransmitted. Without anything after a hole, wait: the data may follow its ACK in the capture.
    for (let acked = ahead; acked > 0; acked = seqDiff(ackNo, this.nextSeq)) {
      let boundary = 0;
      if (this.held.length > 0) boundary = seqDiff(this.held[0].seq, this.nextSeq);
      else if (this.finSeen && !this.finConsumed) boundary = seqDiff(this.finSeq, this.nextSeq);
      if (boundary <= 0) return;
      this.skip(Math.min(acked, boundary));
    }
  }

  /** Skips the first hole and delivers the held data after it (a budget overflow). */
  skipFirstHole(): void {
    if (this.held.length > 0) this.skip(seqDiff(this.held[0].seq, this.nextSeq));
  }

  /** Skips every hole, delivering all held data. */
  flushHeld(): void {
    while (this.held.length > 0) this.skipFirstHole();
  }

  /** The flow ends: deliver what is held, and count what was sent but never captured up to the FIN or the peer's last ACK. */
  finish(): void {
    this.flushHeld();
    if (this.finSeen) {
      if (!this.finConsumed) this.skip(seqDiff(this.finSeq, this.nextSeq));
    } else if (this.ackedAhead) {
      this.skip(seqDiff(this.acked, this.nextSeq));
    }
  }

  /** Cuts [start, end) (relative to nextSeq) into the pieces not held yet, and places each. */
  private fitAroundHeld(seq: number, start: number, end: number, buf: Buffer, offset: number, length: number, packet: number): number {
    const pieceStarts = HalfStream.pieceStarts;
    const pieceEnds = HalfStream.pieceEnds;
    pieceStarts.length = 0;
    pieceEnds.length = 0;
    let cursor = Math.max(start, 0);
    for (let i = this.firstHeldEndingAfter(cursor); i < this.held.length && cursor < end; i++) {
      const heldStart = seqDiff(this.held[i].seq, this.nextSeq);
      if (heldStart >= end) break;
      if (cursor < heldStart) {
        pieceStarts.push(cursor - start);
        pieceEnds.push(heldStart - start);
      }
      cursor = Math.max(cursor, heldStart + this.held[i].span);
    }
    if (cursor < end) {
      pieceStarts.push(cursor - start);
      pieceEnds.push(end - start);
    }
    let used = 0;
    for (let i = 0; i < pieceStarts.length; i++) used += this.emit(seq, pieceStarts[i], pieceEnds[i], buf, offset, length, packet);
    return used;
  }

  /** Index of the first held piece that ends after `position` (relative to nextSeq). */
  private firstHeldEndingAfter(position: number): number {
    let low = 0;
    let high = this.held.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const piece = this.held[middle];
      if (seqDiff(piece.seq, this.nextSeq) + piece.span > position) high = middle;
      else low = middle + 1;
    }
    return low;
  }

  /**
   * Places the piece [from, to) of a segment (offsets within it) that overlaps nothing delivered or
   * held: delivered when it starts at nextSeq, else copied and held. Returns the captured bytes used.
   */
  private emit(seq: number, from: number, to: number, buf: Buffer, offset: number, length: number, packet: number): number {
    const dataLength = Math.max(Math.min(to, length) - from, 0);
    const pieceSeq = seqAdd(seq, from);
    if (pieceSeq === this.nextSeq) {
      if (dataLength > 0) this.sink.data(this.dir, buf.subarray(offset + from, offset + from + dataLength), packet);
      if (to - from > dataLength) this.sink.gap(this.dir, to - from - dataLength);
      this.advance(to - from, packet);
      return dataLength;
    }
    let data = NO_DATA;
    if (dataLength > 0) {
      data = Buffer.allocUnsafe(dataLength);
      buf.copy(data, 0, offset + from, offset + from + dataLength);
    }
    this.hold({ seq: pieceSeq, data, span: to - from, packet });
    return dataLength;
  }

  private hold(piece: HeldPiece): void {
    const position = seqDiff(piece.seq, this.nextSeq);
    let index = this.held.length;
    while (index > 0 && seqDiff(this.held[index - 1].seq, this.nextSeq) > position) index--;
    this.held.splice(index, 0, piece);
    this.heldBytes += piece.data.length;
    this.sink.held(piece.data.length);
  }

  private release(piece: HeldPiece): void {
    this.heldBytes -= piece.data.length;
    this.sink.held(-piece.data.length);
  }

  /** Reports `bytes` (when positive) as a gap and moves past them. */
  private skip(bytes: number): void {
    if (bytes > 0) this.sink.gap(this.dir, bytes);
    this.advance(Math.max(bytes, 0), NO_FILLER);
  }

  /**
   * nextSeq moves `bytes` on; held pieces that now start at nextSeq follow, then a FIN that does.
   * `filler` is the packet whose bytes just closed the hole before them (NO_FILLER: none did).
   */
  private advance(bytes: number, filler: number): void {
    this.nextSeq = seqAdd(this.nextSeq, bytes);
    while (this.held.length > 0) {
      // Pieces start exactly at nextSeq by construction; `behind` keeps this loop safe regardless.
      const behind = -seqDiff(this.held[0].seq, this.nextSeq);
      if (behind < 0) break;
      const piece = this.held.shift()!;
      this.release(piece);
      if (behind >= piece.span) continue;
      if (piece.data.length > behind) this.sink.data(this.dir, behind === 0 ? piece.data : piece.data.subarray(behind), filler === NO_FILLER ? piece.packet : filler);
      const missing = piece.span - Math.max(piece.data.length, behind);
      if (missing > 0) this.sink.gap(this.dir, missing);
      this.nextSeq = seqAdd(this.nextSeq, piece.span - behind);
    }
    this.consumeFin();
    if (this.ackedAhead && seqDiff(this.acked, this.nextSeq) <= 0) this.ackedAhead = false;
  }

  private consumeFin(): void {
    if (this.finSeen && !this.finConsumed && this.nextSeq === this.finSeq) {
      this.finConsumed = true;
      this.nextSeq = seqAdd(this.nextSeq, 1);
    }
  }
}

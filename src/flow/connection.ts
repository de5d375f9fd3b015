/**
 * One TCP connection: its record, its two reassembled directions, and the connection state
 * machine (SYN, SYN-ACK, simultaneous open, FIN, RST, mid-stream pickup).
 */
import type { Direction, EndReason, FlowRecord, StreamFactory, StreamHandler } from '../model/flow.js';
import { C2S } from '../model/flow.js';
import type { DecodedPacket } from '../model/packet.js';
import { TcpFlags } from '../model/packet.js';
import type { IdleLinks, IdleList } from './idle-list.js';
import type { ReassemblySink, ReassemblyStats } from './reassembly.js';
import { HalfStream } from './reassembly.js';
import { seqAdd } from './seq.js';
import { sniffSender } from './sniff.js';

/** What all connections of a table share. */
export interface TableContext {
  factory: StreamFactory;
  /** Whether a closed or reset connection may end its handler before it leaves the table (FlowTableOptions.endsAtClose). */
  endsAtClose: () => boolean;
  stats: ReassemblyStats & { gapBytes: number };
  /** Capture time of the packet (or sweep) being handled: the `ts` of data delivered now. */
  now: number;
  /** Number (Frame.index) of the packet being handled. */
  packetNumber: number;
  /** Out-of-order bytes held by every connection. */
  heldBytes: number;
  /** Connections holding out-of-order bytes, oldest holder first. */
  holding: Set<Connection>;
}

export class Connection implements ReassemblySink, IdleLinks<Connection> {
  handler: StreamHandler | null = null;
  /** False until a mid-stream pickup's client is known (first payload, or the flow's end). */
  oriented: boolean;
  /** Indexed by Direction. */
  halves: [HalfStream, HalfStream];
  heldBytes = 0;
  rstSeen = false;
  /** Per direction: whether that side sent anything, sent a SYN, and its first sequence number (tshark's base_seq). */
  private sent: [boolean, boolean] = [false, false];
  private synSent: [boolean, boolean] = [false, false];
  private baseSeqKnown: [boolean, boolean] = [false, false];
  private baseSeq: [number, number] = [0, 0];

  idleList: IdleList<Connection> | null = null;
  previousIdle: Connection | null = null;
  nextIdle: Connection | null = null;

  constructor(
    readonly key: string,
    /** Whether the client is the endpoint written first in the key (FlowKeyBuilder.senderIsLow). */
    public clientIsLow: boolean,
    readonly record: FlowRecord,
    private readonly context: TableContext,
  ) {
    this.oriented = record.orientation === 'syn';
    this.halves = [new HalfStream(0, this, context.stats), new HalfStream(1, this, context.stats)];
    if (this.oriented) this.handler = context.factory.open(record);
  }

  /** Handles a packet sent in `dir` (which a mid-stream pickup's first payload may flip). */
  packet(dir: Direction, pkt: DecodedPacket, ts: number): void {
    const tcp = pkt.tcp;
    const flags = tcp.flags;
    const record = this.record;
    if (ts > record.lastTs) record.lastTs = ts;
    const span = Math.max(tcp.payloadWireLen, tcp.payloadLen);
    // The first payload of a mid-stream pickup says who the client is, before any byte is delivered.
    if (!this.oriented && span > 0 && (flags & TcpFlags.RST) === 0) dir = this.orient(dir, tcp.payloadLen > 0 ? sniffSender(pkt.buf, tcp.payloadOff, tcp.payloadLen) : null);
    record.packets[dir]++;
    this.sent[dir] = true;
    if ((flags & TcpFlags.RST) !== 0) {
      // A RST's payload, if any, is a diagnostic, not stream data.
      this.rstSeen = true;
      this.updateState();
      return;
    }
    const half = this.halves[dir];
    let dataSeq = tcp.seq;
    if ((flags & TcpFlags.SYN) !== 0) {
      this.synSent[dir] = true;
      dataSeq = seqAdd(tcp.seq, 1);
      this.noteBaseSeq(dir, tcp.seq);
    } else {
      this.noteBaseSeq(dir, seqAdd(tcp.seq, -1));
    }
    if (!half.started) half.start(dataSeq);
    if (span > 0) half.segment(dataSeq, pkt.buf, tcp.payloadOff, tcp.payloadLen, span, this.context.packetNumber);
    if ((flags & TcpFlags.FIN) !== 0) half.fin(seqAdd(dataSeq, span));
    if ((flags & TcpFlags.ACK) !== 0) this.halves[dir ^ 1].ack(tcp.ack);
    this.updateState();
    // Closed by FIN both ways, it lingers in the table for late packets; its analysis can end sooner.
    if (this.handler !== null && this.record.state === 'closed') this.endIfSettled('fin');
  }

  /**
   * Once both sides are settled (each FIN consumed or none seen, nothing held, no acknowledged hole
   * left), no byte or gap can reach the handler again unless the peer sends more: the analysis
   * ends now, so that a lingering connection keeps its record and results, not its parsers' state.
   */
  private endIfSettled(reason: EndReason): void {
    if (this.halves[0].settled && this.halves[1].settled && this.context.endsAtClose()) this.endHandler(reason);
  }

  /**
   * Whether a SYN (without ACK) from `dir` opens a new connection on this 4-tuple rather than
   * retrying this one: tshark's rule for a new tcp.stream — its sequence number differs from what
   * that side started with, or this connection already saw a FIN or a RST.
   */
  isReplacedBy(dir: Direction, seq: number): boolean {
    return this.baseSeqKnown[dir] && (seq !== this.baseSeq[dir] || this.rstSeen || this.halves[0].finSeen || this.halves[1].finSeen);
  }

  /**
   * Whether the established timeout applies: an established connection, or one picked up
   * mid-stream of which only one side has been seen yet (an asymmetric capture, or a quiet peer).
   * Connection attempts (a SYN unanswered) and closed or reset connections get the short one.
   */
  get longLived(): boolean {
    const state = this.record.state;
    return state === 'established' || (state === 'half-open' && !this.synSent[0] && !this.synSent[1]);
  }

  /** 'fin' or 'rst' once the connection is over, null while it is not. */
  closeReason(): EndReason | null {
    if (this.record.state === 'reset') return 'rst';
    if (this.record.state === 'closed') return 'fin';
    return null;
  }

  /** Why this connection ends when a new one takes its 4-tuple. */
  replacedReason(): EndReason {
    return this.closeReason() ?? (this.halves[0].finSeen || this.halves[1].finSeen ? 'fin' : 'evicted');
  }

  /** Delivers what is left, then tells the handler the flow is over. */
  end(reason: EndReason): void {
    if (!this.oriented) this.orient(C2S, null);
    this.halves[0].finish();
    this.halves[1].finish();
    if (reason === 'timeout' && this.record.state === 'established') this.record.state = 'timeout';
    this.endHandler(reason);
  }

  /**
   * A reset connection gone quiet (FlowLimits.resetQuiet), both sides settled: its analysis ends as
   * it would when it leaves the table, bar data that comes later still (counted on the record, not
   * analysed). One still holding data or a hole waits for its end, where they are skipped.
   */
  endIfQuietAfterReset(): void {
    if (this.handler !== null && this.record.state === 'reset') this.endIfSettled('rst');
  }

  /** The handler's onEnd, once: a handler ended at close is not ended again. */
  private endHandler(reason: EndReason): void {
    const handler = this.handler;
    this.handler = null;
    handler?.onEnd(reason);
  }

  data(dir: Direction, chunk: Buffer, packet: number): void {
    this.record.bytes[dir] += chunk.length;
    this.handler?.onData(dir, chunk, this.context.now, packet);
  }

  gap(dir: Direction, bytes: number): void {
    // A hole before a FIN can be skipped before any payload has oriented a mid-stream pickup.
    if (!this.oriented) this.orient(dir, null);
    this.record.gaps[dir] += bytes;
    this.context.stats.gapBytes += bytes;
    this.handler?.onGap(dir, bytes);
  }

  held(delta: number): void {
    this.heldBytes += delta;
    this.context.heldBytes += delta;
    if (this.heldBytes > 0) this.context.holding.add(this);
    else this.context.holding.delete(this);
  }

  private noteBaseSeq(dir: Direction, seq: number): void {
    if (this.baseSeqKnown[dir]) return;
    this.baseSeqKnown[dir] = true;
    this.baseSeq[dir] = seq;
  }

  private updateState(): void {
    const record = this.record;
    if (record.state === 'closed' || record.state === 'reset') return;
    if (this.rstSeen) record.state = 'reset';
    else if (this.halves[0].finSeen && this.halves[1].finSeen) record.state = 'closed';
    // Established once both sides spoke, and, when the client's SYN was seen, the server answered with its own.
    else if (this.sent[0] && this.sent[1] && (!this.synSent[0] || this.synSent[1])) record.state = 'established';
  }

  /**
   * Settles a mid-stream pickup's direction: by what the sender of the first payload is (the
   * sniff's verdict), else by port (the tentative direction the flow was created with).
   */
  private orient(senderDir: Direction, verdict: 'client' | 'server' | null): Direction {
    this.oriented = true;
    if (verdict !== null) {
      this.record.orientation = 'content';
      if ((verdict === 'client') !== (senderDir === C2S)) {
        this.swapDirections();
        senderDir = (senderDir ^ 1) as Direction;
      }
    }
    this.handler = this.context.factory.open(this.record);
    return senderDir;
  }

  private swapDirections(): void {
    const record = this.record;
    [record.src, record.dst] = [record.dst, record.src];
    [record.sport, record.dport] = [record.dport, record.sport];
    record.packets.reverse();
    record.bytes.reverse();
    record.gaps.reverse();
    this.halves.reverse();
    this.halves[0].dir = 0;
    this.halves[1].dir = 1;
    this.sent.reverse();
    this.synSent.reverse();
    this.baseSeqKnown.reverse();
    this.baseSeq.reverse();
    this.clientIsLow = !this.clientIsLow;
  }
}

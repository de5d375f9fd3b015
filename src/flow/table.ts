/**
 * The flow table: TCP packets in, connections out. Each packet finds its connection by a key
 * built from the addresses, ports, VLAN and tunnel; connections end on a replacing SYN (port
 * reuse), an idle timeout on capture time, a budget, or the end of the input.
 *
 * Lifetimes: a closed (FIN both ways) or reset connection lingers for `shortTimeout` seconds of
 * capture time, so that late ACKs and retransmissions land on it, as tshark assigns them to the
 * old tcp.stream; only a SYN that tshark would count as a new stream replaces it earlier. Zeek's
 * 5 s (tcp_close_delay, tcp_reset_delay, tcp_attempt_delay): every capture of the corpus assigns
 * its packets as tshark does with it, and a busy node's closed connections, thousands a second,
 * are not kept half a minute each. Their analysis ends sooner, once both sides are settled
 * (Connection.endIfSettled): a closed connection's at once, a reset one's once it has also been
 * quiet for `resetQuiet` seconds; lingering, a connection then keeps its record
 * and results (about 2 KiB), not its parsers' state (5 to 8 KiB for TLS). The timeouts are
 * checked by a sweep every `sweepInterval` seconds of capture time; a live capture also moves
 * that time on with the wall clock (advanceClock) while no packet comes.
 */
import type { EndReason, FlowRecord, StreamFactory } from '../model/flow.js';
import { C2S, S2C } from '../model/flow.js';
import type { Frame } from '../model/frame.js';
import type { DecodedPacket } from '../model/packet.js';
import { TcpFlags } from '../model/packet.js';
import { formatAddress } from '../decode/address.js';
import type { TableContext } from './connection.js';
import { Connection } from './connection.js';
import { IdleList } from './idle-list.js';
import { FlowKeyBuilder } from './key.js';
import type { ReassemblyStats } from './reassembly.js';

const TCP = 6;

export interface FlowLimits {
  /** Out-of-order bytes one flow may hold (both directions) before its first hole is skipped. */
  outOfOrderBytesPerFlow: number;
  /** Out-of-order bytes all flows may hold before the oldest holders are flushed. */
  heldBytesTotal: number;
  /** Idle seconds of capture time before an established connection (or a one-sided mid-stream pickup) ends. */
  establishedTimeout: number;
  /** Idle seconds before an unanswered SYN's connection ends; also how long a closed or reset one lingers. */
  shortTimeout: number;
  /**
   * Idle seconds after which a reset connection's handler ends (the data its peer had in flight
   * has come by then); the connection lingers on, for late packets, until `shortTimeout`.
   */
  resetQuiet: number;
  /** Seconds of capture time between idle sweeps. */
  sweepInterval: number;
}

export const DEFAULT_FLOW_LIMITS: Readonly<FlowLimits> = {
  outOfOrderBytesPerFlow: 1 << 20,
  heldBytesTotal: 256 << 20,
  establishedTimeout: 300,
  shortTimeout: 5,
  resetQuiet: 1,
  sweepInterval: 1,
};

export interface FlowStats extends ReassemblyStats {
  /** TCP packets handled. */
  packets: number;
  /** Connections created. */
  flows: number;
  /** Connections that replaced an earlier one on the same 4-tuple (a new SYN). */
  portReuses: number;
  /** Bytes skipped as gaps, all flows and directions. */
  gapBytes: number;
  /** Times a flow held more out-of-order bytes than its budget (its first holes were skipped). */
  flowBudgetOverflows: number;
  /** Times all flows together held more than the total budget (the oldest holders were flushed). */
  totalBudgetOverflows: number;
  /** Connections ended by their idle timeout (lingering closed or reset ones not counted). */
  timeouts: number;
}

export interface FlowTableOptions {
  factory: StreamFactory;
  /** Called once per connection, when it leaves the table (after its handler's onEnd). */
  onFlowEnd(flow: FlowRecord): void;
  limits?: Partial<FlowLimits>;
  /**
   * Whether a connection closed by FIN both ways, every byte delivered, may end its handler at
   * once, and a reset one once quiet for `resetQuiet`; its record still lingers for late packets,
   * and onFlowEnd comes when it leaves the table. Asked each time (default: yes). No for a handler
   * that may still be waiting for something that is not in the stream (TLS keys from a key log).
   */
  endsAtClose?: () => boolean;
}

export class FlowTable {
  readonly stats: FlowStats = {
    packets: 0,
    flows: 0,
    portReuses: 0,
    retransmittedBytes: 0,
    outOfOrderSegments: 0,
    outOfWindow: 0,
    gapBytes: 0,
    flowBudgetOverflows: 0,
    totalBudgetOverflows: 0,
    timeouts: 0,
  };
  private readonly limits: FlowLimits;
  private readonly onFlowEnd: (flow: FlowRecord) => void;
  private readonly context: TableContext;
  private readonly connections = new Map<string, Connection>();
  private readonly keys = new FlowKeyBuilder();
  /** The connection of the last packet, while it is in the table: the next packet's, most often. */
  private lastConnection: Connection | undefined = undefined;
  /** Connections under the established timeout, and the others (Connection.longLived), each by last activity. */
  private readonly longIdle = new IdleList<Connection>();
  private readonly shortIdle = new IdleList<Connection>();
  private nextSweep = -Infinity;

  constructor(options: FlowTableOptions) {
    this.limits = { ...DEFAULT_FLOW_LIMITS, ...options.limits };
    this.onFlowEnd = options.onFlowEnd;
    this.context = {
      factory: options.factory,
      endsAtClose: options.endsAtClose ?? (() => true),
      stats: this.stats,
      now: 0,
      packetNumber: 0,
      heldBytes: 0,
      holding: new Set(),
    };
  }

  /** Connections alive (open, or closed and lingering). */
  get size(): number {
    return this.connections.size;
  }

  packet(pkt: DecodedPacket, frame: Frame): void {
    if (pkt.proto !== TCP) return;
    const ts = frame.ts;
    this.context.now = ts;
    this.context.packetNumber = frame.index;
    if (ts >= this.nextSweep) this.sweep(ts);
    this.stats.packets++;
    const keys = this.keys;
    keys.build(pkt);
    const tcp = pkt.tcp;
    let connection = keys.sameAsLast && this.lastConnection !== undefined ? this.lastConnection : this.connections.get(keys.key);
    if (
      connection !== undefined &&
      (tcp.flags & (TcpFlags.SYN | TcpFlags.ACK)) === TcpFlags.SYN &&
      connection.isReplacedBy(keys.senderIsLow === connection.clientIsLow ? C2S : S2C, tcp.seq)
    ) {
      this.stats.portReuses++;
      this.end(connection, connection.replacedReason());
      connection = undefined;
    }
    connection ??= this.create(pkt, frame);
    this.lastConnection = connection;
    connection.packet(keys.senderIsLow === connection.clientIsLow ? C2S : S2C, pkt, ts);
    this.enforceBudgets(connection);
    (connection.longLived ? this.longIdle : this.shortIdle).moveToTail(connection);
  }

  /**
   * Moves capture time on to `now` (seconds since the epoch) without a packet: a live capture's
   * clock tick, so that when traffic stops, idle connections still time out and closed ones still
   * end after their linger. Never moves the clock back (a packet may carry an older timestamp).
   */
  advanceClock(now: number): void {
    if (now <= this.context.now) return;
    this.context.now = now;
    if (now >= this.nextSweep) this.sweep(now);
  }

  /** Ends every connection still in the table: the input is over. */
  finish(): void {
    for (const connection of this.connections.values()) this.end(connection, connection.closeReason() ?? 'eof');
  }

  private create(pkt: DecodedPacket, frame: Frame): Connection {
    const tcp = pkt.tcp;
    const syn = (tcp.flags & TcpFlags.SYN) !== 0;
    // A SYN's sender is the client, a SYN-ACK's the server; mid-stream, the higher port is the
    // client until the first payload says otherwise.
    const senderIsClient = syn ? (tcp.flags & TcpFlags.ACK) === 0 : tcp.srcPort >= tcp.dstPort;
    const sender = formatAddress(pkt.buf, pkt.srcOff, pkt.addrLen);
    const receiver = formatAddress(pkt.buf, pkt.dstOff, pkt.addrLen);
    const record: FlowRecord = {
      id: ++this.stats.flows,
      src: senderIsClient ? sender : receiver,
      sport: senderIsClient ? tcp.srcPort : tcp.dstPort,
      dst: senderIsClient ? receiver : sender,
      dport: senderIsClient ? tcp.dstPort : tcp.srcPort,
      vlan: pkt.vlan,
      tunnel: pkt.tunnel,
      firstTs: frame.ts,
      lastTs: frame.ts,
      firstPacket: frame.index,
      packets: [0, 0],
      bytes: [0, 0],
      gaps: [0, 0],
      state: 'half-open',
      orientation: syn ? 'syn' : 'port',
    };
    const clientIsLow = senderIsClient === this.keys.senderIsLow;
    const connection = new Connection(this.keys.key, clientIsLow, record, this.context);
    this.connections.set(this.keys.key, connection);
    return connection;
  }

  private end(connection: Connection, reason: EndReason): void {
    if (connection === this.lastConnection) this.lastConnection = undefined;
    connection.end(reason);
    connection.idleList?.remove(connection);
    if (this.connections.get(connection.key) === connection) this.connections.delete(connection.key);
    this.onFlowEnd(connection.record);
  }

  private enforceBudgets(connection: Connection): void {
    const { outOfOrderBytesPerFlow, heldBytesTotal } = this.limits;
    if (connection.heldBytes > outOfOrderBytesPerFlow) {
      this.stats.flowBudgetOverflows++;
      const [c2s, s2c] = connection.halves;
      while (connection.heldBytes > outOfOrderBytesPerFlow) (c2s.heldBytes >= s2c.heldBytes ? c2s : s2c).skipFirstHole();
    }
    if (this.context.heldBytes > heldBytesTotal) {
      this.stats.totalBudgetOverflows++;
      for (const holder of this.context.holding) {
        holder.halves[0].flushHeld();
        holder.halves[1].flushHeld();
        if (this.context.heldBytes <= heldBytesTotal) break;
      }
    }
  }

  /** Ends the connections idle past their timeout, least recently active first; then the analysis of quiet reset ones. */
  private sweep(now: number): void {
    this.nextSweep = now + this.limits.sweepInterval;
    const shortIdleSince = now - this.limits.shortTimeout;
    const longIdleSince = now - this.limits.establishedTimeout;
    for (;;) {
      const short = expiredHead(this.shortIdle, shortIdleSince);
      const long = expiredHead(this.longIdle, longIdleSince);
      const connection = short !== null && long !== null ? (short.record.lastTs <= long.record.lastTs ? short : long) : short ?? long;
      if (connection === null) break;
      const reason = connection.closeReason();
      if (reason === null) this.stats.timeouts++;
      this.end(connection, reason ?? 'timeout');
    }
    const quietSince = now - this.limits.resetQuiet;
    let quiet = this.shortIdle.head;
    while (quiet !== null && quiet.record.lastTs <= quietSince) {
      quiet.endIfQuietAfterReset();
      quiet = quiet.nextIdle;
    }
  }
}

function expiredHead(list: IdleList<Connection>, idleSince: number): Connection | null {
  return list.head !== null && list.head.record.lastTs <= idleSince ? list.head : null;
}

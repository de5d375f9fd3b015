/**
 * Test kit for flow/: builds DecodedPacket objects directly (the decode→flow contract) and
 * records what a FlowTable hands to its handlers. Every packet is written into one shared buffer,
 * overwritten by the next, as capture/ reuses its read chunk: a table that kept a reference
 * instead of a copy shows up as corrupted output.
 */
import type { Direction, EndReason, FlowRecord, StreamFactory, StreamHandler } from '../model/flow.js';
import type { Frame } from '../model/frame.js';
import type { DecodedPacket, TunnelInfo } from '../model/packet.js';
import { TcpFlags, newDecodedPacket } from '../model/packet.js';
import type { FlowLimits } from './table.js';
import { FlowTable } from './table.js';

export interface Endpoint {
  address: string;
  port: number;
}

export interface Segment {
  from: Endpoint;
  to: Endpoint;
  /** Flag letters: S SYN, A ACK, F FIN, R RST, P PSH. */
  flags: string;
  seq: number;
  ack: number;
  /** Captured payload. */
  data: Buffer;
  /** Payload length on the wire, when the snaplen cut the segment. */
  wireLen?: number;
  /** Capture time; by default 1 ms after the previous packet. */
  ts?: number;
  vlan?: number;
  tunnel?: TunnelInfo;
}

export interface SegmentOptions {
  ack?: number;
  ts?: number;
  wireLen?: number;
  vlan?: number;
  tunnel?: TunnelInfo;
}

export type SegmentBuilder = (flags: string, seq: number, data?: string | Buffer, options?: SegmentOptions) => Segment;

/** Builders for segments from `a` to `b` and from `b` to `a`. */
export function between(a: Endpoint, b: Endpoint): [SegmentBuilder, SegmentBuilder] {
  const builder =
    (from: Endpoint, to: Endpoint): SegmentBuilder =>
    (flags, seq, data = '', options = {}) => ({
      from,
      to,
      flags,
      seq: seq >>> 0,
      ack: (options.ack ?? 0) >>> 0,
      data: typeof data === 'string' ? Buffer.from(data, 'latin1') : data,
      wireLen: options.wireLen,
      ts: options.ts,
      vlan: options.vlan,
      tunnel: options.tunnel,
    });
  return [builder(a, b), builder(b, a)];
}

const FLAG_BITS: Record<string, number> = { S: TcpFlags.SYN, A: TcpFlags.ACK, F: TcpFlags.FIN, R: TcpFlags.RST, P: TcpFlags.PSH };

const shared = Buffer.alloc(1 << 17);
/** Where the packet's bytes start in the shared buffer: varied, so that offsets are exercised. */
let writeOffset = 0;

export function toPacket(segment: Segment): DecodedPacket {
  const pkt = newDecodedPacket();
  const src = parseAddress(segment.from.address);
  const dst = parseAddress(segment.to.address);
  const addrLen = src.length;
  const base = writeOffset;
  writeOffset = (writeOffset + 7) % 64;
  shared.fill(0xee, base, base + 2 * addrLen + segment.data.length + 16);
  src.copy(shared, base);
  dst.copy(shared, base + addrLen);
  const payloadOff = base + 2 * addrLen + 3;
  segment.data.copy(shared, payloadOff);
  pkt.buf = shared;
  pkt.ipVersion = addrLen === 4 ? 4 : 6;
  pkt.addrLen = addrLen as 4 | 16;
  pkt.srcOff = base;
  pkt.dstOff = base + addrLen;
  pkt.proto = 6;
  pkt.vlan = segment.vlan ?? -1;
  pkt.tunnel = segment.tunnel ?? null;
  const tcp = pkt.tcp;
  tcp.srcPort = segment.from.port;
  tcp.dstPort = segment.to.port;
  tcp.seq = segment.seq;
  tcp.ack = segment.ack;
  tcp.flags = 0;
  for (const letter of segment.flags) tcp.flags |= FLAG_BITS[letter];
  tcp.payloadOff = payloadOff;
  tcp.payloadLen = segment.data.length;
  tcp.payloadWireLen = segment.wireLen ?? segment.data.length;
  return pkt;
}

function parseAddress(address: string): Buffer {
  if (!address.includes(':')) return Buffer.from(address.split('.').map(Number));
  const [head, tail] = address.includes('::') ? address.split('::') : [address, ''];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  const bytes = Buffer.alloc(16);
  groups.forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), 2 * i));
  return bytes;
}

const DIRECTION_NAMES = ['c2s', 's2c'] as const;

/** What one flow's handler received, in order. */
export class RecordedStream implements StreamHandler {
  /** `c2s "bytes"`, `s2c gap 3`, `end fin` … */
  readonly events: string[] = [];
  readonly received: [Buffer[], Buffer[]] = [[], []];
  /** The packet number each received chunk came with, index for index. */
  readonly packets: [number[], number[]] = [[], []];
  endReason: EndReason | null = null;

  constructor(readonly flow: FlowRecord) {}

  onData(dir: Direction, chunk: Buffer, _ts: number, packet: number): void {
    const copy = Buffer.from(chunk);
    this.received[dir].push(copy);
    this.packets[dir].push(packet);
    this.events.push(`${DIRECTION_NAMES[dir]} ${JSON.stringify(copy.toString('latin1'))}`);
  }

  onGap(dir: Direction, bytes: number): void {
    this.events.push(`${DIRECTION_NAMES[dir]} gap ${bytes}`);
  }

  onEnd(reason: EndReason): void {
    if (this.endReason !== null) throw new Error(`flow ${this.flow.id} ended twice`);
    this.endReason = reason;
    this.events.push(`end ${reason}`);
  }

  bytes(dir: Direction): Buffer {
    return Buffer.concat(this.received[dir]);
  }

  text(dir: Direction): string {
    return this.bytes(dir).toString('latin1');
  }
}

export class RecordingFactory implements StreamFactory {
  readonly streams: RecordedStream[] = [];

  open(flow: FlowRecord): StreamHandler {
    const stream = new RecordedStream(flow);
    this.streams.push(stream);
    return stream;
  }
}

export interface Replay {
  table: FlowTable;
  /** Flows in the order they ended. */
  ended: FlowRecord[];
  /** Handlers by flow id. */
  streams: Map<number, RecordedStream>;
}

/** Feeds `segments` to a new FlowTable (then calls finish() unless told not to). */
export function replay(segments: Segment[], options: { limits?: Partial<FlowLimits>; finish?: boolean; endsAtClose?: () => boolean } = {}): Replay {
  const factory = new RecordingFactory();
  const ended: FlowRecord[] = [];
  const table = new FlowTable({ factory, limits: options.limits, endsAtClose: options.endsAtClose, onFlowEnd: (flow) => ended.push(flow) });
  const frame: Frame = { index: 0, ts: 1000, linktype: 1, buf: shared, offset: 0, caplen: 0, origlen: 0, iface: 0 };
  for (const segment of segments) {
    frame.index++;
    frame.ts = segment.ts ?? frame.ts + 0.001;
    table.packet(toPacket(segment), frame);
  }
  if (options.finish !== false) table.finish();
  const streams = new Map<number, RecordedStream>();
  for (const stream of factory.streams) streams.set(stream.flow.id, stream);
  return { table, ended, streams };
}

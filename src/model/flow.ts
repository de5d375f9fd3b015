import type { TunnelInfo } from './packet.js';

/** Direction of bytes within a connection: 0 client→server (c2s), 1 server→client (s2c). */
export type Direction = 0 | 1;
export const C2S: Direction = 0;
export const S2C: Direction = 1;

export type FlowState = 'established' | 'closed' | 'reset' | 'half-open' | 'timeout';

/** Why a flow ended, as analyzers see it in onEnd. */
export type EndReason = 'fin' | 'rst' | 'timeout' | 'eof' | 'evicted';

/**
 * A TCP connection as flow/ tracks it. One record per connection; the fields are those of
 * SPEC.md §5 that TCP knows. Updated in place while the flow lives.
 */
export interface FlowRecord {
  /** 1-based, in order of the flow's first packet. */
  id: number;
  /** Client (the side that opened the connection) and server. */
  src: string;
  sport: number;
  dst: string;
  dport: number;
  vlan: number;
  tunnel: TunnelInfo | null;
  firstTs: number;
  lastTs: number;
  /** Packet number (Frame.index) of the flow's first packet. */
  firstPacket: number;
  packets: [c2s: number, s2c: number];
  /** Payload bytes delivered in order to the analyzers, each once. */
  bytes: [c2s: number, s2c: number];
  /** Bytes never seen (holes in the sequence space that were skipped). */
  gaps: [c2s: number, s2c: number];
  state: FlowState;
  /** How the direction was decided: 'syn', or for a mid-stream pickup 'content' or 'port'. */
  orientation: 'syn' | 'content' | 'port';
}

/**
 * The analyzers' contract with flow/ (gopacket's Stream). Bytes arrive in order per direction,
 * each once; `chunk` points into a buffer flow/ may reuse, so an analyzer copies what it keeps.
 */
export interface StreamHandler {
  /** `packet` is the number (Frame.index) of the packet whose arrival delivered `chunk`. */
  onData(dir: Direction, chunk: Buffer, ts: number, packet: number): void;
  /** `bytes` were never seen in `dir`; the next onData continues after the hole. */
  onGap(dir: Direction, bytes: number): void;
  onEnd(reason: EndReason): void;
}

/** Creates the handler for a new flow (gopacket's StreamFactory). */
export interface StreamFactory {
  open(flow: FlowRecord): StreamHandler | null;
}

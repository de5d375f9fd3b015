import type { Frame } from './frame.js';

export type CaptureFormat = 'pcap' | 'pcapng' | 'live';

/** Interface statistics as pcapng's Interface Statistics Block or a live backend reports them. */
export interface InterfaceStats {
  iface: number;
  /** Capture time of the statistics, seconds since the epoch. */
  ts: number;
  /** Packets received by the capture (isb_ifrecv), or null when not reported. */
  received: number | null;
  /** Packets dropped by the interface or kernel (isb_ifdrop), or null when not reported. */
  dropped: number | null;
}

/** Where a damaged capture stopped being readable, and why. Everything before it is kept. */
export interface CaptureDamage {
  /** Byte offset in the (decompressed) capture stream where the damage starts. */
  offset: number;
  message: string;
}

/** Receives what a capture source yields, in file order. */
export interface CaptureSink {
  frame(frame: Frame): void;
  /** A pcapng Decryption Secrets Block: `type` is the secrets type (0x544c534b = TLS key log). */
  secrets(type: number, data: Buffer): void;
  interfaceStats(stats: InterfaceStats): void;
}

/** What a source was, once it has been read to its end (or to its damage). */
export interface CaptureSummary {
  format: Exclude<CaptureFormat, 'live'>;
  /** Link types of the interfaces seen, in order of first appearance. */
  linktypes: number[];
  frames: number;
  /** Bytes read from the (decompressed) source. */
  bytes: number;
  damage: CaptureDamage | null;
}

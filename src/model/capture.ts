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

export type LiveBackend = 'cap' | 'tcpdump';

/**
 * What a live capture reports beside the frames (SPEC.md §5 `capture.live`, an addition): the
 * interface, how it was captured, and where packets were lost.
 */
export interface LiveCaptureInfo {
  interface: string;
  backend: LiveBackend;
  /** The BPF expression, as tcpdump takes it; '' for every packet. */
  filter: string;
  /** `kernel`: the kernel's capture time (tcpdump); `arrival`: the time kwire took the packet (cap gives none). */
  timestamps: 'kernel' | 'arrival';
  /** Packets the capture received: tcpdump's "received by filter", or the frames cap handed to kwire. */
  received: number;
  /** Packets the kernel (or the interface) dropped, as tcpdump reports them; null when the backend cannot say (cap). */
  droppedByKernel: number | null;
  /** Packets kwire took from the backend but had no room to keep (its queue full, cap only): backpressure. */
  droppedByKwire: number;
  /** Why the capture ended on its own (the interface went down or disappeared); null when kwire stopped it. */
  ended: string | null;
}

/**
 * A source of frames that lib.ts runs its one pipeline over: a capture file, a stream, or a live
 * interface.
 */
export interface PacketSource {
  /** The name in messages and `capture.source`: a path, 'stdin', or the interface. */
  readonly name: string;
  /** Capture time follows the wall clock (a live interface): the pipeline then ends idle flows by it too. */
  readonly live: boolean;
  /** Bytes of the source read so far (progress). */
  sourceBytes(): number;
  /** Packets lost so far (kernel and kwire), for progress; null when unknown. */
  droppedSoFar(): number | null;
  /**
   * Feeds every frame to `sink` until the source ends or `signal` aborts; `onBatch` between
   * batches of frames (progress), and when it returns a promise the next batch waits for it.
   * Throws InputError when the source is not readable at all.
   */
  read(sink: CaptureSink, onBatch: () => void | Promise<void>, signal?: AbortSignal): Promise<SourceSummary>;
}

export interface SourceSummary extends Omit<CaptureSummary, 'format'> {
  format: CaptureFormat;
  /** Set by a live source. */
  live?: LiveCaptureInfo;
}

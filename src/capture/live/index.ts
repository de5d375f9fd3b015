/**
 * capture/live/: frames from a network interface, for `kwire sniff`. Two backends, each a
 * capture process whose pcap stream is read as a file is (piped.ts): `cap` (libpcap through the
 * optional `cap` binding, in kwire's cap worker) and `tcpdump`. `auto` takes cap when it loads,
 * else tcpdump. A session adds what both share: stop after a count or a duration, and save the
 * packets as pcapng (`--write`).
 */
import type { CaptureSink, LiveBackend, PacketSource, SourceSummary } from '../../model/capture.js';
import { LiveCaptureError } from '../../model/errors.js';
import { capCommand, loadCap, type CapModule } from './cap.js';
import { PcapngWriter } from './pcapng-writer.js';
import { ENOUGH_PACKETS, PipedCaptureSource } from './piped.js';
import { findTcpdump, tcpdumpCommand } from './tcpdump.js';

export { PcapngWriter } from './pcapng-writer.js';
export { CAP_BUFFER_KIB } from './cap.js';
export { TCPDUMP_BUFFER_KIB } from './tcpdump.js';
export { CaptureStats } from './piped.js';

export interface LiveCaptureOptions {
  interface: string;
  /** The BPF expression ('' for every packet). */
  filter: string;
  backend: 'auto' | LiveBackend;
  /** Stop after this many packets. */
  count?: number | null;
  /** Stop after this many seconds. */
  durationSeconds?: number | null;
  /** Also save the raw packets to this pcapng file. */
  write?: string | null;
  /** The kernel's capture buffer in KiB (tcpdump -B; see bufferSizeProblem); each backend has its default. */
  bufferKiB?: number | null;
}

/** pcap_set_buffer_size takes an int of bytes. */
const MAX_BUFFER_KIB = Math.floor(0x7fffffff / 1024);

/** Why `kib` cannot be the kernel's capture buffer, or null when it can. */
export function bufferSizeProblem(kib: number): string | null {
  if (!(Number.isInteger(kib) && kib > 0)) return 'a positive integer of KiB';
  if (kib > MAX_BUFFER_KIB) return `at most ${MAX_BUFFER_KIB} KiB`;
  return null;
}

/** Where the backends come from: the real ones, or a test's. */
export interface Backends {
  loadCap(): CapModule | Error;
  findTcpdump(): string | null;
}

const SYSTEM: Backends = { loadCap, findTcpdump };

const HOW_TO_GET_CAP = 'apt-get install libpcap-dev && npm rebuild cap';

/** Opens the interface with the chosen backend; throws LiveCaptureError (exit 2) naming the interface. */
export async function openLiveCapture(options: LiveCaptureOptions, backends: Backends = SYSTEM): Promise<PacketSource> {
  const iface = options.interface;
  // The output file first: a typo in it costs no capture.
  const writer = options.write ? new PcapngWriter(options.write, iface, 'kwire sniff') : null;
  try {
    const inner = await openBackend(options, backends);
    return new LiveSession(inner, options, writer);
  } catch (error) {
    writer?.close(null);
    throw error;
  }
}

async function openBackend(options: LiveCaptureOptions, backends: Backends): Promise<PacketSource> {
  const iface = options.interface;
  const bufferKiB = options.bufferKiB ?? null;
  const problem = bufferKiB === null ? null : bufferSizeProblem(bufferKiB);
  if (problem) throw new RangeError(`${iface}: the kernel's capture buffer takes ${problem} (got ${bufferKiB})`);
  if (options.backend !== 'tcpdump') {
    const cap = backends.loadCap();
    // Loaded here only to choose: the worker loads it again to capture.
    if (!(cap instanceof Error)) return PipedCaptureSource.open(capCommand(iface, options.filter, bufferKiB), iface, options.filter);
    if (options.backend === 'cap') {
      throw new LiveCaptureError('NO_BACKEND', `${iface}: the cap backend did not load (${firstLine(cap.message)}); ${HOW_TO_GET_CAP}, or use --backend tcpdump`);
    }
  }
  const tcpdump = backends.findTcpdump();
  if (tcpdump !== null) return PipedCaptureSource.open(tcpdumpCommand(tcpdump, iface, options.filter, bufferKiB), iface, options.filter);
  throw new LiveCaptureError(
    'NO_BACKEND',
    options.backend === 'tcpdump'
      ? `${iface}: tcpdump is not installed (apt-get install tcpdump), or use --backend cap`
      : `${iface}: no capture backend: the optional cap module did not load and tcpdump is not installed (${HOW_TO_GET_CAP}, or apt-get install tcpdump)`,
  );
}

const firstLine = (text: string) => text.split('\n')[0];

/** A backend plus what every live capture does the same way: --count, --duration, --write. */
class LiveSession implements PacketSource {
  readonly live = true;
  readonly name: string;

  constructor(
    private readonly inner: PacketSource,
    private readonly options: LiveCaptureOptions,
    private readonly writer: PcapngWriter | null,
  ) {
    this.name = inner.name;
  }

  sourceBytes(): number {
    return this.inner.sourceBytes();
  }

  droppedSoFar(): number | null {
    return this.inner.droppedSoFar();
  }

  async read(sink: CaptureSink, onBatch: () => void | Promise<void>, signal?: AbortSignal): Promise<SourceSummary> {
    const stop = new AbortController();
    const forward = () => stop.abort();
    signal?.addEventListener('abort', forward, { once: true });
    if (signal?.aborted) stop.abort();
    const { durationSeconds, count } = this.options;
    const timer = durationSeconds ? setTimeout(forward, durationSeconds * 1000) : undefined;
    const limit = count ?? Infinity;
    const writer = this.writer;
    let frames = 0;
    const session: CaptureSink = {
      // Frames past the count (tcpdump's last chunk may hold more) are neither analysed nor saved.
      frame(frame) {
        if (frames >= limit) return;
        frames++;
        writer?.frame(frame);
        sink.frame(frame);
        if (frames === limit) stop.abort(ENOUGH_PACKETS);
      },
      secrets: (type, data) => sink.secrets(type, data),
      interfaceStats: (stats) => sink.interfaceStats(stats),
    };
    let summary: SourceSummary | null = null;
    try {
      summary = await this.inner.read(session, onBatch, stop.signal);
      return { ...summary, frames };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', forward);
      const live = summary?.live;
      writer?.close(live ? { ts: Date.now() / 1000, received: live.received, dropped: live.droppedByKernel } : null);
    }
  }
}

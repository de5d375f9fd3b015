/**
 * A live capture made by another process that writes a pcap stream on its stdout — tcpdump, or
 * kwire's cap worker — read by the same reader as a file (readCapture). The process says
 * `listening on` on stderr once the interface is open (or why it is not), reports its statistics
 * there in tcpdump's words (on SIGUSR1, each second, and at its end), and stops on SIGINT after
 * writing everything. When it stops on its own, the interface went down: every packet it wrote
 * is kept.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { PipeReader, readCapture } from '../index.js';
import type { CaptureSink, CaptureSummary, LiveBackend, LiveCaptureInfo, PacketSource, SourceSummary } from '../../model/capture.js';
import { LiveCaptureError } from '../../model/errors.js';
import { captureOpenError, interfaceState } from './errors.js';

/** How to run a capture process. */
export interface CaptureCommand {
  backend: LiveBackend;
  command: string;
  args: string[];
  timestamps: LiveCaptureInfo['timestamps'];
  /** What the process's own stderr lines start with (`tcpdump: `). */
  prefix: string;
  /**
   * How long the process may hold packets it has captured but not yet written, and would lose if
   * stopped (tcpdump: libpcap's block in hand). A stop waits that long before SIGINT.
   */
  holdsUpToMs: number;
}

/**
 * The reason a session aborts with once it has every packet it wants (--count): nothing the
 * process still holds is needed, so the stop does not wait for it.
 */
export const ENOUGH_PACKETS = 'enough packets';

/** Capture processes start in well under a second; one that does not is stuck. */
const START_TIMEOUT_MS = 15_000;
/** After SIGINT the process writes what it holds and its statistics; one that lingers is killed. */
const STOP_TIMEOUT_MS = 5_000;
const STATS_INTERVAL_MS = 1_000;
/** stderr kept for the messages: its last part (statistics are parsed as they come). */
const STDERR_KEPT = 16 << 10;

/** The last counts the process printed (`N packets received by filter`, `N packets dropped by kernel` …). */
export class CaptureStats {
  received: number | null = null;
  droppedByKernel: number | null = null;
  droppedByKwire = 0;

  /** Takes every count in `text`; later reports replace earlier ones (they are cumulative). */
  parse(text: string): void {
    const last = (pattern: RegExp) => {
      let value: number | null = null;
      for (const match of text.matchAll(pattern)) value = Number(match[1]);
      return value;
    };
    this.received = last(/(\d+) packets? received by filter/g) ?? this.received;
    const kernel = last(/(\d+) packets? dropped by kernel/g);
    const nic = last(/(\d+) packets? dropped by interface/g);
    if (kernel !== null || nic !== null) this.droppedByKernel = (kernel ?? 0) + (nic ?? 0);
    this.droppedByKwire = last(/(\d+) packets? dropped by kwire/g) ?? this.droppedByKwire;
  }
}

const NOTHING_CAPTURED: CaptureSummary = { format: 'pcap', linktypes: [], frames: 0, bytes: 0, damage: null };

/** A capture process: stdout on a kernelPipe(), stderr piped. */
type CaptureProcess = ChildProcess & { stderr: Readable };

/**
 * A kernel pipe for the process's stdout, through a FIFO unlinked once both ends are open. Node's
 * 'pipe' stdio is a socketpair, where each of tcpdump's per-packet writes (-U) costs a socket
 * buffer on both sides; a pipe's pages take many small writes. At 200,000 packets/s on one core
 * that saves tcpdump about 0.8 µs per packet and kwire's reading about 0.5 µs (bench/RESULTS.md).
 */
function kernelPipe(iface: string): { read: number; write: number } {
  let dir: string;
  try {
    dir = mkdtempSync(path.join(tmpdir(), 'kwire-capture-'));
  } catch (error) {
    throw new LiveCaptureError('CAPTURE_FAILED', `${iface}: cannot make a pipe for the capture in ${tmpdir()} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): set TMPDIR to a writable directory`);
  }
  try {
    const fifo = path.join(dir, 'pcap');
    const made = spawnSync('mkfifo', ['-m', '600', fifo], { encoding: 'utf8' });
    if (made.status !== 0) {
      const why = made.error ? `mkfifo (coreutils) did not run: ${(made.error as NodeJS.ErrnoException).code ?? made.error.message}` : made.stderr.trim();
      throw new LiveCaptureError('CAPTURE_FAILED', `${iface}: cannot make a pipe for the capture: ${why}`);
    }
    // The reading end first, without waiting for a writer; then the writing end opens at once.
    const read = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      return { read, write: openSync(fifo, constants.O_WRONLY) };
    } catch (error) {
      closeSync(read);
      throw error;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export class PipedCaptureSource implements PacketSource {
  readonly live = true;
  private readonly stats = new CaptureStats();
  private stderr = '';
  private stopping = false;
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /** Starts the process and waits until it listens; throws LiveCaptureError with its reason when it does not. */
  static async open(command: CaptureCommand, iface: string, filter: string): Promise<PipedCaptureSource> {
    // A process group of its own: Ctrl-C in a terminal reaches kwire only, which stops the process
    // once (a second SIGINT would kill tcpdump before it prints its statistics).
    const pipe = kernelPipe(iface);
    let child: CaptureProcess;
    try {
      child = spawn(command.command, command.args, { stdio: ['ignore', pipe.write, 'pipe'], detached: true }) as CaptureProcess;
    } finally {
      // The process has its own copy: the stream ends when the process closes it.
      closeSync(pipe.write);
    }
    const source = new PipedCaptureSource(child, new PipeReader(pipe.read), command, iface, filter);
    await source.started();
    return source;
  }

  private constructor(
    private readonly child: CaptureProcess,
    /** The process's stdout. */
    private readonly output: PipeReader,
    private readonly command: CaptureCommand,
    readonly name: string,
    private readonly filter: string,
  ) {
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      this.stderr = (this.stderr + text).slice(-STDERR_KEPT);
      this.stats.parse(text);
    });
    this.exited = new Promise((resolve) => {
      child.once('error', () => resolve({ code: null, signal: null }));
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
  }

  sourceBytes(): number {
    return this.output.bytesRead;
  }

  droppedSoFar(): number | null {
    const { droppedByKernel, droppedByKwire } = this.stats;
    return droppedByKernel === null && droppedByKwire === 0 ? null : (droppedByKernel ?? 0) + droppedByKwire;
  }

  async read(sink: CaptureSink, onBatch: () => void | Promise<void>, signal?: AbortSignal): Promise<SourceSummary> {
    const stop = () => void this.stop(signal?.reason !== ENOUGH_PACKETS);
    signal?.addEventListener('abort', stop, { once: true });
    if (signal?.aborted) stop();
    const askForStats = setInterval(() => this.child.kill('SIGUSR1'), STATS_INTERVAL_MS);
    try {
      // The stream ends when the process exits: stopped (SIGINT), or the interface went down.
      const summary = await readCapture(this.output, this.name, sink, onBatch).catch((error: unknown) => {
        // A process that died before its file header (killed at once) captured nothing.
        if (this.sourceBytes() === 0 && (error as { code?: string }).code === 'NOT_A_CAPTURE') return NOTHING_CAPTURED;
        throw error;
      });
      clearInterval(askForStats);
      const { code, signal: killedBy } = await this.exit();
      const ended = this.stopping ? null : this.endMessage() ?? `${this.command.backend} exited (${killedBy ?? code})`;
      const live: LiveCaptureInfo = {
        interface: this.name,
        backend: this.command.backend,
        filter: this.filter,
        timestamps: this.command.timestamps,
        received: this.stats.received ?? summary.frames,
        droppedByKernel: this.stats.droppedByKernel,
        droppedByKwire: this.stats.droppedByKwire,
        ended,
      };
      // A process killed mid-write (the cap binding aborts when the interface goes) may leave half
      // a record: that is where the capture ended, not damage.
      return { ...summary, damage: ended === null ? summary.damage : null, format: 'live', live };
    } finally {
      clearInterval(askForStats);
      signal?.removeEventListener('abort', stop);
      await this.stop();
    }
  }

  /**
   * SIGINT (the process writes what it holds and its statistics), then SIGKILL if it lingers.
   * `drain`: first wait until the packets the process may still hold have been written.
   */
  private async stop(drain = false): Promise<void> {
    if (this.stopping) return this.exit().then(() => undefined);
    this.stopping = true;
    if (drain && this.command.holdsUpToMs > 0 && this.running()) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.exited, new Promise((resolve) => (timer = setTimeout(resolve, this.command.holdsUpToMs)))]);
      clearTimeout(timer);
    }
    if (this.running()) this.child.kill('SIGINT');
    await this.exit();
  }

  private running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private async exit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private async started(): Promise<void> {
    const listening = new Promise<boolean>((resolve) => {
      const onData = () => {
        if (!this.stderr.includes('listening on')) return;
        this.child.stderr.off('data', onData);
        resolve(true);
      };
      this.child.stderr.on('data', onData);
      void this.exited.then(() => resolve(false));
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), START_TIMEOUT_MS)));
    const outcome = await Promise.race([listening, timeout]);
    clearTimeout(timer);
    if (outcome === true) return;
    await this.stop();
    this.output.destroy();
    if (outcome === 'timeout') throw new LiveCaptureError('CAPTURE_FAILED', `${this.name}: ${this.command.backend} did not start listening within ${START_TIMEOUT_MS / 1000} s`);
    // Its own first word, else the first line of whatever it printed (one line for the user).
    throw captureOpenError(this.name, this.filter, this.command.backend, this.ownLines()[0] ?? this.stderr.trim().split('\n')[0]);
  }

  /** The process's own message lines, without their prefix (`pcap_loop: `, `error: ` too). */
  private ownLines(): string[] {
    const { prefix } = this.command;
    return this.stderr
      .split('\n')
      .filter((line) => line.startsWith(prefix) && !/listening on|packets? (captured|received by filter)/.test(line))
      .map((line) => line.slice(prefix.length).replace(/^(pcap_loop|error):\s*/, ''));
  }

  /** Why the process stopped on its own: its last word, or the interface's state. */
  private endMessage(): string | null {
    return this.ownLines().at(-1) ?? interfaceState(this.name);
  }
}

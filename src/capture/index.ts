import { open } from 'node:fs/promises';
import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import { Readable, type Transform } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { CaptureSink, CaptureSummary } from '../model/capture.js';
import { InputError } from '../model/errors.js';
import { PcapReader, isPcapMagic } from './pcap.js';
import { PcapngReader, isPcapngMagic } from './pcapng.js';

export { PcapReader } from './pcap.js';
export { PcapngReader } from './pcapng.js';
export { MAX_CAPLEN } from './record-stream.js';

/** Large reads keep the per-chunk overhead small; memory stays bounded by backpressure. */
const READ_CHUNK_BYTES = 1 << 20;
/** The buffer a live capture's pipe is read into (a pipe holds 64 KiB). */
const PIPE_READ_BYTES = 256 << 10;
/** Decompressed chunk size: also the most a corrupt gzip stream loses before its corruption. */
const GUNZIP_CHUNK_BYTES = 64 << 10;
/** Enough of the start of a stream to recognise it, and to show it when it is not a capture. */
const SNIFF_BYTES = 24;
const GZIP_MAGIC = 0x1f8b;

export type CaptureReader = PcapReader | PcapngReader;

/** A capture file (or stdin) opened for reading. */
export interface CaptureSource {
  /** Raw bytes, possibly gzip-compressed: readCapture() decompresses them. */
  stream: Readable;
  /** The name to use in messages: the path, or 'stdin'. */
  name: string;
  /** Bytes read from the file so far (compressed bytes for a .gz): for progress. */
  sourceBytes(): number;
}

/**
 * Opens a capture file, or stdin for '-'. Throws InputError NOT_FOUND, IS_A_DIRECTORY or
 * UNREADABLE with a one-line message naming the file.
 */
export async function openCapture(path: string): Promise<CaptureSource> {
  const stream = path === '-' ? process.stdin : await openFileStream(path);
  // fs.ReadStream and net.Socket (stdin as a pipe or a terminal) both count what they read.
  const counted = stream as Readable & { bytesRead?: number };
  return { stream, name: path === '-' ? 'stdin' : path, sourceBytes: () => counted.bytesRead ?? 0 };
}

async function openFileStream(path: string): Promise<Readable> {
  let handle;
  try {
    handle = await open(path, 'r');
    if ((await handle.stat()).isDirectory()) {
      await handle.close();
      throw new InputError('IS_A_DIRECTORY', `${path}: is a directory`);
    }
  } catch (error) {
    throw inputErrorFor(path, error);
  }
  return handle.createReadStream({ highWaterMark: READ_CHUNK_BYTES });
}

/** Maps a failure to open or read `path` to the InputError the CLI reports. */
export function inputErrorFor(path: string, error: unknown): InputError {
  if (error instanceof InputError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new InputError('NOT_FOUND', `${path}: no such file`);
  if (code === 'EISDIR') return new InputError('IS_A_DIRECTORY', `${path}: is a directory`);
  if (code === 'EACCES' || code === 'EPERM') return new InputError('UNREADABLE', `${path}: permission denied`);
  return new InputError('UNREADABLE', `${path}: ${error instanceof Error ? error.message : String(error)}`);
}

/** Opens and reads a capture file ('-' for stdin) into `sink`. */
export async function readCaptureFile(path: string, sink: CaptureSink): Promise<CaptureSummary> {
  const source = await openCapture(path);
  return readCapture(source.stream, source.name, sink);
}

/** Told that a chunk was consumed; the reading waits for the promise it may return. */
export type ChunkDone = () => void | Promise<void>;

/**
 * Reads a pcap or pcapng stream, gzip-compressed or not, into `sink`, chunk by chunk as the
 * stream yields them. Throws InputError NOT_A_CAPTURE when the stream is not a capture at all;
 * a capture damaged part-way is not an error: the summary's `damage` says where it stopped.
 * `onChunk` is called after each chunk of the source has been consumed (for progress); when it
 * returns a promise, the next chunk is read once it settles (a consumer downstream that holds the
 * reading back). When `signal` aborts, reading stops before the next chunk (also while waiting for
 * one, on a pipe, or for that promise) and the summary is that of a capture that ended there.
 */
export async function readCapture(
  input: Readable | ChunkSource,
  name: string,
  sink: CaptureSink,
  onChunk?: ChunkDone,
  signal?: AbortSignal,
): Promise<CaptureSummary> {
  const chunks = input instanceof Readable ? new ChunkQueue(input) : input;
  // Stopping destroys the source, which settles a read that waits on a pipe. (Racing each read
  // against one long-lived promise instead would keep every chunk alive until the race's end.)
  const stopReading = () => chunks.destroy();
  signal?.addEventListener('abort', stopReading, { once: true });
  const next = () => nextChunk(chunks, name, signal);
  try {
    const first = await next();
    if (first && first.length >= 2 && first.readUInt16BE(0) === GZIP_MAGIC) {
      return await readGzip(first, next, new CaptureFeeder(sink, name, true), () => untilStopped(onChunk?.(), signal), () => signal?.aborted === true);
    }
    const feeder = new CaptureFeeder(sink, name, false);
    for (let chunk = first; chunk && feeder.push(chunk); chunk = await next()) await untilStopped(onChunk?.(), signal);
    return feeder.finish(undefined, signal?.aborted);
  } finally {
    signal?.removeEventListener('abort', stopReading);
    // Stops (and closes) the source when the reader stopped early.
    chunks.destroy();
  }
}

/** Waits for `waiting` (the consumer's), or until `signal` stops the reading (--duration), whichever comes first. */
async function untilStopped(waiting: void | Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!waiting || !signal) return waiting;
  if (signal.aborted) return;
  let stopped = (): void => {};
  await Promise.race([waiting, new Promise<void>((resolve) => signal.addEventListener('abort', (stopped = () => resolve()), { once: true }))]);
  signal.removeEventListener('abort', stopped);
}

/** Where readCapture takes its chunks from, one at a time. */
export interface ChunkSource {
  /** The next chunk, or null at the end; throws the source's error once its chunks are taken. */
  next(): Promise<Buffer | null>;
  /** Stops reading, and closes the source. */
  destroy(): void;
}

/**
 * What the chunk sources share: a next() that waits is woken by a chunk, or by the stream's end,
 * close or error, and hands out any chunk still there before it reports either.
 */
class ChunkWaiting {
  private ended = false;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;

  constructor(stream: Readable) {
    stream.once('end', () => this.end());
    // Destroyed (stopped) without an end.
    stream.once('close', () => this.end());
    stream.once('error', (error: Error) => {
      this.failure ??= error;
      this.settle();
    });
  }

  /** A chunk came. */
  settle(): void {
    this.wake?.();
    this.wake = null;
  }

  /** `take` gives the chunk there is, if any; `readMore` lets the stream read again before next() waits. */
  async next(take: () => Buffer | undefined, readMore?: () => void): Promise<Buffer | null> {
    for (;;) {
      const chunk = take();
      if (chunk !== undefined) return chunk;
      if (this.failure) throw this.failure;
      if (this.ended) return null;
      readMore?.();
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private end(): void {
    this.ended = true;
    this.settle();
  }
}

/**
 * A live capture's pipe, read into one buffer of kwire's (net.Socket's `onread`). Node's own
 * reading allocates a buffer for every read, which the kernel then zeroes page by page: twice the
 * CPU of the reading itself (494 MB through a pipe: 250–320 ms against 125–130). A chunk is a view
 * of that buffer, valid until next() is called again: reading resumes only then, so a read never
 * overwrites a chunk still in use (readCapture has consumed it, or zlib has, by then).
 */
export class PipeReader implements ChunkSource {
  private readonly socket: Socket;
  private readonly waiting: ChunkWaiting;
  private chunk: Buffer | undefined = undefined;

  constructor(fd: number) {
    const onread: OnReadOpts = {
      buffer: Buffer.allocUnsafe(PIPE_READ_BYTES),
      callback: (bytes, buffer) => {
        this.chunk = (buffer as Buffer).subarray(0, bytes);
        this.waiting.settle();
        // Paused until the chunk has been used.
        return false;
      },
    };
    // Socket's constructor reads `onread` (lib/net.js); @types/node types it for connect() only.
    this.socket = new Socket({ fd, readable: true, writable: false, onread } as SocketConstructorOpts);
    this.waiting = new ChunkWaiting(this.socket);
  }

  /** Bytes read from the pipe so far. */
  get bytesRead(): number {
    return this.socket.bytesRead;
  }

  next(): Promise<Buffer | null> {
    return this.waiting.next(
      () => {
        const chunk = this.chunk;
        this.chunk = undefined;
        return chunk;
      },
      () => this.socket.resume(),
    );
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * The chunks of a stream one at a time, as the source produced them. (A stream's own iterator
 * calls read(), which joins whatever is buffered into a new buffer: from a pipe, whose reads are
 * 64 KiB at most, that copied most bytes once more and cost kwire about 0.5 µs per packet.) The
 * stream is paused while a chunk waits here: at most one read's chunks are held.
 */
class ChunkQueue implements ChunkSource {
  private readonly queue: Buffer[] = [];
  private readonly waiting: ChunkWaiting;

  constructor(private readonly input: Readable) {
    this.waiting = new ChunkWaiting(input);
    input.on('data', (chunk: Buffer) => {
      this.queue.push(chunk);
      input.pause();
      this.waiting.settle();
    });
  }

  next(): Promise<Buffer | null> {
    return this.waiting.next(() => {
      const chunk = this.queue.shift();
      // Files read on (in the thread pool) while this chunk is analysed.
      if (chunk !== undefined && this.queue.length === 0) this.input.resume();
      return chunk;
    });
  }

  destroy(): void {
    this.input.destroy();
  }
}

/** The next chunk, or null at the end of the source or once `signal` has stopped the reading. */
async function nextChunk(chunks: ChunkSource, name: string, signal: AbortSignal | undefined): Promise<Buffer | null> {
  if (signal?.aborted) return null;
  try {
    const chunk = await chunks.next();
    return signal?.aborted ? null : chunk;
  } catch (error) {
    if (signal?.aborted) return null;
    throw inputErrorFor(name, error);
  }
}

/**
 * Decompresses through zlib's events rather than a stream iterator: an iterator drops what zlib
 * produced before an error, and that is exactly the part of a corrupt file we want to keep (zlib
 * itself discards the output of the pass that fails: at most GUNZIP_CHUNK_BYTES). Each
 * decompressed chunk is consumed as it appears; a compressed chunk is written only after the
 * previous one has been processed, which bounds memory.
 */
async function readGzip(
  first: Buffer,
  next: () => Promise<Buffer | null>,
  feeder: CaptureFeeder,
  onChunk: ChunkDone | undefined,
  stopped: () => boolean,
): Promise<CaptureSummary> {
  const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES });
  let open = true;
  gunzip.on('data', (chunk: Buffer) => {
    if (open && !feeder.push(chunk)) open = false;
  });
  let failure: Error | null = null;
  // Always listened to: an 'error' may come a tick after the callback that settled a write.
  gunzip.on('error', (error) => {
    failure ??= error;
  });
  try {
    for (let chunk: Buffer | null = first; chunk && open && !failure; chunk = await next()) {
      failure ??= await settle(gunzip, (done) => gunzip.write(chunk, done));
      await onChunk?.();
    }
    // Stopped by the signal: the end of the compressed stream never came, and that is no damage.
    if (open && !failure && !stopped()) {
      // end()'s callback comes at 'finish', before zlib has checked the end of the stream.
      gunzip.end();
      failure ??= await finished(gunzip).then(
        () => null,
        (error: Error) => error,
      );
    }
  } finally {
    gunzip.destroy();
  }
  return feeder.finish(failure ? `gzip stream corrupt: ${failure.message}` : undefined, stopped());
}

/** Waits for `start`'s callback, or for the stream to fail or close; resolves to the failure. */
function settle(stream: Transform, start: (done: (error?: Error | null) => void) => void): Promise<Error | null> {
  return new Promise((resolve) => {
    const done = (error?: Error | null) => {
      stream.off('error', done).off('close', done);
      resolve(error ?? stream.errored ?? null);
    };
    stream.once('error', done).once('close', done);
    start(done);
  });
}

/** Holds the first bytes until the format is known, then hands every chunk to its reader. */
class CaptureFeeder {
  private head: Buffer[] = [];
  private headLength = 0;
  private reader: CaptureReader | null = null;

  constructor(
    private readonly sink: CaptureSink,
    readonly name: string,
    private readonly compressed: boolean,
  ) {}

  /** Returns false once reading can stop. */
  push(chunk: Buffer): boolean {
    if (this.reader) return this.reader.push(chunk);
    this.head.push(chunk);
    this.headLength += chunk.length;
    if (this.headLength < SNIFF_BYTES) return true;
    return this.start() !== null && this.reader!.push(this.takeHead());
  }

  /** Ends the stream; `cause` says why it ended early. Throws when it was not a capture. */
  finish(cause?: string, stopped = false): CaptureSummary {
    if (!this.reader) {
      if (this.headLength === 0 && cause) throw notACapture(this.name, cause);
      if (!this.start()) throw notACapture(this.name, describeStart(this.takeHead(), this.compressed));
      this.reader!.push(this.takeHead());
    }
    return this.reader!.end(cause, stopped);
  }

  private start(): CaptureReader | null {
    this.reader = createCaptureReader(this.peekHead(), this.sink, this.name);
    return this.reader;
  }

  private peekHead(): Buffer {
    if (this.head.length > 1) this.head = [Buffer.concat(this.head)];
    return this.head[0] ?? Buffer.alloc(0);
  }

  private takeHead(): Buffer {
    const head = this.peekHead();
    this.head = [];
    return head;
  }
}

/** A reader for the format `head` (the first bytes of the stream) shows, or null. */
export function createCaptureReader(head: Buffer, sink: CaptureSink, name: string): CaptureReader | null {
  if (isPcapMagic(head)) return new PcapReader(sink, name);
  if (isPcapngMagic(head)) return new PcapngReader(sink, name);
  return null;
}

function notACapture(name: string, what: string): InputError {
  return new InputError('NOT_A_CAPTURE', `${name}: not a pcap or pcapng capture (${what})`);
}

/** The first bytes as text when they are printable, else as hex. */
function describeStart(head: Buffer, compressed: boolean): string {
  if (head.length === 0) return compressed ? 'empty after gzip decompression' : 'empty file';
  const shown = head.subarray(0, 16);
  const ellipsis = head.length > shown.length ? '…' : '';
  const printable = shown.every((byte) => (byte >= 0x20 && byte < 0x7f) || byte === 0x09 || byte === 0x0a || byte === 0x0d);
  const start = printable ? JSON.stringify(shown.toString('latin1') + ellipsis) : `0x${shown.toString('hex')}${ellipsis}`;
  return `${compressed ? 'decompressed, ' : ''}starts with ${start}`;
}

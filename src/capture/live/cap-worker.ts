/**
 * The `cap` backend's capture process: `node cap-worker.js IFACE FILTER BUFFER_KIB`. It opens the interface
 * through the optional `cap` binding (libpcap) and writes what it captures to stdout as a pcap
 * stream, which kwire reads as it reads tcpdump's (readCapture). It runs apart from kwire because
 * the binding aborts its process when the interface goes down or disappears (cap 0.2.1 asserts on
 * the poll error): only this process dies, and kwire keeps every packet it got.
 *
 * The binding gives no timestamps: each packet is stamped on arrival (microseconds). It gives no
 * drop counts either: only this process's own drops are known — packets that found kwire's queue
 * (the pipe, then QUEUE_BYTES here) full. Statistics go to stderr in tcpdump's words, on SIGUSR1
 * and at the end; SIGINT or SIGTERM stop the capture.
 */
import { Socket } from 'node:net';
import { loadCap } from './cap.js';

/** The binding's snaplen is 65535. */
const SNAPLEN = 65_535;
/** Packets are gathered into chunks of this size, written when full or FLUSH_MS after their first packet. */
const CHUNK_BYTES = 1 << 20;
/**
 * Writing per burst would hand kwire a chunk every few packets at a high rate, and kwire's cost
 * per chunk would then exceed its cost per packet; a few milliseconds of latency cost nothing.
 */
const FLUSH_MS = 5;
/** What may wait for kwire beyond the pipe before packets are dropped (and counted). */
const QUEUE_BYTES = 64 << 20;

/** The binding's link type names (its binding.cc) as LINKTYPE_* values. */
const LINKTYPES: Record<string, number> = { NULL: 0, ETHERNET: 1, RAW: 101, LINKTYPE_LINUX_SLL: 113, IEEE802_11_RADIO: 127 };

const say = (line: string) => process.stderr.write(`kwire-cap: ${line}\n`);

function fail(message: string): never {
  say(`error: ${message}`);
  process.exit(3);
}

const [iface, filter, bufferKiB] = process.argv.slice(2);
// The kernel's capture buffer for libpcap (kwire's -B): bursts wait there while this process copies.
const kernelBufferBytes = Number(bufferKiB) * 1024;
if (!(kernelBufferBytes > 0)) fail(`usage: cap-worker.js IFACE FILTER BUFFER_KIB (got buffer '${bufferKiB}')`);
const cap = loadCap();
if (cap instanceof Error) fail(cap.message.split('\n')[0]);
if (iface !== 'any' && !cap.Cap.deviceList().some((device) => device.name === iface)) fail(`${iface}: No such device exists`);

const packet = Buffer.allocUnsafe(SNAPLEN + 1);
const handle = new cap.Cap();
let linktypeName: string;
try {
  linktypeName = handle.open(iface, filter, kernelBufferBytes, packet);
} catch (error) {
  fail((error as Error).message);
}
const linktype = LINKTYPES[linktypeName] ?? Number(/(\d+)$/.exec(linktypeName)?.[1] ?? 1);

// process.stdout blocks on a full pipe (Node makes stdout pipes synchronous on Linux), which would
// leave the losses to the kernel, uncounted: a socket of our own on fd 1 queues instead.
const out = new Socket({ fd: 1, readable: false, writable: true });
const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
let used = 0;
let received = 0;
let dropped = 0;
let flushScheduled = false;

// The pcap file header: little-endian, microseconds, version 2.4.
chunk.writeUInt32LE(0xa1b2c3d4, 0);
chunk.writeUInt16LE(2, 4);
chunk.writeUInt16LE(4, 6);
chunk.fill(0, 8, 16);
chunk.writeUInt32LE(SNAPLEN, 16);
chunk.writeUInt32LE(linktype, 20);
used = 24;
// At once: a capture that ends before its first packet is still a capture.
flush();

function flush(): void {
  flushScheduled = false;
  if (used === 0) return;
  // A copy of what is used: the chunk is reused, and a flush every few milliseconds holds far less than its size.
  out.write(Buffer.from(chunk.subarray(0, used)));
  used = 0;
}

handle.on('packet', (length) => {
  received++;
  if (out.writableLength > QUEUE_BYTES) {
    dropped++;
    return;
  }
  if (used + 16 + length > CHUNK_BYTES) flush();
  const micros = Math.round((performance.timeOrigin + performance.now()) * 1000);
  chunk.writeUInt32LE(Math.floor(micros / 1e6), used);
  chunk.writeUInt32LE(micros % 1e6, used + 4);
  chunk.writeUInt32LE(length, used + 8);
  chunk.writeUInt32LE(length, used + 12);
  packet.copy(chunk, used + 16, 0, length);
  used += 16 + length;
  if (!flushScheduled) {
    flushScheduled = true;
    setTimeout(flush, FLUSH_MS);
  }
});

const stats = () => say(`${received} packets received by filter, ${dropped} packets dropped by kwire`);
process.on('SIGUSR1', stats);
let stopping = false;
const stop = () => {
  // SIGINT from kwire, SIGTERM from a user: whichever comes first stops it, once.
  if (stopping) return;
  stopping = true;
  handle.close();
  flush();
  stats();
  // The process ends once kwire has taken everything.
  out.end();
  process.off('SIGUSR1', stats);
};
process.on('SIGINT', stop).on('SIGTERM', stop);
// kwire gone (the pipe closed, or kwire killed: this process is in a group of its own, and a quiet
// interface would never show a closed pipe): nothing to capture for.
out.on('error', () => process.exit(0));
const kwire = process.ppid;
setInterval(() => {
  if (process.ppid !== kwire) process.exit(0);
}, 1000).unref();
say(`listening on ${iface}, link-type ${linktype}`);

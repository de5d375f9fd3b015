/**
 * IP fragment reassembly (IPv4, and IPv6's Fragment header) within fixed bounds, timed by capture
 * time. This is the decoder's rare path: it copies, allocates and builds string keys freely.
 *
 * Overlaps are resolved "first arrival wins": a fragment only fills bytes no earlier fragment
 * supplied, and the first last-fragment (MF=0) fixes the datagram's length. Identical duplicates
 * are therefore harmless, and the outcome never depends on anything but the arrival order.
 */

export interface FragmentLimits {
  /** Largest reassembled payload (bytes after the IP header); a fragment reaching beyond it drops the datagram. */
  maxDatagramBytes: number;
  /** Bytes held by all incomplete datagrams together (headers and payload buffers). */
  maxTotalBytes: number;
  /** Incomplete datagrams held at once. */
  maxDatagrams: number;
  /** Capture seconds after its first fragment when an incomplete datagram is dropped. */
  timeoutSeconds: number;
}

export const DEFAULT_FRAGMENT_LIMITS: FragmentLimits = {
  maxDatagramBytes: 65535,
  maxTotalBytes: 4 * 1024 * 1024,
  maxDatagrams: 1024,
  timeoutSeconds: 30,
};

/** A whole datagram: a copy of the IP header of its fragments, then the reassembled payload. */
export interface ReassembledDatagram {
  buf: Buffer;
  payloadOff: number;
  /** Protocol (IPv4) or next header (IPv6, from the first fragment's Fragment header). */
  proto: number;
}

export type FragmentOutcome = 'held' | 'fragment-overflow' | ReassembledDatagram;

interface PendingDatagram {
  firstTs: number;
  header: Buffer;
  proto: number;
  /** Payload received so far, at its offset; grows as fragments arrive. */
  payload: Buffer;
  /** Received byte ranges of the payload: sorted, disjoint, not adjacent, as [start, end) pairs. */
  received: Array<[number, number]>;
  /** Payload length, once the last fragment arrived; -1 before. */
  length: number;
}

/** Where a fragment's bytes are: `buf[off, end)` is its payload, `buf[headerOff, headerOff + headerLen)` its IP header. */
export interface Fragment {
  buf: Buffer;
  off: number;
  end: number;
  headerOff: number;
  headerLen: number;
  /** Offset of this fragment's payload within the datagram's payload, in bytes. */
  fragmentOffset: number;
  moreFragments: boolean;
  /** The upper-layer protocol, or -1 when this fragment does not say (an IPv6 fragment other than the first). */
  proto: number;
}

export class FragmentReassembler {
  private readonly limits: FragmentLimits;
  /** In order of first fragment, so the oldest datagrams are first to time out. */
  private readonly pending = new Map<string, PendingDatagram>();
  private held = 0;
  /** Incomplete datagrams dropped because their timeout passed. */
  expired = 0;

  constructor(limits: Partial<FragmentLimits> = {}) {
    this.limits = { ...DEFAULT_FRAGMENT_LIMITS, ...limits };
  }

  /** Incomplete datagrams held now. */
  get datagramsHeld(): number {
    return this.pending.size;
  }

  /** Bytes held now by incomplete datagrams. */
  get bytesHeld(): number {
    return this.held;
  }

  /**
   * Adds one fragment of the datagram `key` (which must name source, destination, identification
   * and, for IPv4, protocol). Returns the whole datagram when this fragment completed it.
   */
  add(ts: number, key: string, fragment: Fragment): FragmentOutcome {
    this.expire(ts);
    const start = fragment.fragmentOffset;
    const end = start + (fragment.end - fragment.off);
    let datagram = this.pending.get(key);
    if (end > this.limits.maxDatagramBytes) {
      if (datagram) this.drop(key, datagram);
      return 'fragment-overflow';
    }
    if (!datagram) {
      if (this.pending.size >= this.limits.maxDatagrams || this.held + fragment.headerLen > this.limits.maxTotalBytes) {
        return 'fragment-overflow';
      }
      const header = Buffer.from(fragment.buf.subarray(fragment.headerOff, fragment.headerOff + fragment.headerLen));
      datagram = { firstTs: ts, header, proto: -1, payload: Buffer.alloc(0), received: [], length: -1 };
      this.pending.set(key, datagram);
      this.held += header.length;
    }
    if (fragment.proto >= 0 && (datagram.proto < 0 || start === 0)) datagram.proto = fragment.proto;
    if (!fragment.moreFragments && datagram.length < 0) datagram.length = end;

    // Bytes beyond a known length are not part of the datagram.
    const clippedEnd = datagram.length >= 0 ? Math.min(end, datagram.length) : end;
    if (clippedEnd > datagram.payload.length && !this.grow(datagram, clippedEnd)) {
      this.drop(key, datagram);
      return 'fragment-overflow';
    }
    if (start < clippedEnd) fillHoles(datagram, start, clippedEnd, fragment.buf, fragment.off);

    if (!isComplete(datagram)) return 'held';
    this.drop(key, datagram);
    const buf = Buffer.allocUnsafe(datagram.header.length + datagram.length);
    datagram.header.copy(buf, 0);
    datagram.payload.copy(buf, datagram.header.length, 0, datagram.length);
    return { buf, payloadOff: datagram.header.length, proto: datagram.proto };
  }

  /** Drops the datagrams whose first fragment is more than the timeout older than `ts`. */
  expire(ts: number): void {
    for (const [key, datagram] of this.pending) {
      if (ts - datagram.firstTs <= this.limits.timeoutSeconds) break;
      this.drop(key, datagram);
      this.expired++;
    }
  }

  private grow(datagram: PendingDatagram, needed: number): boolean {
    const capacity =
      datagram.length >= 0 ? datagram.length : Math.min(Math.max(needed, datagram.payload.length * 2), this.limits.maxDatagramBytes);
    const growth = capacity - datagram.payload.length;
    if (this.held + growth > this.limits.maxTotalBytes) return false;
    const payload = Buffer.alloc(capacity);
    datagram.payload.copy(payload, 0);
    datagram.payload = payload;
    this.held += growth;
    return true;
  }

  private drop(key: string, datagram: PendingDatagram): void {
    this.pending.delete(key);
    this.held -= datagram.header.length + datagram.payload.length;
  }
}

/** Copies `src[srcOff ...]` into the parts of [start, end) that no earlier fragment supplied, and records them. */
function fillHoles(datagram: PendingDatagram, start: number, end: number, src: Buffer, srcOff: number): void {
  let cursor = start;
  for (const [rangeStart, rangeEnd] of datagram.received) {
    if (rangeEnd <= cursor) continue;
    if (rangeStart >= end) break;
    if (rangeStart > cursor) src.copy(datagram.payload, cursor, srcOff + cursor - start, srcOff + rangeStart - start);
    cursor = rangeEnd;
  }
  if (cursor < end) src.copy(datagram.payload, cursor, srcOff + cursor - start, srcOff + end - start);

  const merged: Array<[number, number]> = [];
  let newStart = start;
  let newEnd = end;
  let inserted = false;
  for (const range of datagram.received) {
    if (range[1] < newStart) merged.push(range);
    else if (range[0] > newEnd) {
      if (!inserted) merged.push([newStart, newEnd]);
      inserted = true;
      merged.push(range);
    } else {
      // Overlapping or adjacent: absorbed into the new range.
      newStart = Math.min(newStart, range[0]);
      newEnd = Math.max(newEnd, range[1]);
    }
  }
  if (!inserted) merged.push([newStart, newEnd]);
  datagram.received = merged;
}

function isComplete(datagram: PendingDatagram): boolean {
  const first = datagram.received[0];
  return datagram.length >= 0 && datagram.received.length === 1 && first[0] === 0 && first[1] >= datagram.length;
}

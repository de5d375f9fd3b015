/**
 * HPACK header block decoding (RFC 7541): the static table, a dynamic table per direction, integer
 * and string literals, Huffman strings. One decoder per direction of a connection, fed every header
 * block in order (the dynamic table is shared state: a block skipped would desynchronise it).
 * Never throws: a malformed block answers null, and the caller stops that direction.
 */
import type { Headers } from '../http1/index.js';
import { huffmanDecode } from './huffman.js';

/** RFC 7541 Appendix A, index 1–61. */
// prettier-ignore
const STATIC_TABLE: ReadonlyArray<readonly [string, string]> = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''],
  ['etag', ''], ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''],
  ['if-modified-since', ''], ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''],
  ['last-modified', ''], ['link', ''], ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''],
  ['proxy-authorization', ''], ['range', ''], ['referer', ''], ['refresh', ''], ['retry-after', ''],
  ['server', ''], ['set-cookie', ''], ['strict-transport-security', ''], ['transfer-encoding', ''],
  ['user-agent', ''], ['vary', ''], ['via', ''], ['www-authenticate', ''],
];

/** The table size both sides start with (SETTINGS_HEADER_TABLE_SIZE's default). */
const DEFAULT_TABLE_SIZE = 4096;
/** A peer may announce more; kwire keeps at most this much dynamic table per direction. */
export const MAX_TABLE_SIZE = 64 * 1024;
/** Header list size of one block, RFC 7541 §4.1 accounting (DESIGN.md: 64 KiB header blocks). */
const MAX_HEADER_LIST = 64 * 1024;
/** RFC 7541 §4.1: each entry costs its name and value plus 32. */
const ENTRY_OVERHEAD = 32;

export class HpackDecoder {
  /** Newest first, as dynamic indices count (62 is the newest). */
  private readonly dynamic: Array<[string, string]> = [];
  private size = 0;
  private maxSize = DEFAULT_TABLE_SIZE;

  /**
   * Decodes one complete header block; null when malformed (bad index, bad literal, a table size
   * update above the limit, a list over the budget).
   */
  decode(block: Buffer): Headers | null {
    const headers: Headers = [];
    const r = { pos: 0 };
    let listSize = 0;
    while (r.pos < block.length) {
      const first = block[r.pos];
      let entry: [string, string] | null;
      if (first & 0x80) {
        // Indexed field (§6.1).
        const index = readInteger(block, r, 7);
        entry = index === null ? null : this.entry(index);
        if (entry !== null) entry = [entry[0], entry[1]];
      } else if (first & 0x40) {
        entry = this.literal(block, r, 6); // with incremental indexing (§6.2.1)
        if (entry !== null) this.insert(entry);
      } else if (first & 0x20) {
        // Dynamic table size update (§6.3).
        const size = readInteger(block, r, 5);
        if (size === null || size > MAX_TABLE_SIZE) return null;
        this.maxSize = size;
        this.evict();
        continue;
      } else {
        entry = this.literal(block, r, 4); // without indexing or never indexed (§6.2.2, §6.2.3)
      }
      if (entry === null) return null;
      listSize += entry[0].length + entry[1].length + ENTRY_OVERHEAD;
      if (listSize > MAX_HEADER_LIST) return null;
      headers.push(entry);
    }
    return headers;
  }

  private entry(index: number): [string, string] | null {
    if (index <= 0) return null;
    if (index <= STATIC_TABLE.length) return STATIC_TABLE[index - 1] as [string, string];
    return this.dynamic[index - STATIC_TABLE.length - 1] ?? null;
  }

  private literal(block: Buffer, r: { pos: number }, prefix: number): [string, string] | null {
    const index = readInteger(block, r, prefix);
    if (index === null) return null;
    let name: string | null;
    if (index === 0) name = readString(block, r);
    else name = this.entry(index)?.[0] ?? null;
    if (name === null) return null;
    const value = readString(block, r);
    return value === null ? null : [name, value];
  }

  private insert(entry: [string, string]): void {
    const cost = entry[0].length + entry[1].length + ENTRY_OVERHEAD;
    this.dynamic.unshift(entry);
    this.size += cost;
    // An entry larger than the table empties it (§4.4).
    this.evict();
  }

  private evict(): void {
    while (this.size > this.maxSize && this.dynamic.length > 0) {
      const [name, value] = this.dynamic.pop()!;
      this.size -= name.length + value.length + ENTRY_OVERHEAD;
    }
  }
}

/** An integer with an N-bit prefix (§5.1); null past the block or beyond 2^28. */
function readInteger(block: Buffer, r: { pos: number }, prefix: number): number | null {
  if (r.pos >= block.length) return null;
  const mask = (1 << prefix) - 1;
  let value = block[r.pos++] & mask;
  if (value < mask) return value;
  for (let shift = 0; shift <= 21; shift += 7) {
    if (r.pos >= block.length) return null;
    const byte = block[r.pos++];
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return value;
  }
  return null;
}

/** A string literal (§5.2), Huffman-coded or raw; header bytes are read as latin1, as on HTTP/1. */
function readString(block: Buffer, r: { pos: number }): string | null {
  if (r.pos >= block.length) return null;
  const huffman = (block[r.pos] & 0x80) !== 0;
  const length = readInteger(block, r, 7);
  if (length === null || r.pos + length > block.length) return null;
  const bytes = block.subarray(r.pos, r.pos + length);
  r.pos += length;
  return huffman ? huffmanDecode(bytes) : bytes.toString('latin1');
}

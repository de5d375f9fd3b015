/**
 * Test-only helpers: build packets layer by layer (so that a fixture says what it is), wrap them
 * in Frames, write them to a classic pcap for tshark, and ask tshark about them.
 */
import { pcapGlobalHeader, writePcapRecordHeader } from '../../test/helpers/pcap-file.js';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { Frame } from '../model/frame.js';

export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

export function ipv4Address(text: string): Buffer {
  return Buffer.from(text.split('.').map(Number));
}

/** '2001:db8::1' → 16 bytes (no embedded IPv4 form; tests do not need it). */
export function ipv6Address(text: string): Buffer {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (part: string | undefined): number[] => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
  const left = groups(head);
  const right = groups(tail);
  const all = tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const out = Buffer.alloc(16);
  all.forEach((group, i) => out.writeUInt16BE(group, i * 2));
  return out;
}

export const MAC_A = '02:00:00:00:00:0a';
export const MAC_B = '02:00:00:00:00:0b';

export function ethernet(type: number, payload: Buffer, dst = MAC_B, src = MAC_A): Buffer {
  const header = Buffer.alloc(14);
  hex(dst.replace(/:/g, '')).copy(header, 0);
  hex(src.replace(/:/g, '')).copy(header, 6);
  header.writeUInt16BE(type, 12);
  return Buffer.concat([header, payload]);
}

/** A VLAN tag (TPID written by the caller's ethernet/type) carrying `vid`, followed by `type`. */
export function vlan(vid: number, type: number, payload: Buffer, priority = 0): Buffer {
  const tag = Buffer.alloc(4);
  tag.writeUInt16BE((priority << 13) | vid, 0);
  tag.writeUInt16BE(type, 2);
  return Buffer.concat([tag, payload]);
}

export function pppoeSession(pppProtocol: number, payload: Buffer, session = 0x1234): Buffer {
  const header = Buffer.alloc(8);
  header[0] = 0x11;
  header[1] = 0x00;
  header.writeUInt16BE(session, 2);
  header.writeUInt16BE(payload.length + 2, 4);
  header.writeUInt16BE(pppProtocol, 6);
  return Buffer.concat([header, payload]);
}

export interface Ipv4Fields {
  src: string;
  dst: string;
  proto: number;
  payload: Buffer;
  id?: number;
  dontFragment?: boolean;
  moreFragments?: boolean;
  /** In bytes (a multiple of 8). */
  fragmentOffset?: number;
  options?: Buffer;
  /** Overrides the computed total length. */
  totalLength?: number;
  ttl?: number;
}

export function ipv4(fields: Ipv4Fields): Buffer {
  const options = fields.options ?? Buffer.alloc(0);
  const header = Buffer.alloc(20 + options.length);
  header[0] = 0x40 | (header.length / 4);
  header.writeUInt16BE(fields.totalLength ?? header.length + fields.payload.length, 2);
  header.writeUInt16BE(fields.id ?? 0x1234, 4);
  const flags = (fields.dontFragment ? 0x4000 : 0) | (fields.moreFragments ? 0x2000 : 0);
  header.writeUInt16BE(flags | ((fields.fragmentOffset ?? 0) / 8), 6);
  header[8] = fields.ttl ?? 64;
  header[9] = fields.proto;
  ipv4Address(fields.src).copy(header, 12);
  ipv4Address(fields.dst).copy(header, 16);
  options.copy(header, 20);
  header.writeUInt16BE(internetChecksum(header), 10);
  return Buffer.concat([header, fields.payload]);
}

function internetChecksum(data: Buffer): number {
  let sum = 0;
  for (let i = 0; i < data.length; i += 2) sum += data.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface Ipv6Fields {
  src: string;
  dst: string;
  nextHeader: number;
  payload: Buffer;
  payloadLength?: number;
}

export function ipv6(fields: Ipv6Fields): Buffer {
  const header = Buffer.alloc(40);
  header.writeUInt32BE(0x60000000, 0);
  header.writeUInt16BE(fields.payloadLength ?? fields.payload.length, 4);
  header[6] = fields.nextHeader;
  header[7] = 64;
  ipv6Address(fields.src).copy(header, 8);
  ipv6Address(fields.dst).copy(header, 24);
  return Buffer.concat([header, fields.payload]);
}

/** A hop-by-hop, routing or destination-options header padded to `length` (a multiple of 8). */
export function ipv6Extension(nextHeader: number, payload: Buffer, length = 8): Buffer {
  const header = Buffer.alloc(length);
  header[0] = nextHeader;
  header[1] = length / 8 - 1;
  header[2] = 0x01; // PadN option covering the rest
  header[3] = length - 4;
  return Buffer.concat([header, payload]);
}

export function ipv6FragmentHeader(nextHeader: number, fragmentOffset: number, more: boolean, id: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = nextHeader;
  header.writeUInt16BE(fragmentOffset | (more ? 1 : 0), 2);
  header.writeUInt32BE(id, 4);
  return Buffer.concat([header, payload]);
}

export interface TcpFields {
  sport: number;
  dport: number;
  seq?: number;
  ack?: number;
  flags?: number;
  window?: number;
  options?: Buffer;
  payload?: Buffer;
  /** Overrides the data offset (in 4-byte words). */
  dataOffset?: number;
}

export function tcp(fields: TcpFields): Buffer {
  const options = fields.options ?? Buffer.alloc(0);
  const header = Buffer.alloc(20 + options.length);
  header.writeUInt16BE(fields.sport, 0);
  header.writeUInt16BE(fields.dport, 2);
  header.writeUInt32BE(fields.seq ?? 1000, 4);
  header.writeUInt32BE(fields.ack ?? 0, 8);
  header[12] = (fields.dataOffset ?? header.length / 4) << 4;
  header[13] = fields.flags ?? 0x18;
  header.writeUInt16BE(fields.window ?? 65535, 14);
  options.copy(header, 20);
  return Buffer.concat([header, fields.payload ?? Buffer.alloc(0)]);
}

export function udp(sport: number, dport: number, payload: Buffer, length = payload.length + 8): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt16BE(sport, 0);
  header.writeUInt16BE(dport, 2);
  header.writeUInt16BE(length, 4);
  return Buffer.concat([header, payload]);
}

export function vxlan(vni: number, innerEthernet: Buffer, flags = 0x08): Buffer {
  const header = Buffer.alloc(8);
  header[0] = flags;
  header.writeUIntBE(vni, 4, 3);
  return Buffer.concat([header, innerEthernet]);
}

export function geneve(vni: number, protocol: number, inner: Buffer, options: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(8);
  header[0] = options.length / 4;
  header.writeUInt16BE(protocol, 2);
  header.writeUIntBE(vni, 4, 3);
  return Buffer.concat([header, options, inner]);
}

/** A Frame over `data`, placed at a non-zero offset of a larger buffer as readers do. */
export function frameOf(linktype: number, data: Buffer, options: { origlen?: number; ts?: number; index?: number } = {}): Frame {
  const buf = Buffer.concat([Buffer.from('junk'), data, Buffer.from('tail')]);
  return {
    index: options.index ?? 1,
    ts: options.ts ?? 1_700_000_000,
    linktype,
    buf,
    offset: 4,
    caplen: data.length,
    origlen: options.origlen ?? data.length,
    iface: 0,
  };
}

export interface PcapRecord {
  data: Buffer;
  origlen?: number;
  ts?: number;
}

/** Writes a classic little-endian microsecond pcap. */
export function writePcap(path: string, linktype: number, records: PcapRecord[]): void {
  const parts: Buffer[] = [pcapGlobalHeader(linktype)];
  records.forEach((record, i) => {
    const recordHeader = Buffer.alloc(16);
    writePcapRecordHeader(recordHeader, 0, record.ts ?? 1_700_000_000 + i, record.data.length, record.origlen);
    parts.push(recordHeader, record.data);
  });
  writeFileSync(path, Buffer.concat(parts));
}

/** `tshark -r file -T fields -e …` as rows of columns (one row per frame); fails if tshark is missing. */
export function tsharkFields(file: string, fields: readonly string[], filter?: string): string[][] {
  const args = ['-r', file, '-T', 'fields', '-E', 'separator=\t'];
  if (filter) args.push('-Y', filter);
  for (const field of fields) args.push('-e', field);
  let output: string;
  try {
    output = execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
  } catch (error) {
    // A capture damaged part-way: tshark prints the frames before the damage, then fails.
    const stdout = (error as { stdout?: unknown }).stdout;
    if (typeof stdout !== 'string' || stdout === '') throw error;
    output = stdout;
  }
  return output
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('\t'));
}

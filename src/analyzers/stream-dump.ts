/**
 * `--streams DIR`: each flow direction's reassembled bytes in a file of its own, as tcpflow
 * writes them, so that kwire's reassembly can be checked against tcpflow byte for byte.
 *
 * Names follow tcpflow: `SRCIP.SPORT-DSTIP.DPORT` with zero-padded IPv4 octets and ports, the
 * sender first, then `--VLAN` for a tagged flow; a later connection on the same name gets
 * tcpflow's `cN` suffix. Bytes are written
 * at their stream offset, so a gap leaves a hole (a sparse run of zeros) as in tcpflow's files.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Direction, EndReason, FlowRecord, StreamFactory, StreamHandler } from '../model/flow.js';

/** File descriptors kept open at once; older ones are closed and reopened on demand (as tcpflow does). */
const MAX_OPEN_FILES = 128;

export class StreamDumpFactory implements StreamFactory {
  private readonly namesUsed = new Map<string, number>();
  /** Open descriptors in least-recently-used order. */
  readonly openFiles = new Map<DirectionFile, number>();

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  open(flow: FlowRecord): StreamHandler {
    return new StreamDump(this, [this.fileFor(flow, 0), this.fileFor(flow, 1)]);
  }

  private fileFor(flow: FlowRecord, dir: Direction): DirectionFile {
    const [from, fromPort, to, toPort] =
      dir === 0 ? [flow.src, flow.sport, flow.dst, flow.dport] : [flow.dst, flow.dport, flow.src, flow.sport];
    const vlan = flow.vlan >= 0 ? `--${flow.vlan}` : '';
    const base = `${tcpflowAddress(from)}.${pad5(fromPort)}-${tcpflowAddress(to)}.${pad5(toPort)}${vlan}`;
    const seen = this.namesUsed.get(base) ?? 0;
    this.namesUsed.set(base, seen + 1);
    const name = seen === 0 ? base : `${base}c${seen}`;
    return new DirectionFile(path.join(this.dir, name));
  }

  descriptor(file: DirectionFile): number {
    const open = this.openFiles.get(file);
    if (open !== undefined) {
      this.openFiles.delete(file);
      this.openFiles.set(file, open);
      return open;
    }
    if (this.openFiles.size >= MAX_OPEN_FILES) {
      const [oldest, fd] = this.openFiles.entries().next().value!;
      closeSync(fd);
      this.openFiles.delete(oldest);
    }
    const fd = openSync(file.path, file.created ? 'r+' : 'w');
    file.created = true;
    this.openFiles.set(file, fd);
    return fd;
  }

  close(file: DirectionFile): void {
    const fd = this.openFiles.get(file);
    if (fd === undefined) return;
    closeSync(fd);
    this.openFiles.delete(file);
  }
}

class DirectionFile {
  created = false;
  /** Stream offset of the next byte. */
  position = 0;
  constructor(readonly path: string) {}
}

class StreamDump implements StreamHandler {
  constructor(
    private readonly factory: StreamDumpFactory,
    private readonly files: [DirectionFile, DirectionFile],
  ) {}

  onData(dir: Direction, chunk: Buffer): void {
    const file = this.files[dir];
    writeSync(this.factory.descriptor(file), chunk, 0, chunk.length, file.position);
    file.position += chunk.length;
  }

  onGap(dir: Direction, bytes: number): void {
    this.files[dir].position += bytes;
  }

  onEnd(_reason: EndReason): void {
    for (const file of this.files) this.factory.close(file);
  }
}

function pad5(port: number): string {
  return String(port).padStart(5, '0');
}

/** tcpflow writes IPv4 octets zero-padded to three digits; IPv6 as it is. */
function tcpflowAddress(address: string): string {
  if (address.includes(':')) return address;
  return address
    .split('.')
    .map((octet) => octet.padStart(3, '0'))
    .join('.');
}

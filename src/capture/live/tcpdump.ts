/**
 * The `tcpdump` backend: `tcpdump -i IFACE --immediate-mode -B 65536 -U -s 0 -w - FILTER`, its pcap stream
 * read by the same reader as a file: the kernel's timestamps, and the kernel's drops from
 * tcpdump's statistics. --immediate-mode: without it libpcap hands packets over in blocks, up to a
 * second late, and the block in hand when tcpdump stops is lost.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { CaptureCommand } from './piped.js';

/** tcpdump's path, looked up in PATH and the sbin directories (a user's PATH often lacks them), or null. */
export function findTcpdump(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = path.join(dir, 'tcpdump');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * The kernel's capture buffer (tcpdump -B, KiB): libpcap's default of 2 MiB holds a few
 * milliseconds at 200,000 packets/s, less than kwire may take on a garbage collection.
 */
const KERNEL_BUFFER_KIB = 64 << 10;

export function tcpdumpCommand(tcpdump: string, iface: string, filter: string): CaptureCommand {
  return {
    backend: 'tcpdump',
    command: tcpdump,
    args: ['-i', iface, '--immediate-mode', '-B', String(KERNEL_BUFFER_KIB), '-U', '-s', '0', '-w', '-', ...(filter === '' ? [] : [filter])],
    timestamps: 'kernel',
    prefix: 'tcpdump: ',
  };
}

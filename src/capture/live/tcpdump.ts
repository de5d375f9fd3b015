/**
 * The `tcpdump` backend: `tcpdump -i IFACE -B 65536 -U -s 0 -w - FILTER`, its pcap stream read by
 * the same reader as a file: the kernel's timestamps, and the kernel's drops from tcpdump's
 * statistics.
 *
 * Not --immediate-mode: libpcap then takes packets from the kernel a block at a time (a block is
 * handed over when full, or by the kernel's timer each second), not one wake-up per packet. That
 * takes tcpdump from about 2.1 to 1.3 µs per packet at 200,000 packets/s, on the core it shares
 * with kwire (bench/RESULTS.md). The price: packets reach kwire up to a second late, and tcpdump
 * loses the block in hand when it stops, so a stop first waits for that timer (HOLDS_UP_TO_MS).
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

/** tcpdump's read timeout (1000 ms, not settable), which is the kernel's block timer, and a margin. */
const HOLDS_UP_TO_MS = 1100;

export function tcpdumpCommand(tcpdump: string, iface: string, filter: string): CaptureCommand {
  return {
    backend: 'tcpdump',
    command: tcpdump,
    args: ['-i', iface, '-B', String(KERNEL_BUFFER_KIB), '-U', '-s', '0', '-w', '-', ...(filter === '' ? [] : [filter])],
    timestamps: 'kernel',
    prefix: 'tcpdump: ',
    holdsUpToMs: HOLDS_UP_TO_MS,
  };
}

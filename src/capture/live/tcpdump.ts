/**
 * The `tcpdump` backend: `tcpdump -i IFACE -B KiB -U -s 0 -w - FILTER`, its pcap stream read by
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

/** tcpdump's read timeout (1000 ms, not settable), which is the kernel's block timer, and a margin. */
const HOLDS_UP_TO_MS = 1100;

/**
 * The kernel's capture buffer (tcpdump -B, KiB), where packets wait while kwire is busy: 128 MiB,
 * Zeek's AF_Packet default. libpcap's own 2 MiB holds about 10 ms at 200,000 packets/s. Without
 * immediate mode libpcap packs packets into blocks (TPACKET_V3), so 128 MiB holds about half a
 * second of the benchmark traffic, and it absorbed the bursts that 64 MiB did not: at 200,000
 * packets/s on one core with the database, nothing lost in 19 runs of 24 (the others when the
 * machine was slow), against 4 of 12 with 64 MiB (bench/RESULTS.md).
 */
export const TCPDUMP_BUFFER_KIB = 128 << 10;

/** `bufferKiB`: the kernel's capture buffer (-B), or null for TCPDUMP_BUFFER_KIB. */
export function tcpdumpCommand(tcpdump: string, iface: string, filter: string, bufferKiB: number | null): CaptureCommand {
  return {
    backend: 'tcpdump',
    command: tcpdump,
    args: ['-i', iface, '-B', String(bufferKiB ?? TCPDUMP_BUFFER_KIB), '-U', '-s', '0', '-w', '-', ...(filter === '' ? [] : [filter])],
    timestamps: 'kernel',
    prefix: 'tcpdump: ',
    holdsUpToMs: HOLDS_UP_TO_MS,
  };
}

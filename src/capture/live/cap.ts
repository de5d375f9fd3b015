/**
 * The `cap` backend: libpcap through the optional `cap` binding, in a capture process of its own
 * (cap-worker.ts) whose pcap stream kwire reads as it reads tcpdump's. The binding gives no
 * timestamps (the worker stamps arrival) and no kernel drops (unknown); the worker counts its own.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { CaptureCommand } from './piped.js';

/** The part of the binding kwire uses (node_modules/cap/README.md). */
export interface CapHandle {
  open(device: string, filter: string, bufferSize: number, buffer: Buffer): string;
  close(): void;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): void;
}
export interface CapModule {
  Cap: { new (): CapHandle; deviceList(): { name: string }[] };
}

/** The binding, or why it did not load (not installed, or built without libpcap-dev). */
export function loadCap(): CapModule | Error {
  try {
    return createRequire(import.meta.url)('cap') as CapModule;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/**
 * The kernel's capture buffer for the binding (KiB): 64 MiB. The binding asks libpcap for immediate
 * mode, whose ring (TPACKET_V2) has one slot per packet, sized for the largest packet: 64 KiB on an
 * interface with offloads (a veth, most NICs), in a block of 128 KiB. So 64 MiB maps 128 MiB of
 * kernel memory and holds about 1,000 packets (/proc/PID/map_files of the worker); twice that
 * would buy 1,000 more packets for 128 MiB more.
 */
export const CAP_BUFFER_KIB = 64 << 10;

/** `bufferKiB`: the kernel's capture buffer (-B), or null for CAP_BUFFER_KIB. */
export function capCommand(iface: string, filter: string, bufferKiB: number | null): CaptureCommand {
  return {
    backend: 'cap',
    command: process.execPath,
    args: [fileURLToPath(new URL('./cap-worker.js', import.meta.url)), iface, filter, String(bufferKiB ?? CAP_BUFFER_KIB)],
    timestamps: 'arrival',
    prefix: 'kwire-cap: ',
    // Immediate mode, and the worker writes everything on SIGINT.
    holdsUpToMs: 0,
  };
}

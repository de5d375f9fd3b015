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

export function capCommand(iface: string, filter: string): CaptureCommand {
  return {
    backend: 'cap',
    command: process.execPath,
    args: [fileURLToPath(new URL('./cap-worker.js', import.meta.url)), iface, filter],
    timestamps: 'arrival',
    prefix: 'kwire-cap: ',
    // Immediate mode, and the worker writes everything on SIGINT.
    holdsUpToMs: 0,
  };
}

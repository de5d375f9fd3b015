/**
 * The third-party capture corpus (../shared/captures/thirdparty) and tshark's reading of it
 * (expected-facts.tshark-4.0.17.json, the JSON twin of MANIFEST.md).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The corpus folder: KWIRE_CORPUS overrides; by default shared/ beside the checkout. */
export const corpusDir = process.env.KWIRE_CORPUS ?? path.resolve(repoRoot, '..', 'shared', 'captures', 'thirdparty');

export interface CorpusFacts {
  /** 'pcap' | 'nsecpcap' | 'pcapng' | '?' (not readable by capinfos) */
  format: string;
  linktype: string;
  /** tshark's packet count, or '?' where capinfos refused the file */
  packets: string;
  tcp_streams: number;
  truncated_pkts: number;
  retrans: number;
  out_of_order: number;
  lost_segment: number;
  vlan_pkts: number;
  ipv6_pkts: number;
  keylog: string | null;
  capinfos_error?: string;
  [other: string]: unknown;
}

let cached: Record<string, CorpusFacts> | null = null;

/** tshark's facts per capture, keyed by path relative to the corpus folder. */
export function corpusFacts(): Record<string, CorpusFacts> {
  cached ??= JSON.parse(readFileSync(path.join(corpusDir, 'expected-facts.tshark-4.0.17.json'), 'utf8'));
  return cached!;
}

export function corpusPath(relative: string): string {
  return path.join(corpusDir, relative);
}


export { repoRoot };

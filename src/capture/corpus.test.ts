/**
 * Every capture of the third-party corpus, read as tshark reads it: frame count, format, link
 * types and truncation from tshark's facts, and each frame's time, lengths and interface from
 * tshark itself.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { CaptureDamage } from '../model/capture.js';
import { corpusFacts, corpusPath } from '../../test/helpers/corpus.js';
import { readCaptureFile } from './index.js';
import { CopyingSink, pcapngBlocks } from './testing.js';

const LINKTYPE_BY_TSHARK_NAME: Record<string, number> = { null: 0, ether: 1, 'linux-sll': 113, 'linux-sll2': 276 };
/** Wireshark's WTAP_ENCAP_* values of the corpus, as LINKTYPE_* values. */
const LINKTYPE_BY_WTAP_ENCAP: Record<string, number> = { '1': 1, '15': 0, '25': 113, '210': 276 };

/** What we read where tshark's facts say '?' or report an error. */
const MALFORMED: Record<string, { frames: number; damage: CaptureDamage } | { error: string }> = {
  'node-pcap-parser/malformed.pcap': {
    error: `${corpusPath('node-pcap-parser/malformed.pcap')}: not a pcap or pcapng capture (starts with "this is not a va…")`,
  },
  // capinfos: "An error occurred after reading 1 packets … (pcapng: unknown SHB version 2.0)"
  'gopacket-pcapng/le/test901.pcapng': { frames: 1, damage: { offset: 480, message: 'unknown SHB version 2.0' } },
  // capinfos: "File has 4325376-byte packet, bigger than maximum of 262144", after 6 packets:
  // 24 + (16 + 74) + (16 + 74) + (16 + 66) + (16 + 361) + (16 + 66) + (16 + 4274) = 5035.
  'suricata-verify/bug-1450-04_tls_DER-incomplete-header.pcap': {
    frames: 6,
    damage: { offset: 5035, message: 'packet record of 4325376 bytes, bigger than the maximum of 262144' },
  },
  // capinfos: "cut short in the middle of a packet", after 1 packet: 2 bytes of a record header.
  'ndpi/fuzz-2021-10-13.pcap': {
    frames: 1,
    damage: { offset: 237, message: 'cut short in the middle of a packet record' },
  },
};

interface TsharkFrame {
  section: number;
  interfaceId: number | null;
  encap: string;
  time: { seconds: number; nanoseconds: number } | null;
  caplen: number;
  origlen: number;
}

function tsharkFrames(file: string): TsharkFrame[] {
  const fields = ['frame.section_number', 'frame.interface_id', 'frame.encap_type', 'frame.time_epoch', 'frame.cap_len', 'frame.len'];
  const run = spawnSync('tshark', ['-r', file, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8' });
  if (run.error) throw new Error(`tshark is required for the corpus tests: ${run.error.message}`);
  return run.stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => line.split('\t'))
    .filter(([, , encap]) => encap !== '') // pcapng custom blocks are records, not packets
    .map(([section, interfaceId, encap, time, caplen, origlen]) => {
      // tshark prints "%u.%09u" of seconds and nanoseconds, even when a broken file has ≥ 1e9 ns.
      const [seconds, fraction] = time!.split('.');
      return {
        section: Number(section),
        interfaceId: interfaceId === '' ? null : Number(interfaceId),
        encap: encap!,
        time: time === '' ? null : { seconds: Number(seconds), nanoseconds: Number(fraction) },
        caplen: Number(caplen),
        origlen: Number(origlen),
      };
    });
}

/** The file-wide interface id of each section's interface 0: tshark numbers them per section. */
function sectionInterfaceBases(file: Buffer): number[] {
  const bases = [0, 0];
  let seen = 0;
  for (const block of pcapngBlocks(file)) {
    if (block.type === 0x0a0d0d0a) bases[block.section] = seen;
    if (block.type === 1) seen++;
  }
  return bases;
}

const facts = corpusFacts();
const files = Object.keys(facts).sort();
const scratch = mkdtempSync(path.join(tmpdir(), 'kwire-capture-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

it('covers the whole corpus', () => {
  expect(files.length).toBe(75);
});

describe.each(files)('%s', (file) => {
  const fact = facts[file]!;
  const expected = MALFORMED[file];
  const full = corpusPath(file);

  if (expected && 'error' in expected) {
    it('is refused as not a capture', async () => {
      await expect(readCaptureFile(full, new CopyingSink())).rejects.toMatchObject({ code: 'NOT_A_CAPTURE', message: expected.error });
    });
    return;
  }

  it('reads as tshark reads it', async () => {
    const sink = new CopyingSink();
    const summary = await readCaptureFile(full, sink);
    const frames = sink.frames;

    if (expected) {
      expect(summary.damage).toEqual(expected.damage);
      expect(frames.length).toBe(expected.frames);
    } else {
      expect(summary.damage).toBeNull();
      expect(frames.length).toBe(Number(fact.packets));
      expect(summary.format).toBe(fact.format === 'nsecpcap' ? 'pcap' : fact.format);
      expect(summary.bytes).toBe(fact.size);
      if (fact.linktype !== 'per-packet') expect(summary.linktypes).toEqual([LINKTYPE_BY_TSHARK_NAME[fact.linktype]]);
    }
    expect(summary.frames).toBe(frames.length);
    expect(frames.filter((f) => f.caplen < f.origlen).length).toBe(fact.truncated_pkts);

    const oracle = tsharkFrames(full);
    expect(oracle.length).toBe(frames.length);
    const bases = summary.format === 'pcapng' ? sectionInterfaceBases(readFileSync(full)) : [];
    let previousTs = 0;
    frames.forEach((frame, i) => {
      const theirs = oracle[i]!;
      expect(frame.index).toBe(i + 1);
      expect([frame.caplen, frame.origlen]).toEqual([theirs.caplen, theirs.origlen]);
      expect(frame.data.length).toBe(frame.caplen);
      expect(frame.linktype).toBe(LINKTYPE_BY_WTAP_ENCAP[theirs.encap]);
      expect(frame.iface).toBe(theirs.interfaceId === null ? 0 : bases[theirs.section]! + theirs.interfaceId);
      if (theirs.time === null) {
        expect(frame.ts).toBe(previousTs); // a Simple Packet Block has no time of its own
      } else if (theirs.time.nanoseconds % 1000 === 0) {
        expect(Math.round(frame.ts * 1e6)).toBe(theirs.time.seconds * 1e6 + theirs.time.nanoseconds / 1000);
      } else {
        // float64 holds today's nanosecond timestamps to within 2.4e-7 s.
        expect(Math.abs(frame.ts - (theirs.time.seconds + theirs.time.nanoseconds / 1e9))).toBeLessThan(2.5e-7);
      }
      previousTs = frame.ts;
    });
  });

  it('reads the same gzip-compressed', async () => {
    const plainSink = new CopyingSink();
    const plain = await readCaptureFile(full, plainSink);
    const gzipped = path.join(scratch, `${file.replaceAll('/', '_')}.gz`);
    writeFileSync(gzipped, gzipSync(readFileSync(full)));
    const sink = new CopyingSink();
    expect(await readCaptureFile(gzipped, sink)).toEqual(plain);
    expect(sink.frames).toEqual(plainSink.frames);
  });
});

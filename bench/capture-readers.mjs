#!/usr/bin/env node
/**
 * pcap-parser against kwire's PcapReader on the same large pcap: packets/s and peak RSS, each
 * reader in its own process. Needs `npm run build` (or KWIRE_DIST pointing at a build of src/).
 *
 *   node bench/capture-readers.mjs [FILE.pcap]
 *
 * Without FILE it makes, in /tmp, a ~190 MB pcap from a corpus capture and the same file with a
 * record that claims 2 GiB after its first 16 KB (a corrupt length: what does each reader hold?).
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, openSync, readFileSync, writeSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = process.env.KWIRE_DIST ?? path.join(here, '..', 'dist');
const SEED = path.join(here, '..', '..', 'shared', 'captures', 'thirdparty', 'zeek', 'tls', 'tls-fragmented-handshake.pcap');
const LARGE_FILE = '/tmp/kwire-bench-capture-readers.pcap';
const BAD_LENGTH_FILE = '/tmp/kwire-bench-capture-readers-bad-length.pcap';
const COPIES = 500;

/** The seed's header once, then its records COPIES times. */
function makeLargePcap(file, { corruptAt = -1 } = {}) {
  const seed = readFileSync(SEED);
  if (corruptAt >= 0) seed.writeUInt32LE(2 ** 31, corruptAt + 8);
  const fd = openSync(file, 'w');
  writeSync(fd, seed, 0, 24);
  for (let i = 0; i < COPIES; i++) writeSync(fd, seed, 24);
  closeSync(fd);
}

/** The offset of the first record at or after `wanted` in the seed. */
function recordNear(wanted) {
  const seed = readFileSync(SEED);
  let offset = 24;
  while (offset < wanted) offset += 16 + seed.readUInt32LE(offset + 8);
  return offset;
}

async function runPcapParser(file) {
  const pcapParser = createRequire(import.meta.url)('pcap-parser');
  let packets = 0;
  await new Promise((resolve, reject) => {
    const parser = pcapParser.parse(createReadStream(file, { highWaterMark: 1 << 20 }));
    parser.on('packet', () => packets++);
    parser.on('end', resolve);
    parser.on('error', reject);
  });
  return packets;
}

async function runKwire(file) {
  const { readCaptureFile } = await import(pathToFileURL(path.join(dist, 'capture', 'index.js')).href);
  let packets = 0;
  const summary = await readCaptureFile(file, { frame: () => packets++, secrets() {}, interfaceStats() {} });
  if (summary.damage) console.error(`damage at ${summary.damage.offset}: ${summary.damage.message}`);
  return packets;
}

const [mode, file] = process.argv.slice(2);
if (mode === 'pcap-parser' || mode === 'kwire') {
  const started = process.hrtime.bigint();
  const packets = await (mode === 'kwire' ? runKwire(file) : runPcapParser(file));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ packets, seconds, peakRssMB: process.resourceUsage().maxRSS / 1024 }));
} else {
  const targets = mode ? [mode] : [LARGE_FILE, BAD_LENGTH_FILE];
  if (!mode && !existsSync(LARGE_FILE)) makeLargePcap(LARGE_FILE);
  if (!mode && !existsSync(BAD_LENGTH_FILE)) makeLargePcap(BAD_LENGTH_FILE, { corruptAt: recordNear(16_000) });
  for (const target of targets) measure(target);
}

function measure(target) {
  const size = readFileSync(target).length;
  console.log(`\n${target}: ${(size / 1e6).toFixed(1)} MB`);
  console.log('reader        packets     seconds   packets/s    MB/s   peak RSS MB  notes');
  for (const reader of ['pcap-parser', 'kwire']) {
    const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), reader, target], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`${reader}: ${run.stderr}`);
    const { packets, seconds, peakRssMB } = JSON.parse(run.stdout);
    console.log(
      `${reader.padEnd(12)} ${String(packets).padStart(8)} ${seconds.toFixed(2).padStart(10)} ${Math.round(packets / seconds)
        .toString()
        .padStart(11)} ${(size / 1e6 / seconds).toFixed(0).padStart(7)} ${peakRssMB.toFixed(0).padStart(13)}  ${run.stderr.trim()}`,
    );
  }
}

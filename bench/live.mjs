#!/usr/bin/env node
// `npm run bench` (after run.mjs), or alone: the live variant. Replays the benchmark capture with
// tcpreplay over a veth pair between two network namespaces at fixed packet rates, for about
// --seconds of sustained traffic (the file looped), while `kwire sniff` captures on the other end,
// pinned to one core with its capture process (tcpdump, or the cap worker), and reports what kwire
// analysed, what the kernel and kwire dropped, and what was lost in all (sent minus analysed).
// kwire prints its summary, as `sudo kwire sniff -i eth0` does, with or without its database
// (--stores none,db). Writes a dated section into bench/RESULTS.md. Needs root and tcpreplay.
//   node bench/live.mjs [--file bench/out/bench.pcap] [--rates 100000,150000,200000] [--backends cap,tcpdump]
//                       [--stores none,db] [--layouts one-core] [--seconds 20] [--buffer KiB]
// --buffer passes kwire's -B (the kernel's capture buffer); without it, kwire's defaults.
// Layouts (2 cores or more): `one-core` puts kwire and its capture process on core 1 and the replay
// on core 0; `split` leaves core 1 to kwire alone and puts the capture process with the replay;
// `db-apart` moves only kwire's database thread to a core of its own (core 2), or with two cores to
// core 0, beside the replay.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { killAll, run, runSync, start, waitExit, waitForLine, hasCommand } from './lib/proc.mjs';
import { removeStaleNamespaces } from './lib/netns.mjs';
import { readCaptureFile } from '../dist/capture/index.js';
import { CAP_BUFFER_KIB, TCPDUMP_BUFFER_KIB } from '../dist/capture/live/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const RESULTS = join(HERE, 'RESULTS.md');
/** The namespaces carry our pid with the prefix of bench/lib/netns.mjs, whose clean-up removes stale ones. */
const TX = `kwb${process.pid}-ltx`;
const RX = `kwb${process.pid}-lrx`;
const RUN_TIMEOUT_MS = 10 * 60_000;

const { values: options } = parseArgs({
  options: {
    file: { type: 'string', default: join(HERE, 'out', 'bench.pcap') },
    rates: { type: 'string', default: '100000,150000,200000' },
    backends: { type: 'string', default: 'cap,tcpdump' },
    stores: { type: 'string', default: 'none,db' },
    layouts: { type: 'string', default: 'one-core' },
    seconds: { type: 'string', default: '20' },
    buffer: { type: 'string' },
  },
});
const file = resolve(options.file);
const rates = options.rates.split(',').map((rate) => (rate === 'max' ? 'max' : Number(rate)));
const backends = options.backends.split(',');
const stores = options.stores.split(',');
const layouts = options.layouts.split(',');
const seconds = Number(options.seconds);
const bufferArgs = options.buffer === undefined ? [] : ['-B', options.buffer];
/** Packets in the file, read by kwire's own capture reader (tcpreplay loops it to last `seconds`). */
const filePackets = existsSync(file) ? (await readCaptureFile(file, { frame() {}, secrets() {}, interfaceStats() {} })).frames : 0;

/** The numbers of kwire's summary (cli/text.ts): the capture line, the live line, the flows line. */
function parseSummary(text) {
  const number = (pattern) => {
    const match = pattern.exec(text);
    if (!match) throw new Error(`kwire's summary has no ${pattern}:\n${text.slice(0, 2000)}`);
    return Number(match[1].replaceAll(',', ''));
  };
  return {
    packets: number(/^capture .*?([\d,]+) packets/m),
    received: number(/^live .*?: ([\d,]+) received/m),
    kernel: /kernel drops unknown/.test(text) ? null : number(/([\d,]+) dropped by the kernel/),
    kwireDrops: number(/([\d,]+) dropped by kwire/),
    flows: number(/^flows +([\d,]+) TCP/m),
  };
}

function unavailable() {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, capture)';
  if (!existsSync(file)) return `${relative(process.cwd(), file)} does not exist (node bench/make-capture.mjs)`;
  for (const tool of ['ip', 'tcpreplay', 'taskset']) if (!hasCommand(tool)) return `${tool} is not installed${tool === 'tcpreplay' ? ' (apt-get install tcpreplay)' : ''}`;
  return null;
}

function createPair() {
  removeStaleNamespaces();
  for (const ns of [TX, RX]) {
    runSync('ip', ['netns', 'add', ns]);
    runSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  runSync('ip', ['-n', TX, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', RX]);
  for (const ns of [TX, RX]) {
    // No IPv6: nothing of the namespaces' own joins the replayed traffic.
    runSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    // Frames as they are in the file: no merging on receive.
    if (hasCommand('ethtool')) runSync('ip', ['netns', 'exec', ns, 'ethtool', '-K', 'eth0', 'gro', 'off'], { allowFail: true });
    runSync('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  }
}

function destroyPair() {
  for (const ns of [TX, RX]) runSync('ip', ['netns', 'del', ns], { allowFail: true });
}

/** CPU seconds (user + system) a process has used so far, from /proc (clock ticks of 10 ms). */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** The thread of kwire that writes the database: live, the only one at nice 19 (store/background-thread.ts). */
async function databaseThread(pid) {
  for (let attempt = 0; attempt < 50; attempt++) {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      if (fields[16] === '19') return tid;
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`kwire (pid ${pid}) has no thread at nice 19: layout db-apart needs --stores db`);
}

/** One replay at `rate` packets/s for about `seconds` while kwire captures with `backend`, storing into a database or not. */
async function measure(backend, rate, layout, store) {
  const [kwireCpu, replayCpu] = cpus().length >= 2 ? ['1', '0'] : ['0', '0'];
  // 'max' is as fast as tcpreplay goes: loops for about 250,000 packets/s.
  const loops = Math.max(1, Math.round((seconds * (rate === 'max' ? 250_000 : rate)) / filePackets));
  const scratch = mkdtempSync(join(tmpdir(), 'kwire-bench-live-'));
  const storeArgs = store === 'db' ? ['--db', join(scratch, 'kwire.db')] : ['--no-db'];
  // `ip netns exec` and taskset exec: the child's pid is kwire's. Pinned from the start, as
  // `taskset -c 1 kwire sniff` runs: every thread and child it makes inherits the core.
  const kwire = start('ip', ['netns', 'exec', RX, 'taskset', '-c', kwireCpu, process.execPath, join(ROOT, 'bin', 'kwire'), 'sniff', '-i', 'eth0', '--backend', backend, ...bufferArgs, ...storeArgs]);
  let out = '';
  kwire.stdout.on('data', (chunk) => { out += chunk; });
  try {
    await waitForLine(kwire, kwire.stderr, /kwire: listening on/, 30_000);
    const captureProcesses = runSync('ps', ['-o', 'pid=', '--ppid', String(kwire.pid)]).split('\n').map((line) => line.trim()).filter(Boolean);
    if (layout === 'split') for (const pid of captureProcesses) runSync('taskset', ['-a', '-p', '-c', replayCpu, pid]);
    if (layout === 'db-apart') runSync('taskset', ['-p', '-c', cpus().length >= 3 ? '2' : replayCpu, await databaseThread(kwire.pid)]);
    // Batches of 100 with a nanosleep between them: the replay leaves time on its core instead of spinning.
    const speed = rate === 'max' ? ['--topspeed'] : [`--pps=${rate}`, '--pps-multi=100', '--timer=nano'];
    // -K loads the file into memory first: the disk does not set the pace.
    const replay = await run('ip', ['netns', 'exec', TX, 'taskset', '-c', replayCpu, 'tcpreplay', '-K', `--loop=${loops}`, ...speed, '-i', 'eth0', file], { timeoutMs: RUN_TIMEOUT_MS });
    const sent = Number(/Actual: (\d+) packets/.exec(replay.stdout)?.[1]);
    const replaySeconds = Number(/sent in ([\d.]+) seconds/.exec(replay.stdout)?.[1]);
    await new Promise((done) => setTimeout(done, 2000)); // the queue drains
    const cpu = { kwire: cpuSeconds(kwire.pid), capture: captureProcesses.reduce((sum, pid) => sum + cpuSeconds(pid), 0) };
    const peakRss = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${kwire.pid}/status`, 'utf8'))?.[1]) / 1024;
    kwire.kill('SIGINT');
    await waitExit(kwire, 120_000);
    const summary = parseSummary(out);
    return {
      layout, backend, store, rate, seconds: replaySeconds, sent, pps: Math.round(sent / replaySeconds), ...summary,
      lost: sent - summary.packets, kwireCpu: cpu.kwire, captureCpu: cpu.capture, peakRss,
    };
  } finally {
    kwire.kill('SIGKILL');
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** tcpreplay prints its version on stderr. */
function tcpreplayVersion() {
  const result = spawnSync('tcpreplay', ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return `${result.stdout ?? ''}${result.stderr ?? ''}`.split('\n')[0].trim();
}

function section(rows) {
  const now = new Date().toISOString().replace('T', ' ').slice(0, 16);
  const count = (n) => (n === null || n === undefined || Number.isNaN(n) ? '—' : n.toLocaleString('en-US'));
  const lines = [
    `## ${now} UTC — live capture (kwire sniff), ${relative(ROOT, file)} replayed over a veth pair, about ${seconds} s per run`,
    '',
    `- CPU: ${cpus()[0]?.model ?? '?'}, ${cpus().length} cores; load average at start ${loadAtStart}; node ${process.version}; ${tcpreplayVersion()}`,
    '- how: `tcpreplay -K --loop=N --pps=RATE --pps-multi=100 --timer=nano` on one end of a veth pair between two network',
    '  namespaces, pinned to core 0 with the kernel\'s delivery (which runs in the sender\'s context on a veth); the',
    `  file (${count(filePackets)} packets) looped to last about ${seconds} s. \`kwire sniff -i eth0\` on the other end, printing its`,
    `  summary as a user runs it (${options.buffer === undefined ? `kwire's default kernel buffer: -B ${TCPDUMP_BUFFER_KIB} with tcpdump, ${CAP_BUFFER_KIB} with cap` : `-B ${options.buffer}`}),`,
    '  with `--no-db` (store `none`) or into a database (`db`), pinned with `taskset` (all',
    '  its threads) to core 1. Layout `one-core`: its capture process (tcpdump, or the cap worker) on core 1 too;',
    '  `split`: on core 0, beside the replay; `db-apart`: only kwire\'s database thread apart (core 2, or core 0 beside',
    '  the replay on 2 cores).',
    '  SIGINT 2 s after the replay. "lost" is packets sent minus packets',
    '  analysed: drops anywhere (the kernel, kwire), counted or not. CPU seconds include start-up and the end.',
    '',
    '| layout | backend | store | target pps | achieved pps | s | sent | analysed | dropped by kernel | dropped by kwire | lost | lost % | flows | CPU s kwire | CPU s capture process | µs per packet, both | peak RSS MB |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((row) =>
      `| ${row.layout} | ${row.backend} | ${row.store} | ${row.rate === 'max' ? 'max' : count(row.rate)} | ${count(row.pps)} | ${row.seconds.toFixed(1)} | ${count(row.sent)} | ${count(row.packets)} | ` +
      `${row.kernel === null ? 'unknown (cap)' : count(row.kernel)} | ${count(row.kwireDrops)} | ${count(row.lost)} | ${((100 * row.lost) / row.sent).toFixed(2)} | ${count(row.flows)} | ` +
      `${row.kwireCpu.toFixed(2)} | ${row.captureCpu.toFixed(2)} | ${((1e6 * (row.kwireCpu + row.captureCpu)) / row.packets).toFixed(2)} | ${Math.round(row.peakRss)} |`),
    '',
  ];
  return lines.join('\n');
}

function writeResults(text) {
  const old = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Benchmark results\n\n';
  const at = old.indexOf('\n## ');
  writeFileSync(RESULTS, at < 0 ? `${old}\n${text}` : `${old.slice(0, at + 1)}${text}\n${old.slice(at + 1)}`);
}

const loadAtStart = loadavg().map((n) => n.toFixed(2)).join(' ');

async function main() {
  const reason = unavailable();
  if (reason) {
    console.log(`bench live: skipped: ${reason}`);
    return;
  }
  const stopAll = () => { killAll(); destroyPair(); process.exit(1); };
  process.once('SIGINT', stopAll).once('SIGTERM', stopAll);
  const rows = [];
  createPair();
  try {
    for (const layout of layouts) {
      for (const backend of backends) {
        for (const store of stores) {
          for (const rate of rates) {
            const row = await measure(backend, rate, layout, store);
            console.log(JSON.stringify(row));
            rows.push(row);
          }
        }
      }
    }
  } finally {
    killAll();
    destroyPair();
  }
  const text = section(rows);
  writeResults(text);
  console.log(`\n${text}\nbench live: written to ${relative(process.cwd(), RESULTS)}`);
}

main().catch((error) => {
  console.error(`bench live: ${error.message}`);
  killAll();
  destroyPair();
  process.exit(1);
});

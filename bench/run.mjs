#!/usr/bin/env node
// `npm run bench`: times kwire, tcpdump, tshark and tcpflow on the same capture (several runs
// each, median) and writes bench/RESULTS.md. Benchmarks print figures; they never pass or fail.
//   node bench/run.mjs [--runs 3] [--file bench/out/bench.pcap] [--only kwire[,tshark...]]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, createReadStream } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { countCaptureCached } from './count-capture.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const DEFAULT_FILE = join(HERE, 'out', 'bench.pcap');
const SAMPLE = join(ROOT, 'captures', 'sample-tls-http.pcap');
const RESULTS = join(HERE, 'RESULTS.md');
const RUN_TIMEOUT_MS = 30 * 60_000;
const RSS_POLL_MS = 20;
const GNU_TIME = '/usr/bin/time';

const { values: options } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    file: { type: 'string', default: DEFAULT_FILE },
    only: { type: 'string' },
  },
});
const runs = Number(options.runs);
if (!(Number.isInteger(runs) && runs >= 1 && runs <= 20)) throw new Error(`--runs must be 1..20, got ${options.runs}`);
const file = resolve(options.file);
const only = options.only ? new Set(options.only.split(',')) : null;

// Output of a short informational command (some tools print their version with a non-zero exit).
function sh(cmd, args) {
  const result = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  return result.error ? '' : `${result.stdout}${result.stderr}`.trim();
}

// Each tool reads the whole file and does its own full job; output goes to /dev/null (or a temp
// dir for tcpflow, deleted after each run) so that terminals and disks do not set the pace.
const TOOLS = [
  {
    name: 'kwire', what: 'read --json: its whole pipeline as built at this commit',
    command: (path) => [process.execPath, [join(ROOT, 'bin', 'kwire'), 'read', path, '--no-db', '-q', '--json']],
  },
  {
    name: 'kwire+db', what: 'read: findings, the summary, and every flow stored in SQLite (--db, what users run)',
    command: (path, scratch) => [process.execPath, [join(ROOT, 'bin', 'kwire'), 'read', path, '-q', '--db', join(scratch, 'kwire.db')]],
  },
  {
    name: 'kwire+keys', what: 'read --json --keylog: the same with every TLS connection decrypted (the key log beside the capture)',
    command: (path) => [process.execPath, [join(ROOT, 'bin', 'kwire'), 'read', path, '--keylog', path.replace(/\.pcap$/, '.keys'), '--no-db', '-q', '--json']],
  },
  {
    name: 'tcpdump', what: 'decodes and prints every packet (-n, no reassembly)',
    command: (path) => ['tcpdump', ['-n', '-r', path]],
  },
  {
    name: 'tshark', what: 'full dissection with a display filter (-q -Y frame)',
    command: (path) => ['tshark', ['-r', path, '-q', '-Y', 'frame']],
  },
  {
    name: 'tcpflow', what: 'reassembles every TCP flow to files',
    command: (path, scratch) => ['tcpflow', ['-r', path, '-o', scratch]],
  },
];

/** Why a tool cannot run here, or null. kwire must also read the sample capture successfully. */
function unavailable(tool) {
  if (tool.name === 'kwire') {
    if (!existsSync(join(ROOT, 'bin', 'kwire'))) return 'bin/kwire does not exist yet';
    const probe = spawnSync(process.execPath, [join(ROOT, 'bin', 'kwire'), 'read', SAMPLE, '--no-db', '-q', '--json'],
      { encoding: 'utf8', timeout: 60_000 });
    if (probe.status !== 0) {
      const lines = (probe.stderr || '').trim().split('\n');
      const reason = lines.find((line) => /error/i.test(line)) ?? lines.pop();
      return `\`kwire read\` on the sample capture exited ${probe.status ?? probe.signal}: ${reason}`;
    }
    return null;
  }
  if (tool.name === 'kwire+keys' && !existsSync(file.replace(/\.pcap$/, '.keys'))) return `no key log beside ${relative(ROOT, file)} (make-capture.mjs writes one)`;
  return sh('sh', ['-c', `command -v ${tool.command('x', 'x')[0]}`]) ? null : `${tool.name} is not installed`;
}

// Peak RSS: GNU time's %M when /usr/bin/time exists (package "time", not always installed);
// otherwise VmHWM sampled from /proc every RSS_POLL_MS (a lower bound for very short runs).
function measure(cmd, args) {
  return new Promise((resolveRun, reject) => {
    const useTime = existsSync(GNU_TIME);
    const scratch = mkdtempSync(join(dirname(file), '.bench-time-'));
    const timeFile = join(scratch, 'time');
    const child = useTime
      ? spawn(GNU_TIME, ['-f', '%e %U %S %M', '-o', timeFile, cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const started = process.hrtime.bigint();
    let peakKb = 0;
    let stderr = '';
    child.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-2000); });
    const poll = useTime ? null : setInterval(() => {
      try {
        const match = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (match) peakKb = Math.max(peakKb, Number(match[1]));
      } catch { /* exited between polls */ }
    }, RSS_POLL_MS);
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      const wall = Number(process.hrtime.bigint() - started) / 1e9;
      let result = { code, wall, cpu: null, rssMb: peakKb / 1024, stderr };
      if (useTime && existsSync(timeFile)) {
        // GNU time prints "Command exited with non-zero status N" before the format line.
        const [elapsed, user, system, maxKb] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
        result = { ...result, wall: elapsed, cpu: user + system, rssMb: maxKb / 1024 };
      }
      rmSync(scratch, { recursive: true, force: true });
      resolveRun(result);
    });
  });
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

function machine() {
  const firstLine = (text) => text.split('\n')[0];
  return [
    `- CPU: ${cpus()[0]?.model ?? 'unknown'}, ${sh('nproc', [])} cores available; memory ${(totalmem() / 2 ** 30).toFixed(1)} GiB; load average at start ${loadavg().map((v) => v.toFixed(2)).join(' ')}`,
    `- OS: ${sh('uname', ['-sr'])}; node ${process.version}`,
    `- tools: ${firstLine(sh('tcpdump', ['--version']))}, ${sh('tcpdump', ['--version']).split('\n')[1] ?? ''}; ${firstLine(sh('tshark', ['--version'])).replace(/\.$/, '')}; ${sh('tcpflow', ['--version'])}`,
    `- kwire: ${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version} at commit ${sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']) || 'unknown'}${sh('git', ['-C', ROOT, 'status', '--porcelain']) ? ' (uncommitted changes)' : ''}`,
  ].join('\n');
}

async function describeFile(path) {
  const packets = Number(sh('capinfos', ['-M', '-T', '-r', '-c', path]).split('\t').pop()) || null;
  const counts = await countCaptureCached(path);
  return {
    sizeMb: statSync(path).size / 1e6,
    packets: packets ?? null,
    text: `- \`${relative(ROOT, path)}\`: ${(statSync(path).size / 1e6).toFixed(1)} MB, ${packets ?? '?'} packets, ` +
      `${counts.tcpConnections} TCP connections, ${counts.tlsClientHellos} TLS handshakes (${counts.tls12} TLS 1.2, ${counts.tls13} TLS 1.3, ` +
      `${counts.resumed} resumed, ${counts.clientCertificates} with a client certificate), ${counts.httpRequests} HTTP requests ` +
      `(${counts.httpRequestsInTls} inside TLS) — counts as tshark reads it with the key log`,
  };
}

async function readWholeFile(path) {
  // Page cache warm-up, so the first tool timed does not pay for the disk alone.
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) void chunk;
}

function section(date, setup, fileText, rows, notes, sizeMb, packets) {
  const kwire = rows.find((row) => row.name === 'kwire' && row.wall !== null);
  const lines = [
    `## ${date} — ${relative(ROOT, file)}, ${runs} run${runs > 1 ? 's' : ''} each`,
    '',
    setup,
    fileText,
    '',
    '| tool | does | median wall s | CPU s (user+sys) | packets/s | MB/s | peak RSS MB | wall vs kwire |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    if (row.wall === null) {
      lines.push(`| ${row.name} | ${row.what} | — | — | — | — | — | — |`);
      continue;
    }
    lines.push(`| ${row.name} | ${row.what} | ${row.wall.toFixed(2)} | ${row.cpu === null ? '—' : row.cpu.toFixed(2)} | ` +
      `${packets ? Math.round(packets / row.wall).toLocaleString('en-US') : '—'} | ${(sizeMb / row.wall).toFixed(1)} | ${row.rssMb.toFixed(0)} | ` +
      `${kwire ? `${(row.wall / kwire.wall).toFixed(2)}×` : '—'} |`);
  }
  lines.push('', ...notes.map((note) => `- ${note}`), '');
  return lines.join('\n');
}

function writeResults(newSection) {
  const intro = '# Benchmark results\n\nWritten by `npm run bench` (bench/run.mjs); the newest run first. ' +
    'Each row is the median of the runs; "wall vs kwire" is the tool\'s wall time over kwire\'s (above 1: slower than kwire).\n\n';
  const old = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '';
  const previous = old.includes('\n## ') ? old.slice(old.indexOf('\n## ') + 1) : '';
  writeFileSync(RESULTS, intro + newSection + (previous ? '\n' + previous : ''));
}

async function main() {
  if (!existsSync(file)) {
    if (file !== DEFAULT_FILE) throw new Error(`${file} does not exist`);
    console.log('bench: no capture yet; making it (node bench/make-capture.mjs --scale 1)');
    const made = spawnSync(process.execPath, [join(HERE, 'make-capture.mjs'), '--scale', '1', '--out', file], { stdio: 'inherit' });
    if (made.status !== 0) throw new Error('make-capture failed');
  }
  const date = new Date().toISOString().replace(/:\d\d\.\d+Z$/, ' UTC').replace('T', ' ');
  // Taken before the runs: the commit (and load) of the code that is timed, whatever happens meanwhile.
  const setup = machine();
  const notes = [];
  const tools = TOOLS.filter((tool) => !only || only.has(tool.name)).map((tool) => ({ ...tool, why: unavailable(tool), results: [] }));
  for (const tool of tools) {
    if (tool.why) {
      const note = `${tool.name} skipped: ${tool.why}.${tool.name === 'kwire' ? ' Once \`npm run build && node bin/kwire read FILE --no-db -q --json\` works, \`npm run bench\` fills the row (a new dated section).' : ''}`;
      console.log(`bench: ${note}`);
      notes.push(note);
    }
  }
  console.log(`bench: describing ${relative(ROOT, file)} (tshark pass)`);
  const described = await describeFile(file);
  await readWholeFile(file);
  // Interleave tools within each round so that drifting machine load spreads over all of them.
  for (let round = 1; round <= runs; round++) {
    for (const tool of tools.filter((candidate) => !candidate.why)) {
      const scratch = mkdtempSync(join(dirname(file), '.bench-out-'));
      const [cmd, args] = tool.command(file, scratch);
      const result = await measure(cmd, args);
      rmSync(scratch, { recursive: true, force: true });
      if (result.code !== 0) {
        notes.push(`${tool.name} run ${round} exited ${result.code}: ${result.stderr.trim().split('\n').pop()}`);
      }
      tool.results.push(result);
      console.log(`bench: ${tool.name} run ${round}/${runs}: ${result.wall.toFixed(2)} s wall, ${result.rssMb.toFixed(0)} MB peak RSS${result.code ? ` (exit ${result.code})` : ''}`);
    }
  }
  if (!existsSync(GNU_TIME)) notes.push(`peak RSS sampled from /proc every ${RSS_POLL_MS} ms (no ${GNU_TIME}); CPU time not measured`);
  const rows = tools.map((tool) => tool.results.length === 0
    ? { name: tool.name, what: tool.what, wall: null }
    : {
      name: tool.name, what: tool.what,
      wall: median(tool.results.map((r) => r.wall)),
      cpu: tool.results.every((r) => r.cpu !== null) ? median(tool.results.map((r) => r.cpu)) : null,
      rssMb: Math.max(...tool.results.map((r) => r.rssMb)),
    });
  const text = section(date, setup, described.text, rows, notes, described.sizeMb, described.packets);
  writeResults(text);
  console.log(`\n${text}\nbench: written to ${relative(process.cwd(), RESULTS)}`);
}

main().catch((error) => {
  console.error(`bench: ${error.message}`);
  process.exit(1);
});

/**
 * `kwire sniff` end to end: the small cluster of test/stacks/cluster/ in network namespaces
 * (198.18.0.0/15 only), kwire capturing live on its bridge with each backend while real TLS stacks
 * (curl and node:https with OpenSSL, Go crypto/tls, kubectl, openssl s_server) walk several paths
 * of the Kubernetes page; then SIGINT. Each flow must carry the path, roles and rule ids of the
 * scenarios table, the database must hold the run, and `kwire read` of the pcapng that `--write`
 * saved must give the same flows. Also: the errors a user meets (exit 2, one line naming the
 * interface), and the interface going down mid-capture (exit 0, a warning, everything kept).
 * Skipped, with the reason, without root or a tool; every wait is bounded, every process killed
 * in finally, the namespaces removed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KwireDocument } from '../src/lib.js';
import { SCENARIOS, placements, writeClusterFiles, type Scenario } from './stacks/cluster/scenarios.js';
import { createCtx, destroyCtx, type Ctx, type Running } from './stacks/cluster/stacks.js';
import { hasTool } from './stacks/stacks.js';
import { STEP_TIMEOUT_MS, sleep, waitForOutput } from './stacks/processes.js';
import { repoRoot } from './helpers/corpus.js';
import { kwire } from './helpers/cli.js';
import { CAP_BUFFER_KIB, TCPDUMP_BUFFER_KIB } from '../src/capture/live/index.js';

const KWIRE = path.join(repoRoot, 'bin', 'kwire');
/** Several paths, secure and not, through every kind of stack the scenarios use. */
const PICKED = [
  'node-apiserver-mtls', // curl → node:https, mutual TLS
  'pod-apiserver-plaintext', // KW001 KW005 KW013
  'client-apiserver-kubectl', // kubectl → Go crypto/tls, TLS 1.3
  'client-apiserver-weak-tls', // curl → openssl s_server, CBC
  'apiserver-kubelet-selfsigned', // KW003
  'client-kubelet-anonymous-tls13', // Go → Go, inferred KW004
  'apiserver-service-proxy-http', // via apiserver-proxy
  'apiserver-etcd-no-client-cert', // KW004
  'tunnel-konnectivity',
];
const picked: Scenario[] = PICKED.map((name) => SCENARIOS.find((scenario) => scenario.name === name)!);

function blocker(): string | null {
  if (process.getuid?.() !== 0) return 'needs root for network namespaces and capture';
  const missing = ['ip', 'ethtool', 'tcpdump', 'openssl', 'curl', 'go', 'kubectl'].filter((tool) => !hasTool(tool));
  if (missing.length > 0) return `${missing.join(', ')} not installed`;
  return null;
}

function capBlocker(): string | null {
  const probe = spawnSync(process.execPath, ['-e', "require('cap')"], { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 });
  return probe.status === 0 ? null : 'the optional cap module did not load (apt-get install libpcap-dev && npm rebuild cap)';
}


/** A flow as both a live run and its replay must see it. */
const flowFacts = (doc: KwireDocument) =>
  doc.flows.map(({ id, src, sport, dst, dport, packets, bytes, state, path, via, protocol, roles }) => ({ id, src, sport, dst, dport, packets, bytes, state, path, via, protocol, roles }));

interface Sniffing {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `kwire sniff` in the bridge's namespace and waits until it listens. */
function startSniff(ctx: Ctx, args: string[]): Promise<Sniffing> {
  return listening(spawn('ip', ['netns', 'exec', ctx.topo.bridgeNs, process.execPath, KWIRE, 'sniff', ...args], { cwd: ctx.work, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** Starts `kwire sniff` in this test's own namespace (loopback) and waits until it listens. */
function startSniffHere(args: string[]): Promise<Sniffing> {
  return listening(spawn(process.execPath, [KWIRE, 'sniff', ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
}

async function listening(child: ChildProcess): Promise<Sniffing> {
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  child.stderr!.on('data', (chunk) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  try {
    await waitForOutput(child, 'kwire: listening on');
  } catch (error) {
    await stopKwire(child);
    throw error;
  }
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** SIGINT, then the exit status (SIGKILL after the bound). */
async function interrupt(sniffing: Sniffing): Promise<number | null> {
  sniffing.child.kill('SIGINT');
  return exitOf(sniffing);
}

async function exitOf(sniffing: Sniffing): Promise<number | null> {
  const timer = setTimeout(() => sniffing.child.kill('SIGKILL'), 3 * STEP_TIMEOUT_MS);
  try {
    return await sniffing.exited;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * For finally blocks: a kwire still running is stopped as a user would stop it, so that it stops
 * its capture process (in a process group of its own, which a SIGKILL to kwire would leave behind).
 */
async function stopKwire(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('close', resolve));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3 * STEP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/** The capture process of a kwire that listens (its only child). */
function captureProcessOf(sniffing: Sniffing): string {
  const children = spawnSync('ps', ['-o', 'pid=', '--ppid', String(sniffing.child.pid)], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean);
  expect(children).toHaveLength(1);
  return children[0];
}

/**
 * The bytes of the kernel's capture ring in a process's memory: libpcap maps it from the packet
 * socket, which /proc/PID/map_files names (root only).
 */
function ringBytes(pid: string): number {
  let bytes = 0;
  for (const range of readdirSync(`/proc/${pid}/map_files`)) {
    if (!readlinkSync(`/proc/${pid}/map_files/${range}`).startsWith('socket:')) continue;
    const [start, end] = range.split('-').map((hex) => Number.parseInt(hex, 16));
    bytes += end - start;
  }
  return bytes;
}

/** A scenario's traffic, as recordScenario runs it, without its tcpdump: kwire is capturing. */
async function runTraffic(ctx: Ctx, scenario: Scenario): Promise<void> {
  const running: Running[] = [];
  try {
    for (const start of scenario.servers) running.push(await start(ctx));
    for (const client of scenario.clients) await client(ctx);
  } finally {
    for (const server of running.reverse()) await server.close();
  }
}

const reason = blocker();

describe('kwire sniff on a cluster in network namespaces', () => {
  let ctx: Ctx | null = null;
  let work = '';

  beforeAll(() => {
    if (reason !== null) return;
    const created = createCtx('kwire-sniff-');
    ctx = created;
    work = created.work;
    writeClusterFiles(created, work);
  }, 300_000);

  afterAll(() => destroyCtx(ctx));

  for (const backend of ['tcpdump', 'cap'] as const) {
    const skip = reason ?? (backend === 'cap' ? capBlocker() : null);
    it.skipIf(skip !== null)(`--backend ${backend}: flows, paths, findings and database rows; the --write file replays the same${skip ? ` (skipped: ${skip})` : ''}`, async () => {
      const c = ctx!;
      const db = path.join(work, `${backend}.db`);
      const saved = path.join(work, `${backend}.pcapng`);
      const cluster = path.join(work, 'cluster.yaml');
      const sniffing = await startSniff(c, ['-i', 'br0', 'tcp', '--backend', backend, '--cluster', cluster, '--db', db, '--write', saved, '--json']);
      let status: number | null;
      try {
        for (const scenario of picked) await runTraffic(c, scenario);
        await sleep(500); // the last segments (FIN, ACK) reach the capture
        status = await interrupt(sniffing);
      } finally {
        await stopKwire(sniffing.child);
      }
      expect(status, sniffing.stderr()).toBe(0);
      const doc = JSON.parse(sniffing.stdout()) as KwireDocument;

      expect(placements(doc)).toEqual(picked.flatMap((scenario) => scenario.flows));
      expect(doc.flows.every((flow) => flow.state === 'closed' || flow.state === 'reset'), JSON.stringify(doc.flows.map((flow) => flow.state))).toBe(true);
      expect(doc.capture).toMatchObject({ source: 'br0', format: 'live', linktypes: ['ETHERNET'], decodeErrors: 0 });
      expect(doc.capture.interrupted).toBeUndefined();
      expect(doc.capture.live).toMatchObject({ interface: 'br0', backend, filter: 'tcp', droppedByKwire: 0, ended: null, timestamps: backend === 'cap' ? 'arrival' : 'kernel' });
      expect(doc.capture.live!.received).toBeGreaterThanOrEqual(doc.capture.packets);
      expect(doc.capture.dropped).toBe(backend === 'cap' ? null : 0);

      // The database holds the same run.
      const sql = new Database(db, { readonly: true });
      try {
        const capture = sql.prepare('SELECT source, format, finished, packets, dropped, summary FROM captures').get() as Record<string, unknown>;
        expect(capture).toMatchObject({ source: 'br0', format: 'live', packets: doc.capture.packets, dropped: doc.capture.dropped });
        expect(capture.finished).not.toBeNull();
        expect(JSON.parse(capture.summary as string).live).toEqual(doc.capture.live);
        const flows = sql.prepare('SELECT id, path, via, client_role AS client, server_role AS server FROM flows ORDER BY id').all();
        expect(flows).toEqual(doc.flows.map(({ id, path, via, roles }) => ({ id, path, via, client: roles.client, server: roles.server })));
        const rules = sql.prepare('SELECT flow_id AS flowId, rule FROM findings ORDER BY flow_id, rule').all();
        expect(rules).toEqual(doc.findings.map(({ flowId, rule }) => ({ flowId, rule })).sort((a, b) => a.flowId - b.flowId || a.rule.localeCompare(b.rule)));
      } finally {
        sql.close();
      }

      // The saved packets replay to the same flows and findings.
      const replay = kwire(['read', saved, '--json', '--cluster', cluster, '--no-db', '-q']);
      expect(replay.status, replay.stderr).toBe(0);
      const replayed = JSON.parse(replay.stdout) as KwireDocument;
      expect(replayed.capture).toMatchObject({ format: 'pcapng', packets: doc.capture.packets, dropped: doc.capture.dropped });
      expect(flowFacts(replayed)).toEqual(flowFacts(doc));
      expect(placements(replayed)).toEqual(placements(doc));
    }, 240_000);

    it.skipIf(skip !== null)(`--backend ${backend}: the interface going down stops the capture cleanly (exit 0, a warning, the run stored)${skip ? ` (skipped: ${skip})` : ''}`, async () => {
      const c = ctx!;
      const ns = c.topo.bridgeNs;
      // A veth pair of its own (a dummy needs a module the kernel may lack); deleting one end removes both.
      const iface = `kwdown-${backend}`.slice(0, 15);
      const ip = (...args: string[]) => expect(spawnSync('ip', ['-n', ns, ...args], { timeout: STEP_TIMEOUT_MS }).status, `ip ${args.join(' ')}`).toBe(0);
      ip('link', 'add', iface, 'type', 'veth', 'peer', 'name', `${iface.slice(0, 13)}-p`);
      ip('link', 'set', iface, 'up');
      const db = path.join(work, `${backend}-down.db`);
      const sniffing = await startSniff(c, ['-i', iface, '--backend', backend, '--db', db, '-q', '--json']);
      let status: number | null;
      try {
        ip('link', 'del', iface);
        status = await exitOf(sniffing);
      } finally {
        await stopKwire(sniffing.child);
        spawnSync('ip', ['-n', ns, 'link', 'del', iface], { timeout: STEP_TIMEOUT_MS });
      }
      expect(status, sniffing.stderr()).toBe(0);
      expect(sniffing.stderr()).toMatch(new RegExp(`^kwire: warning: ${iface}: .*(went down|disappeared|No such device).*; kept the 0 packets captured$`, 'm'));
      const doc = JSON.parse(sniffing.stdout()) as KwireDocument;
      expect(doc.capture.live!.ended).toMatch(/went down|disappeared|No such device/);
      const sql = new Database(db, { readonly: true });
      try {
        expect(sql.prepare('SELECT source, format, finished IS NOT NULL AS finished FROM captures').get()).toEqual({ source: iface, format: 'live', finished: 1 });
      } finally {
        sql.close();
      }
    }, 60_000);
  }
});

describe('kwire sniff: usage', () => {
  const usageError = (args: string[]) => {
    const result = kwire(['sniff', ...args, '--no-db']);
    expect(result.status).toBe(2);
    expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    return result.stderr;
  };

  it('names what is wrong: no interface, a bad backend, count or duration', () => {
    expect(usageError(['tcp'])).toBe('kwire: sniff: name the interface with -i (for example -i eth0, or -i any)\n');
    expect(usageError(['-i', 'lo', '--backend', 'pcap'])).toBe("kwire: sniff: --backend takes auto, cap, tcpdump (got 'pcap')\n");
    expect(usageError(['-i', 'lo', '--count', '0'])).toBe("kwire: sniff: --count takes a positive integer (got '0')\n");
    expect(usageError(['-i', 'lo', '--duration', 'soon'])).toBe("kwire: sniff: --duration takes a positive number of seconds (got 'soon')\n");
    expect(usageError(['-i', 'lo', '--json', '--ndjson'])).toBe('kwire: sniff: --json and --ndjson are exclusive\n');
    expect(usageError(['-i', 'lo', '-B', '0'])).toBe("kwire: sniff: --buffer-size takes a positive integer of KiB (got '0')\n");
    // libpcap takes the size in bytes, as an int.
    expect(usageError(['-i', 'lo', '--buffer-size', '2097152'])).toBe("kwire: sniff: --buffer-size takes at most 2097151 KiB (got '2097152')\n");
  });

  it('--help shows the command, its backends and its exit status', () => {
    const result = kwire(['sniff', '--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Usage: kwire sniff -i IFACE \[BPF EXPRESSION\.\.\.\]/);
    expect(result.stdout).toContain('--backend NAME');
    expect(result.stdout).toContain('setcap cap_net_raw,cap_net_admin+eip');
    expect(kwire(['--help']).stdout).toContain('kwire sniff -i IFACE');
  });

  it.skipIf(!hasTool('tcpdump'))(`a temporary directory that cannot be written says so in one line${hasTool('tcpdump') ? '' : ' (skipped: tcpdump not installed)'}`, () => {
    // The capture process writes into a FIFO made there.
    const result = spawnSync(process.execPath, [KWIRE, 'sniff', '-i', 'lo', '--backend', 'tcpdump', '--no-db', '--duration', '1'], {
      env: { ...process.env, TMPDIR: '/nonexistent/kwire-tmp' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('kwire: lo: cannot make a pipe for the capture in /nonexistent/kwire-tmp (ENOENT): set TMPDIR to a writable directory\n');
  });

  it('--write to a directory that does not exist fails before capturing', () => {
    const result = kwire(['sniff', '-i', 'lo', '--write', '/nonexistent-dir/x.pcapng', '--no-db']);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('kwire: /nonexistent-dir/x.pcapng: cannot write the capture (ENOENT)\n');
  });
});

describe('kwire sniff: what a user gets wrong (exit 2, one line naming the interface)', () => {
  const rootBlocker = process.getuid?.() !== 0 ? 'needs root to open an interface' : null;
  const backends = (['tcpdump', 'cap'] as const).map((backend) => ({ backend, skip: rootBlocker ?? (backend === 'cap' ? capBlocker() : hasTool('tcpdump') ? null : 'tcpdump not installed') }));

  for (const { backend, skip } of backends) {
    const note = skip ? ` (skipped: ${skip})` : '';
    it.skipIf(skip !== null)(`${backend}: no such interface lists the ones there are${note}`, () => {
      const result = kwire(['sniff', '-i', 'kwnosuch0', '--backend', backend, '--no-db', '--duration', '1']);
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/^kwire: kwnosuch0: no such interface \(there are: any, .*\blo\b.*\)\n$/);
    });

    it.skipIf(skip !== null)(`${backend}: a bad filter, in libpcap's words${note}`, () => {
      const result = kwire(['sniff', '-i', 'lo', 'tcp', 'port', '--backend', backend, '--no-db', '--duration', '1']);
      expect(result.status).toBe(2);
      expect(result.stderr).toBe("kwire: lo: bad capture filter 'tcp port': can't parse filter expression: syntax error\n");
    });

    it.skipIf(skip !== null || !hasTool('setpriv'))(`${backend}: no permission says root, or setcap${note}`, () => {
      // Root without CAP_NET_RAW and CAP_NET_ADMIN is refused as an ordinary user would be.
      const result = spawnSync('setpriv', ['--bounding-set=-net_raw,-net_admin', process.execPath, KWIRE, 'sniff', '-i', 'lo', '--backend', backend, '--no-db', '--duration', '1'], {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/^kwire: lo: no permission to capture \(.*\): run kwire as root, or give node the capture capabilities: setcap cap_net_raw,cap_net_admin\+eip \S+\n$/);
    });
  }

  it.skipIf(rootBlocker !== null || !hasTool('tcpdump') || !hasTool('curl'))(`a closed connection reaches --ndjson by the wall clock, after its 5 s linger, with no further packet${rootBlocker ? ` (skipped: ${rootBlocker})` : ''}`, async () => {
    // A port of its own on loopback, so that no other traffic moves capture time on.
    const port = String(20_000 + (process.pid % 20_000));
    const run = spawn(process.execPath, [KWIRE, 'sniff', '-i', 'lo', `tcp port ${port}`, '--backend', 'tcpdump', '--no-db', '--ndjson', '--duration', '60'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    run.stdout!.on('data', (chunk) => (out += chunk));
    try {
      await waitForOutput(run, 'kwire: listening on');
      // Refused: SYN, then RST — a connection that is over at once and lingers 5 s.
      spawnSync('curl', ['-s', '--max-time', '2', `http://127.0.0.1:${port}/`], { timeout: STEP_TIMEOUT_MS });
      const closedAt = Date.now();
      while (!out.includes('"type":"flow"') && Date.now() - closedAt < 20_000) await sleep(250);
      const waited = (Date.now() - closedAt) / 1000;
      expect(out).toContain('"type":"flow"');
      expect(waited).toBeGreaterThan(4);
      const flow = JSON.parse(out.split('\n').find((line) => line.includes('"type":"flow"'))!) as { dport: number; state: string };
      expect(flow).toMatchObject({ dport: Number(port), state: 'reset' });
    } finally {
      await stopKwire(run);
    }
  }, 60_000);

  for (const { backend, skip } of backends) {
    const blocked = skip ?? (hasTool('curl') ? null : 'curl not installed');
    // tcpdump takes packets from the kernel a block at a time, handed over by a timer each second:
    // a stop right after the traffic must wait for that block, or lose it.
    it.skipIf(blocked !== null)(`${backend}: packets captured just before a SIGINT are kept; they come through a kernel pipe${blocked ? ` (skipped: ${blocked})` : ''}`, async () => {
      const port = String(20_000 + ((process.pid + (backend === 'cap' ? 1 : 2)) % 20_000));
      const sniffing = await startSniffHere(['-i', 'lo', `tcp port ${port}`, '--backend', backend, '--no-db', '--json', '-q']);
      try {
        // The capture process writes into a kernel pipe (not a socketpair: a socket buffer per write).
        const capturing = captureProcessOf(sniffing);
        expect(statSync(`/proc/${capturing}/fd/1`).isFIFO()).toBe(true);
        // libpcap got the backend's kernel buffer (it rounds the ring up; down only when the kernel is short of memory).
        expect(ringBytes(capturing)).toBeGreaterThanOrEqual((backend === 'cap' ? CAP_BUFFER_KIB : TCPDUMP_BUFFER_KIB) * 1024);
        // Refused: a SYN and a RST, then the stop at once.
        spawnSync('curl', ['-s', '--max-time', '2', `http://127.0.0.1:${port}/`], { timeout: STEP_TIMEOUT_MS });
        expect(await interrupt(sniffing)).toBe(0);
      } finally {
        await stopKwire(sniffing.child);
      }
      const out = sniffing.stdout();
      const doc = JSON.parse(out) as KwireDocument;
      expect(doc.flows.map(({ dport, state, packets }) => ({ dport, state, packets }))).toEqual([{ dport: Number(port), state: 'reset', packets: { c2s: 1, s2c: 1 } }]);
    }, 60_000);
  }

  for (const { backend, skip } of backends) {
    it.skipIf(skip !== null)(`${backend}: -B sets the kernel's buffer, as tcpdump -B does${skip ? ` (skipped: ${skip})` : ''}`, async () => {
      const sniffing = await startSniffHere(['-i', 'lo', 'tcp port 9', '--backend', backend, '-B', '8192', '--no-db', '-q']);
      try {
        const ring = ringBytes(captureProcessOf(sniffing));
        expect(ring).toBeGreaterThanOrEqual(8192 * 1024);
        expect(ring).toBeLessThan((backend === 'cap' ? CAP_BUFFER_KIB : TCPDUMP_BUFFER_KIB) * 1024);
        expect(await interrupt(sniffing)).toBe(0);
      } finally {
        await stopKwire(sniffing.child);
      }
    }, 60_000);
  }

  it.skipIf(rootBlocker !== null || !hasTool('tcpdump'))(`the kernel's drops are counted, stored, and warned about${rootBlocker ? ` (skipped: ${rootBlocker})` : ''}`, async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'kwire-sniff-drops-'));
    const receiver = createSocket('udp4');
    const sender = createSocket('udp4');
    try {
      await new Promise<void>((resolve, reject) => receiver.once('error', reject).bind(0, '127.0.0.1', () => resolve()));
      const { port } = receiver.address();
      const db = path.join(work, 'drops.db');
      const sniffing = await startSniffHere(['-i', 'lo', `udp port ${port}`, '--backend', 'tcpdump', '-B', '1024', '--db', db, '--json']);
      const datagrams = 4000;
      try {
        // kwire stopped: tcpdump fills the pipe and blocks, the 1 MiB ring fills, the kernel drops.
        process.kill(sniffing.child.pid!, 'SIGSTOP');
        const payload = Buffer.alloc(1400, 7);
        for (let i = 0; i < datagrams; i++) await new Promise((resolve) => sender.send(payload, port, '127.0.0.1', resolve));
        process.kill(sniffing.child.pid!, 'SIGCONT');
        expect(await interrupt(sniffing)).toBe(0);
      } finally {
        sniffing.child.kill('SIGCONT');
        await stopKwire(sniffing.child);
      }
      const doc = JSON.parse(sniffing.stdout()) as KwireDocument;
      const dropped = doc.capture.live!.droppedByKernel!;
      expect(dropped).toBeGreaterThan(0);
      expect(doc.capture.packets).toBeGreaterThan(0);
      expect(doc.capture.packets).toBeLessThan(datagrams);
      expect(doc.capture.dropped).toBe(dropped);
      const received = doc.capture.live!.received;
      // tcpdump's "received by filter" holds the kernel's drops (and, on loopback, each packet twice).
      expect(doc.capture.packets + dropped).toBeLessThanOrEqual(received);
      const format = (n: number) => n.toLocaleString('en-US');
      expect(sniffing.stderr()).toContain(
        `kwire: warning: lo: the kernel dropped ${format(dropped)} of the ${format(received)} packets received (${((100 * dropped) / received).toFixed(2)}%): the capture fell behind`,
      );
      const stored = new Database(db, { readonly: true });
      try {
        expect(stored.prepare('SELECT dropped FROM captures').get()).toEqual({ dropped });
      } finally {
        stored.close();
      }
    } finally {
      receiver.close();
      sender.close();
      rmSync(work, { recursive: true, force: true });
    }
  }, 60_000);

  it.skipIf(rootBlocker !== null || !hasTool('tcpdump') || !hasTool('curl'))(`--count stops after that many packets, --duration bounds the wait${rootBlocker ? ` (skipped: ${rootBlocker})` : ''}`, async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'kwire-sniff-count-'));
    try {
      const saved = path.join(work, 'lo.pcapng');
      const sniffing = await startSniffHere(['-i', 'lo', 'tcp', '--backend', 'tcpdump', '--count', '3', '--duration', '20', '--write', saved, '--no-db', '--json']);
      try {
        // A few connection attempts on loopback: more than three packets.
        for (let i = 0; i < 4; i++) spawnSync('curl', ['-s', '--max-time', '1', 'http://127.0.0.1:9/'], { timeout: STEP_TIMEOUT_MS });
        expect(await exitOf(sniffing)).toBe(0);
      } finally {
        await stopKwire(sniffing.child);
      }
      const out = sniffing.stdout();
      const doc = JSON.parse(out) as KwireDocument;
      expect(doc.capture.packets).toBe(3);
      expect(existsSync(saved)).toBe(true);
      const replay = kwire(['read', saved, '--json', '--no-db', '-q']);
      expect((JSON.parse(replay.stdout) as KwireDocument).capture.packets).toBe(3);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('kwire sniff --keylog: a key log read as it grows', () => {
  const missing = ['tcpdump', 'curl', 'openssl'].filter((tool) => !hasTool(tool));
  const why = process.getuid?.() !== 0 ? 'needs root to capture' : missing.length > 0 ? `${missing.join(', ')} not installed` : null;

  it.skipIf(why !== null)(`decrypts a connection whose keys were written after kwire started${why ? ` (skipped: ${why})` : ''}`, async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'kwire-sniff-keylog-'));
    const port = String(21_000 + (process.pid % 20_000));
    const keys = path.join(work, 'keys.log');
    writeFileSync(keys, ''); // empty when kwire starts: curl appends its secrets later
    spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost', '-days', '1',
      '-keyout', path.join(work, 'key.pem'), '-out', path.join(work, 'cert.pem')], { stdio: 'ignore', timeout: STEP_TIMEOUT_MS });
    const server = spawn('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', path.join(work, 'cert.pem'), '-key', path.join(work, 'key.pem'), '-tls1_3', '-www'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const run = spawn(process.execPath, [KWIRE, 'sniff', '-i', 'lo', `tcp port ${port}`, '--backend', 'tcpdump', '--keylog', keys, '--no-db', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    run.stdout!.on('data', (chunk) => (out += chunk));
    const exited = new Promise<number | null>((resolve) => run.once('close', resolve));
    try {
      await waitForOutput(server, 'ACCEPT');
      await waitForOutput(run, 'kwire: listening on');
      const curl = spawnSync('curl', ['-sk', '--tlsv1.3', '--http1.1', '--max-time', '5', `https://127.0.0.1:${port}/kwire-keylog-test`], {
        env: { ...process.env, SSLKEYLOGFILE: keys }, timeout: STEP_TIMEOUT_MS, encoding: 'utf8',
      });
      expect(curl.status, curl.stderr).toBe(0);
      expect(readFileSync(keys, 'utf8')).toContain('CLIENT_HANDSHAKE_TRAFFIC_SECRET');
      await sleep(1_500); // a tick of the live clock reads what was appended
      run.kill('SIGINT');
      const timer = setTimeout(() => run.kill('SIGKILL'), 3 * STEP_TIMEOUT_MS);
      expect(await exited).toBe(0);
      clearTimeout(timer);
      const doc = JSON.parse(out) as KwireDocument;
      expect(doc.capture.keylog).toMatchObject({ file: keys, badLines: 0 });
      const flow = doc.flows.find((candidate) => candidate.dport === Number(port))!;
      expect(flow.tls).toMatchObject({ version: '1.3', clientAuthEvidence: 'decrypted', clientCertRequested: false });
      expect(flow.http?.requests.map((request) => `${request.method} ${request.target} ${request.status}`)).toEqual(['GET /kwire-keylog-test 200']);
    } finally {
      await stopKwire(run);
      server.kill('SIGKILL');
      rmSync(work, { recursive: true, force: true });
    }
  }, 60_000);
});

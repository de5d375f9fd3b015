/**
 * The programs of the scenario captures, each run in a namespace of the topology, bounded by a
 * timeout and stopped by its own pid: Node servers and clients (actor.mjs), curl, openssl, the Go
 * server and client of test/stacks/go, kubectl, sshd and ssh; and tcpdump on the bridge.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildGo, type GoBinaries } from '../stacks.js';
import { STEP_TIMEOUT_MS, stop, tcpdumpWhile, waitForOutput } from '../processes.js';
import { makeClusterPki, type ClusterPki, type KeyPair } from './pki.js';
import { createTopology, type Host, type Topology } from './topology.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ACTOR = path.join(HERE, 'actor.mjs');
const SERVER_LIFE_MS = 30_000;

export interface Ctx {
  topo: Topology;
  pki: ClusterPki;
  go: GoBinaries;
  work: string;
}

/** The cluster in a work directory of its own (`prefix` names it): PKI, the Go programs, the namespaces. */
export function createCtx(prefix: string): Ctx {
  const work = mkdtempSync(path.join(tmpdir(), prefix));
  try {
    return { work, pki: makeClusterPki(work), go: buildGo(work), topo: createTopology() };
  } catch (error) {
    rmSync(work, { recursive: true, force: true });
    throw error;
  }
}

/** Takes the namespaces down and removes the work directory. */
export function destroyCtx(ctx: Ctx | null): void {
  if (!ctx) return;
  ctx.topo.destroy();
  rmSync(ctx.work, { recursive: true, force: true });
}

export interface Running {
  close(): Promise<void>;
}

/** Starts a long-running program in `host`'s namespace and waits for its `ready` text. */
async function daemon(c: Ctx, host: Host, cmd: string, args: string[], ready: string): Promise<Running> {
  const [file, argv] = c.topo.inHost(host, cmd, args);
  const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const life = setTimeout(() => child.kill('SIGKILL'), SERVER_LIFE_MS);
  try {
    await waitForOutput(child, ready);
  } catch (error) {
    clearTimeout(life);
    await stop(child);
    throw error;
  }
  return { close: async () => { clearTimeout(life); await stop(child); } };
}

/** Runs a program in `host`'s namespace to its end (bounded); its exit status does not matter: rejections are scenarios too. */
function runToEnd(c: Ctx, host: Host, cmd: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const [file, argv] = c.topo.inHost(host, cmd, args);
  return new Promise((resolve) => {
    const child = spawn(file, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), STEP_TIMEOUT_MS);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    child.stdin.end(options.input ?? '');
  });
}

// ---- servers ----

export interface NodeTls {
  pair: keyof Pick<ClusterPki, { [K in keyof ClusterPki]: ClusterPki[K] extends KeyPair ? K : never }[keyof ClusterPki]>;
  /** CA file that verifies client certificates: 'ca' or 'etcdCa'. */
  clientCa?: 'ca' | 'etcdCa';
  /** Send a CertificateRequest. */
  requestCert?: boolean;
  /** Refuse a client without a valid certificate. */
  requireCert?: boolean;
  maxVersion?: 'TLSv1.2' | 'TLSv1.3';
  alpn?: string[];
}

/** node:http or node:https as an apiserver, kubelet, pod or service (actor.mjs). */
export function nodeServer(host: Host, address: string, port: number, tls?: NodeTls) {
  return (c: Ctx) => {
    const spec = {
      host: address, port,
      tls: tls && {
        cert: c.pki[tls.pair].cert, key: c.pki[tls.pair].key, ca: tls.clientCa && c.pki[tls.clientCa],
        requestCert: tls.requestCert ?? false, rejectUnauthorized: tls.requireCert ?? false, maxVersion: tls.maxVersion, alpn: tls.alpn,
      },
    };
    return daemon(c, host, process.execPath, [ACTOR, 'server', JSON.stringify(spec)], 'ready');
  };
}

/** `openssl s_server -www`, TLS 1.2, with the given cipher list. */
export function opensslServer(host: Host, address: string, port: number, pair: 'apiserver', cipher: string) {
  return (c: Ctx) => daemon(c, host, 'openssl', [
    's_server', '-accept', `${address}:${port}`, '-cert', c.pki[pair].cert, '-key', c.pki[pair].key, '-CAfile', c.pki.ca,
    '-verify', '1', '-tls1_2', '-cipher', cipher, '-www', '-naccept', '1',
  ], 'ACCEPT');
}

/** The Go server of test/stacks/go (crypto/tls, TLS 1.3). */
export function goServer(host: Host, address: string, port: number, pair: 'apiserver' | 'etcdServer' | 'kubeletServing', clientCa: 'ca' | 'etcdCa', auth: 'none' | 'request' | 'require-and-verify') {
  return (c: Ctx) => daemon(c, host, c.go.server, [
    '-addr', `${address}:${port}`, '-cert', c.pki[pair].cert, '-key', c.pki[pair].key, '-ca', c.pki[clientCa], '-auth', auth,
  ], 'ready');
}

/** OpenSSH's sshd on port 22, key authentication only, its own config and host key in the work dir. */
export function sshd(host: Host, address: string) {
  return async (c: Ctx) => {
    const dir = path.join(c.work, 'ssh');
    sshKeys(c);
    mkdirSync('/run/sshd', { recursive: true }); // sshd's privilege separation directory
    const config = path.join(dir, 'sshd_config');
    writeFileSync(config, [
      'Port 22', `ListenAddress ${address}`, `HostKey ${path.join(dir, 'host_ed25519')}`, `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(dir, 'client_ed25519.pub')}`, 'StrictModes no', 'PermitRootLogin prohibit-password',
      'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'PrintMotd no', '',
    ].join('\n'));
    return daemon(c, host, '/usr/sbin/sshd', ['-D', '-e', '-f', config], 'Server listening');
  };
}

function sshKeys(c: Ctx): void {
  const dir = path.join(c.work, 'ssh');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const name of ['host_ed25519', 'client_ed25519']) {
    if (!existsSync(path.join(dir, name))) spawnSyncOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', path.join(dir, name)]);
  }
}

function spawnSyncOk(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: 'pipe', timeout: 10_000 });
}

// ---- clients ----

export interface NodeRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  tls?: { ca?: 'ca' | 'etcdCa'; pair?: NodeTls['pair']; servername?: string; verify?: boolean };
  upgrade?: boolean;
}

/** One request with node:http/node:https (actor.mjs). */
export function nodeClient(host: Host, request: NodeRequest) {
  return async (c: Ctx) => {
    const t = request.tls;
    const spec = {
      ...request,
      tls: t && { ca: t.ca && c.pki[t.ca], cert: t.pair && c.pki[t.pair].cert, key: t.pair && c.pki[t.pair].key, servername: t.servername, verify: t.verify },
    };
    await runToEnd(c, host, process.execPath, [ACTOR, 'client', JSON.stringify(spec)]);
  };
}

/** curl 7.88 (OpenSSL 3): `args` come after the common ones; `cert` adds --cert/--key, `ca` --cacert, else -k. */
export function curl(host: Host, url: string, options: { cert?: NodeTls['pair']; ca?: 'ca' | 'etcdCa'; args?: string[] } = {}) {
  return async (c: Ctx) => {
    const tls = url.startsWith('https:')
      ? [...(options.ca ? ['--cacert', c.pki[options.ca]] : ['-k']), ...(options.cert ? ['--cert', c.pki[options.cert].cert, '--key', c.pki[options.cert].key] : [])]
      : [];
    await runToEnd(c, host, 'curl', ['-sS', '--max-time', '5', '-o', '/dev/null', ...tls, ...(options.args ?? []), url]);
  };
}

/** The Go client of test/stacks/go (TLS 1.3), with or without a client certificate. */
export function goClient(host: Host, url: string, ca: 'ca' | 'etcdCa', pair?: NodeTls['pair']) {
  return async (c: Ctx) => {
    await runToEnd(c, host, c.go.client, ['-url', url, '-ca', c.pki[ca], ...(pair ? ['-cert', c.pki[pair].cert, '-key', c.pki[pair].key] : [])]);
  };
}

/** kubectl with a kubeconfig holding the cluster CA and a client certificate. */
export function kubectl(host: Host, server: string, pair: NodeTls['pair'], args: string[]) {
  return async (c: Ctx) => {
    const b64 = (file: string) => readFileSync(file).toString('base64');
    const config = path.join(c.work, 'kubeconfig');
    writeFileSync(config, [
      'apiVersion: v1', 'kind: Config', 'clusters:', '- name: kw', '  cluster:', `    server: ${server}`,
      `    certificate-authority-data: ${b64(c.pki.ca)}`, 'users:', '- name: kubernetes-admin', '  user:',
      `    client-certificate-data: ${b64(c.pki[pair].cert)}`, `    client-key-data: ${b64(c.pki[pair].key)}`,
      'contexts:', '- name: kw', '  context: {cluster: kw, user: kubernetes-admin}', 'current-context: kw', '',
    ].join('\n'));
    await runToEnd(c, host, 'kubectl', [...args, '--kubeconfig', config, '--request-timeout', '5s'], {
      env: { ...process.env, HOME: c.work, KUBECACHEDIR: path.join(c.work, 'kubecache') },
    });
  };
}

/** OpenSSH's client: key authentication, runs `true` on the other side. */
export function ssh(host: Host, address: string) {
  return async (c: Ctx) => {
    sshKeys(c);
    const dir = path.join(c.work, 'ssh');
    await runToEnd(c, host, 'ssh', [
      '-F', '/dev/null', '-i', path.join(dir, 'client_ed25519'), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no',
      '-o', `UserKnownHostsFile=${path.join(dir, 'known_hosts')}`, '-o', 'ConnectTimeout=5', `root@${address}`, 'true',
    ], { env: { ...process.env, HOME: c.work } });
  };
}

// ---- capture ----

/** Records every TCP frame crossing the bridge into `file` while `traffic` runs. */
export function capture(c: Ctx, file: string, traffic: () => Promise<void>): Promise<void> {
  return tcpdumpWhile(['ip', 'netns', 'exec', c.topo.bridgeNs], 'br0', 'tcp', file, traffic);
}

/**
 * Real TLS 1.3 stacks for the TLS 1.3 client-auth inference: a throwaway PKI, servers and clients
 * of Node (`node:tls`), OpenSSL 3 (`s_server`, `s_client`, curl) and Go (crypto/tls, kubectl), and
 * tcpdump around each scenario. Servers listen in the root namespace, clients run in a network
 * namespace joined by a veth pair (addresses in 198.19.0.0/16, RFC 2544's benchmarking range), so
 * the captures hold Ethernet-sized segments as on a real network, not loopback's 64 KB ones. Every
 * process started here is bounded by a timeout and stopped by its own pid.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import https from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { STEP_TIMEOUT_MS, alive, stop, tcpdumpWhile, waitForOutput } from './processes.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface Pki {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** Another CA, and a client certificate it signed, that the servers refuse. */
  rogueCa: string;
  rogueCert: string;
  rogueKey: string;
}

/** EC P-256 everywhere: small certificates keep the committed captures small. */
export function makePki(dir: string): Pki {
  const p = (name: string) => path.join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = (name: string) => ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', p(name));
  const ca = (name: string, cn: string) => {
    key(`${name}.key`);
    ssl('req', '-x509', '-new', '-key', p(`${name}.key`), '-subj', `/CN=${cn}`, '-days', '3650', '-out', p(`${name}.crt`));
  };
  const leaf = (name: string, subj: string, issuer: string, ext: string) => {
    key(`${name}.key`);
    writeFileSync(p(`${name}.ext`), ext);
    ssl('req', '-new', '-key', p(`${name}.key`), '-subj', subj, '-out', p(`${name}.csr`));
    ssl('x509', '-req', '-in', p(`${name}.csr`), '-CA', p(`${issuer}.crt`), '-CAkey', p(`${issuer}.key`), '-CAcreateserial',
      '-days', '3650', '-extfile', p(`${name}.ext`), '-out', p(`${name}.crt`));
  };
  ca('ca', 'kwire-test-ca');
  ca('rogue-ca', 'kwire-rogue-ca');
  leaf('server', '/CN=kube-apiserver', 'ca', 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n');
  leaf('client', '/O=system:nodes/CN=system:node:kw-node-1', 'ca', 'extendedKeyUsage=clientAuth\n');
  leaf('rogue', '/O=system:masters/CN=intruder', 'rogue-ca', 'extendedKeyUsage=clientAuth\n');
  return {
    ca: p('ca.crt'), serverCert: p('server.crt'), serverKey: p('server.key'),
    clientCert: p('client.crt'), clientKey: p('client.key'), rogueCa: p('rogue-ca.crt'), rogueCert: p('rogue.crt'), rogueKey: p('rogue.key'),
  };
}

export function hasTool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

async function freePort(net: Netns): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, net.serverAddress, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function runToEnd(cmd: string, args: string[], input?: string, env?: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'ignore'], env: env ?? process.env });
    const timer = setTimeout(() => child.kill('SIGKILL'), STEP_TIMEOUT_MS);
    child.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin.end(input ?? '');
  });
}

// ---- network namespace ----

export interface Netns {
  /** The veth end in the root namespace, where the servers listen and tcpdump records. */
  iface: string;
  serverAddress: string;
  /** A command line that runs `cmd` in the client namespace. */
  inClient(cmd: string, args: string[]): [string, string[]];
  destroy(): void;
}

/**
 * A client namespace and a veth pair, named and numbered after this process so parallel runs do
 * not meet; those of runs that died before cleaning up are removed first.
 */
export function createNetns(): Netns {
  const id = process.pid;
  const ns = `kw13-${id}`;
  const iface = `kw13h${id}`;
  const peer = `kw13c${id}`;
  const subnet = `198.19.${id % 250}`;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
  for (const line of ip('netns', 'list').toString().split('\n')) {
    const stale = /^kw13-(\d+)/.exec(line);
    if (stale && !alive(Number(stale[1]))) ip('netns', 'del', `kw13-${stale[1]}`); // its veth pair goes with it
  }
  const destroy = () => {
    for (const args of [['netns', 'del', ns], ['link', 'del', iface]]) {
      try {
        ip(...args);
      } catch {
        // already gone
      }
    }
  };
  destroy();
  try {
    ip('netns', 'add', ns);
    ip('link', 'add', iface, 'type', 'veth', 'peer', 'name', peer);
    ip('link', 'set', peer, 'netns', ns);
    ip('addr', 'add', `${subnet}.1/30`, 'dev', iface);
    ip('-n', ns, 'addr', 'add', `${subnet}.2/30`, 'dev', peer);
    ip('link', 'set', iface, 'up');
    ip('-n', ns, 'link', 'set', peer, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    // Offloads off on both ends: else the capture holds segments larger than the MTU, which the
    // packet socket truncates (a gap in the stream), and checksums left unfilled.
    const off = ['tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off'];
    execFileSync('ethtool', ['-K', iface, ...off], { stdio: 'pipe' });
    ip('netns', 'exec', ns, 'ethtool', '-K', peer, ...off);
  } catch (error) {
    destroy();
    throw error;
  }
  return {
    iface, serverAddress: `${subnet}.1`, destroy,
    inClient: (cmd, args) => ['ip', ['netns', 'exec', ns, cmd, ...args]],
  };
}

// ---- servers ----

export type ServerAuth = 'none' | 'request' | 'require';
export interface Running {
  port: number;
  close(): Promise<void>;
}

const VERSION_BODY = '{"major":"1","minor":"32","gitVersion":"v1.32.0-kwire-test"}';

export async function nodeServer(net: Netns, pki: Pki, auth: ServerAuth, ciphers?: string): Promise<Running> {
  const server = https.createServer(
    {
      key: readFileSync(pki.serverKey), cert: readFileSync(pki.serverCert), ca: readFileSync(pki.ca),
      requestCert: auth !== 'none', rejectUnauthorized: auth === 'require', minVersion: 'TLSv1.3',
      ...(ciphers ? { ciphers } : {}),
    },
    (_req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('Connection', 'close');
      res.end(VERSION_BODY);
    },
  );
  server.on('tlsClientError', () => {}); // rejected handshakes are scenarios, not failures
  await new Promise<void>((resolve) => server.listen(0, net.serverAddress, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

export async function opensslServer(net: Netns, pki: Pki, auth: ServerAuth, ciphersuites?: string): Promise<Running> {
  const port = await freePort(net);
  const verify = auth === 'none' ? [] : [auth === 'require' ? '-Verify' : '-verify', '1'];
  const child = spawn('openssl', [
    's_server', '-accept', `${net.serverAddress}:${port}`, '-cert', pki.serverCert, '-key', pki.serverKey, '-CAfile', pki.ca,
    '-tls1_3', '-www', '-verify_return_error', ...verify, ...(ciphersuites ? ['-ciphersuites', ciphersuites] : []),
  ], { stdio: ['pipe', 'pipe', 'pipe'] });
  const life = setTimeout(() => child.kill('SIGKILL'), 4 * STEP_TIMEOUT_MS);
  await waitForOutput(child, 'ACCEPT');
  return { port, close: async () => { clearTimeout(life); await stop(child); } };
}

export async function goServer(net: Netns, bin: GoBinaries, pki: Pki, auth: ServerAuth): Promise<Running> {
  const port = await freePort(net);
  const mode = { none: 'none', request: 'request', require: 'require-and-verify' }[auth];
  const child = spawn(bin.server, ['-addr', `${net.serverAddress}:${port}`, '-cert', pki.serverCert, '-key', pki.serverKey, '-ca', pki.ca, '-auth', mode], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const life = setTimeout(() => child.kill('SIGKILL'), 4 * STEP_TIMEOUT_MS);
  await waitForOutput(child, 'ready');
  return { port, close: async () => { clearTimeout(life); await stop(child); } };
}

// ---- clients ----

/** `good`: signed by the servers' CA; `rogue`: from another CA; `empty`: none (the client answers a CertificateRequest with an empty Certificate). */
export type ClientCert = 'good' | 'rogue' | 'empty';

export interface ClientSpec {
  cert: ClientCert;
  /** The client trusts another CA than the server's, and aborts after the server's flight. */
  distrustServer?: boolean;
  /** TLS 1.3 suites the client offers (OpenSSL's names), to choose the suite. */
  suites?: string;
  /** Node only: a second connection resumes the first one's session (PSK). */
  resume?: boolean;
}

function clientFiles(pki: Pki, spec: ClientSpec): { ca: string; cert?: string; key?: string } {
  const ca = spec.distrustServer ? pki.rogueCa : pki.ca;
  if (spec.cert === 'good') return { ca, cert: pki.clientCert, key: pki.clientKey };
  if (spec.cert === 'rogue') return { ca, cert: pki.rogueCert, key: pki.rogueKey };
  return { ca };
}

/** One GET with node:tls (test/stacks/node-client.mjs, in the client namespace). */
export async function nodeClient(net: Netns, pki: Pki, port: number, spec: ClientSpec): Promise<void> {
  const args = { host: net.serverAddress, port, servername: 'localhost', ...clientFiles(pki, spec), ciphers: spec.suites, resume: spec.resume };
  await runToEnd(...net.inClient(process.execPath, [path.join(HERE, 'node-client.mjs'), JSON.stringify(args)]));
}

export async function opensslClient(net: Netns, pki: Pki, port: number, spec: ClientSpec): Promise<void> {
  const f = clientFiles(pki, spec);
  await runToEnd(...net.inClient('openssl', [
    's_client', '-connect', `${net.serverAddress}:${port}`, '-servername', 'localhost', '-CAfile', f.ca, '-verify_return_error',
    '-tls1_3', '-ign_eof', '-quiet', ...(f.cert && f.key ? ['-cert', f.cert, '-key', f.key] : []),
    ...(spec.suites ? ['-ciphersuites', spec.suites] : []),
  ]), 'GET /version HTTP/1.0\r\nHost: localhost\r\n\r\n');
}

export async function curlClient(net: Netns, pki: Pki, port: number, spec: ClientSpec): Promise<void> {
  const f = clientFiles(pki, spec);
  await runToEnd(...net.inClient('curl', [
    '-sS', '--max-time', '5', '--tlsv1.3', '--cacert', f.ca, '--resolve', `localhost:${port}:${net.serverAddress}`,
    ...(f.cert && f.key ? ['--cert', f.cert, '--key', f.key] : []), ...(spec.suites ? ['--tls13-ciphers', spec.suites] : []),
    `https://localhost:${port}/version`,
  ]));
}

/** Go's crypto/tls client; Go 1.19 has no setting for TLS 1.3 suites (`suites` is ignored). */
export async function goClient(net: Netns, bin: GoBinaries, pki: Pki, port: number, spec: ClientSpec): Promise<void> {
  const f = clientFiles(pki, spec);
  await runToEnd(...net.inClient(bin.client, [
    '-url', `https://${net.serverAddress}:${port}/version`, '-servername', 'localhost', '-ca', f.ca,
    ...(f.cert && f.key ? ['-cert', f.cert, '-key', f.key] : []),
  ]));
}

/** kubectl (a real Go client) with a kubeconfig that has, or lacks, client-certificate-data. */
export async function kubectlClient(net: Netns, pki: Pki, port: number, spec: ClientSpec, work: string): Promise<void> {
  const f = clientFiles(pki, spec);
  const b64 = (file: string) => readFileSync(file).toString('base64');
  const user = f.cert && f.key ? [`    client-certificate-data: ${b64(f.cert)}`, `    client-key-data: ${b64(f.key)}`] : ['    {}'];
  const config = path.join(work, `kubeconfig-${port}`);
  writeFileSync(config, [
    'apiVersion: v1', 'kind: Config', 'clusters:', '- name: test', '  cluster:', `    server: https://${net.serverAddress}:${port}`,
    `    certificate-authority-data: ${b64(f.ca)}`, '    tls-server-name: localhost', 'users:', '- name: test', '  user:',
    ...user, 'contexts:', '- name: test', '  context: {cluster: test, user: test}', 'current-context: test', '',
  ].join('\n'));
  await runToEnd(...net.inClient('kubectl', ['get', '--raw', '/version', '--kubeconfig', config, '--request-timeout', '5s']), undefined, {
    ...process.env, HOME: work, KUBECACHEDIR: path.join(work, 'kubecache'),
  });
}

// ---- Go programs ----

export interface GoBinaries {
  server: string;
  client: string;
}

/** Builds the Go server and client of test/stacks/go with the standard library only: no network, no modules. */
export function buildGo(work: string): GoBinaries {
  const src = path.join(HERE, 'go');
  const env = {
    ...process.env, GOCACHE: path.join(work, 'gocache'), GOPATH: path.join(work, 'gopath'),
    GOTOOLCHAIN: 'local', GOPROXY: 'off', GO111MODULE: 'off', GOFLAGS: '', CGO_ENABLED: '0',
  };
  mkdirSync(env.GOCACHE, { recursive: true });
  const bin = { server: path.join(work, 'go-server'), client: path.join(work, 'go-client') };
  // GOPATH mode takes relative package paths only
  execFileSync('go', ['build', '-o', bin.server, './server'], { cwd: src, env, stdio: 'pipe', timeout: 180_000 });
  execFileSync('go', ['build', '-o', bin.client, './client'], { cwd: src, env, stdio: 'pipe', timeout: 180_000 });
  return bin;
}

// ---- capture ----

/** Records the traffic to and from `port` into `file` while `traffic` runs. */
export function capture(net: Netns, file: string, port: number, traffic: () => Promise<void>): Promise<void> {
  return tcpdumpWhile([], net.iface, `tcp port ${port}`, file, traffic);
}

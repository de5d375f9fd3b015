/**
 * Decryption on real stacks, in process: Node's TLS (OpenSSL 3) client and servers on loopback, the
 * bytes relayed through a recording proxy and fed to the analyzers as flow/ would, decrypted with
 * the key log Node's `keylog` event wrote — the client's, and the server's. Every AEAD suite of
 * TLS 1.3 and TLS 1.2, HTTP/1.1 and HTTP/2 (ALPN), a client certificate, Kubernetes URL shapes
 * (proxy, kubelet API, an exec upgrade, an anonymous request answered 200), and a TLS 1.3 key
 * update made by `openssl s_client` (Node has no call for one).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalyzerFactory } from '../src/analyzers/index.js';
import { KeyLog } from '../src/analyzers/tls/index.js';
import type { FlowAnalysis } from '../src/model/protocol.js';
import { fakeFlow, recordingProxy, type RecordedChunk, type RecordingProxy } from './helpers/recording-proxy.js';
import { hasTool, makePki, type Pki } from './stacks/stacks.js';

let dir: string;
let pki: Pki;
let serverKeys: KeyLog;
let h1: https.Server;
let h2: http2.Http2SecureServer;
let h1Proxy: RecordingProxy;
let h2Proxy: RecordingProxy;

const KUBELET_LOGS = '/containerLogs/default/web/nginx';
const PROXY = '/api/v1/namespaces/default/pods/web/proxy/healthz';
const EXEC = '/exec/default/web/nginx?command=ls&output=1';

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'kwire-decrypt-'));
  pki = makePki(dir);
  serverKeys = new KeyLog();
  const options = {
    key: readFileSync(pki.serverKey), cert: readFileSync(pki.serverCert), ca: readFileSync(pki.ca),
    requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' as const,
    // Node's default list leaves out the TLS 1.2 ChaCha20 suite over ECDSA: offer them all.
    ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305',
  };
  const answer = (req: { url?: string }, res: { writeHead(s: number): void; end(b: string): void }) => {
    res.writeHead(200);
    res.end(`answer to ${req.url}`);
  };
  h1 = https.createServer({ ...options, ALPNProtocols: ['http/1.1'] }, answer);
  // An exec upgrade is answered as the kubelet does: 101, then SPDY.
  h1.on('upgrade', (_req, socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n');
    socket.end();
  });
  h2 = http2.createSecureServer(options, answer);
  for (const server of [h1, h2]) {
    server.on('keylog', (line: Buffer) => serverKeys.feed(line));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  }
  h1Proxy = await recordingProxy((h1.address() as AddressInfo).port);
  h2Proxy = await recordingProxy((h2.address() as AddressInfo).port);
});

afterAll(async () => {
  await h1Proxy?.close();
  await h2Proxy?.close();
  h1?.close();
  h2?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Connection {
  chunks: RecordedChunk[];
  /** What the client's `keylog` event wrote. */
  clientKeys: KeyLog;
}

function tlsConnect(port: number, version: tls.SecureVersion, suite: string, alpn: string, clientCert: boolean, keys: KeyLog): tls.TLSSocket {
  const socket = tls.connect({
    host: '127.0.0.1', port, servername: 'localhost', ca: readFileSync(pki.ca), ALPNProtocols: [alpn],
    minVersion: version, maxVersion: version,
    ciphers: suite,
    ...(clientCert ? { cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) } : {}),
  });
  socket.on('keylog', (line) => keys.feed(line));
  return socket;
}

/** HTTP/1.1 by hand over a TLS socket: a kubelet logs request, then an exec upgrade on a second connection. */
async function http1(version: tls.SecureVersion, suite: string, clientCert: boolean): Promise<Connection[]> {
  const out: Connection[] = [];
  for (const request of [
    `GET ${KUBELET_LOGS} HTTP/1.1\r\nHost: localhost\r\n\r\nGET ${PROXY} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
    `GET ${EXEC} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n`,
  ]) {
    const clientKeys = new KeyLog();
    const index = h1Proxy.connections.length;
    const socket = tlsConnect(h1Proxy.port, version, suite, 'http/1.1', clientCert, clientKeys);
    socket.on('secureConnect', () => socket.write(request));
    socket.resume();
    await new Promise((resolve) => socket.on('close', resolve));
    await settle();
    out.push({ chunks: h1Proxy.connections[index], clientKeys });
  }
  return out;
}

/** HTTP/2: the same requests as streams of one connection. */
async function http2Requests(version: tls.SecureVersion, suite: string, clientCert: boolean): Promise<Connection> {
  const clientKeys = new KeyLog();
  const index = h2Proxy.connections.length;
  const session = http2.connect('https://localhost', { createConnection: () => tlsConnect(h2Proxy.port, version, suite, 'h2', clientCert, clientKeys) });
  for (const p of [KUBELET_LOGS, PROXY]) {
    await new Promise<void>((resolve, reject) => {
      const stream = session.request({ ':path': p });
      stream.on('error', reject);
      stream.resume();
      stream.on('close', () => resolve());
      stream.end();
    });
  }
  await new Promise((resolve) => session.close(() => resolve(undefined)));
  await settle();
  return { chunks: h2Proxy.connections[index], clientKeys };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

/** The analyzers' view of one relayed connection, decrypting with `keyLog`. */
function analyse(chunks: RecordedChunk[], keyLog: KeyLog): FlowAnalysis {
  const factory = new AnalyzerFactory({ keyLog });
  const flow = fakeFlow();
  const handler = factory.open(flow);
  chunks.forEach(({ dir: d, bytes }, k) => handler.onData(d, Buffer.from(bytes), 1_700_000_000 + k / 1000, k + 1));
  handler.onEnd('fin');
  return factory.take(flow);
}

const SUITES: Array<[tls.SecureVersion, string, string]> = [
  ['TLSv1.3', 'TLS_AES_128_GCM_SHA256', 'TLS_AES_128_GCM_SHA256'],
  ['TLSv1.3', 'TLS_AES_256_GCM_SHA384', 'TLS_AES_256_GCM_SHA384'],
  ['TLSv1.3', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_CHACHA20_POLY1305_SHA256'],
  ['TLSv1.2', 'ECDHE-ECDSA-AES128-GCM-SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'],
  ['TLSv1.2', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'],
  ['TLSv1.2', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256'],
];

describe.each(SUITES)('Node %s %s', (version, suite, iana) => {
  // A client certificate on the AES-128 suites of each version.
  const clientCert = suite.includes('AES128') || suite.includes('AES_128');

  /** Both key logs decrypt the same; the client's is the one asserted on. */
  function both(c: Connection): FlowAnalysis {
    const fromClient = analyse(c.chunks, c.clientKeys);
    expect(JSON.stringify(analyse(c.chunks, serverKeys))).toBe(JSON.stringify(fromClient));
    return fromClient;
  }

  function checkTls(a: FlowAnalysis, alpn: string): void {
    const t = a.tls!;
    expect([t.version, t.cipher, t.alpn]).toEqual([version === 'TLSv1.3' ? '1.3' : '1.2', iana, alpn]);
    expect(t.decrypted).toEqual({ handshake: true, applicationData: true, failure: null });
    // OpenSSL sends the chain up to the CA it was given.
    expect(t.serverChain.map((c) => c.subject)).toEqual(['CN=kube-apiserver', 'CN=kwire-test-ca']);
    expect(t.established).toBe(true);
    // TLS 1.3 hides client authentication: decrypted, it is read, not inferred; TLS 1.2 shows it in clear.
    expect([t.clientCertRequested, t.clientCertPresented, t.clientAuthEvidence]).toEqual([true, clientCert, version === 'TLSv1.3' ? 'decrypted' : 'observed']);
    expect(t.requestedCAs).toEqual(['CN=kwire-test-ca']);
    expect(t.clientChain.map((c) => c.subject)).toEqual(clientCert ? ['CN=system:node:kw-node-1,O=system:nodes', 'CN=kwire-test-ca'] : []);
  }

  it('HTTP/1.1: requests inside TLS get their Kubernetes URL shapes, an exec upgrade its stream protocol', async () => {
    const [plain, upgrade] = (await http1(version, suite, clientCert)).map(both);
    checkTls(plain, 'http/1.1');
    expect(plain.protocol).toBe('tls');
    expect(plain.http?.version).toBe('1.1');
    expect(plain.http?.requests.map((r) => [r.method, r.target, r.status, r.auth, r.k8s?.kind])).toEqual([
      ['GET', KUBELET_LOGS, 200, 'none', 'kubelet-logs'],
      ['GET', PROXY, 200, 'none', 'apiserver-proxy-pod'],
    ]);
    for (const r of plain.http!.requests) expect(r.responsePacket).toBeGreaterThan(r.packet);
    const exec = upgrade.http!.requests[0];
    expect([exec.k8s?.kind, exec.upgrade, exec.status, exec.streamProtocol]).toEqual(['kubelet-exec', 'SPDY/3.1', 101, 'v4.channel.k8s.io']);
  });

  it('HTTP/2: streams decoded with HPACK, the same shapes', async () => {
    const a = both(await http2Requests(version, suite, clientCert));
    checkTls(a, 'h2');
    expect(a.http?.version).toBe('2');
    expect(a.http?.stopped).toBeNull();
    expect(a.http?.requests.map((r) => [r.method, r.host, r.target, r.status, r.auth, r.k8s?.kind])).toEqual([
      ['GET', 'localhost:443', KUBELET_LOGS, 200, 'none', 'kubelet-logs'],
      ['GET', 'localhost:443', PROXY, 200, 'none', 'apiserver-proxy-pod'],
    ]);
  });
});

describe('a TLS 1.3 resumption (PSK)', () => {
  it('decrypts it, and claims nothing of client authentication: it belongs to the resumed session', async () => {
    const keys = new KeyLog();
    const connect = (session?: Buffer) =>
      new Promise<Buffer | undefined>((resolve) => {
        let ticket: Buffer | undefined;
        const socket = tls.connect({ host: '127.0.0.1', port: h1Proxy.port, servername: 'localhost', ca: readFileSync(pki.ca), ALPNProtocols: ['http/1.1'], minVersion: 'TLSv1.3', session });
        socket.on('keylog', (line) => keys.feed(line));
        socket.on('session', (s) => (ticket = s));
        socket.on('secureConnect', () => socket.write(`GET ${KUBELET_LOGS} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`));
        socket.resume();
        socket.on('close', () => resolve(ticket));
      });
    const ticket = await connect();
    const index = h1Proxy.connections.length;
    await connect(ticket);
    await settle();
    const t = analyse(h1Proxy.connections[index], keys).tls!;
    expect([t.resumed, t.decrypted?.handshake, t.serverChain.length, t.clientCertRequested, t.clientCertPresented]).toEqual([true, true, 0, null, null]);
  });
});

describe.runIf(hasTool('openssl'))('a TLS 1.3 key update (openssl s_client)', () => {
  it('follows both sides to their next traffic secrets and reads the request sent after them', async () => {
    const keyFile = path.join(dir, 'openssl.keys');
    const index = h1Proxy.connections.length;
    // `K` (alone on a line, with neither -quiet nor -ign_eof) sends a KeyUpdate that asks for one back.
    const client = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${h1Proxy.port}`, '-tls1_3', '-servername', 'localhost', '-alpn', 'http/1.1', '-crlf', '-keylogfile', keyFile], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const closed = new Promise((resolve) => client.on('close', resolve));
    // KEYUPDATE goes to stderr, the server's answer to stdout.
    const output: Buffer[] = [];
    client.stdout.on('data', (b: Buffer) => output.push(b));
    client.stderr.on('data', (b: Buffer) => output.push(b));
    const waitFor = async (text: string) => {
      for (let i = 0; i < 100 && !Buffer.concat(output).toString().includes(text); i++) await settle();
    };
    await waitFor('Verify return code');
    client.stdin.write('K\n');
    await waitFor('KEYUPDATE');
    await settle();
    client.stdin.write(`GET ${KUBELET_LOGS} HTTP/1.1\nHost: localhost\nConnection: close\n\n`);
    await waitFor(`answer to ${KUBELET_LOGS}`);
    client.stdin.end();
    await closed;
    await settle();
    const keyLog = new KeyLog();
    keyLog.addKeyLog(readFileSync(keyFile, 'latin1'));
    const a = analyse(h1Proxy.connections[index], keyLog);
    expect(a.tls?.decrypted).toEqual({ handshake: true, applicationData: true, failure: null });
    expect(a.tls?.handshake.filter((s) => s.message === 'KeyUpdate').map((s) => s.from)).toEqual(['client', 'server']);
    expect(a.http?.requests.map((r) => [r.target, r.status])).toEqual([[KUBELET_LOGS, 200]]);
  });
});

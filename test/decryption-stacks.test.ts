/**
 * Decryption of real captures: packets recorded by tcpdump, decrypted with the key log the stacks
 * wrote, compared with tshark reading the same capture with the same key log, and again with the
 * key log embedded in the capture as a pcapng Decryption Secrets Block (`editcap --inject-secrets`).
 * - captures/sample-tls-http.pcap and its key log (Node clients, curl, s_client; bench/make-capture.mjs);
 * - made now: curl (SSLKEYLOGFILE) in a network namespace against a Node HTTP/2 server that writes
 *   its own key log from the `keylog` event — TLS 1.3 and 1.2, HTTP/1.1 and HTTP/2, a client certificate.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyLog } from '../src/analyzers/tls/index.js';
import { repoRoot } from './helpers/corpus.js';
import { analyzeWithKeys, keyLogFile, keyLogOfDsb, kwireSees, tsharkSees, type DecryptedFlow } from './helpers/decrypt.js';
import { STEP_TIMEOUT_MS } from './stacks/processes.js';
import { capture, createNetns, hasTool, makePki, type Netns, type Pki } from './stacks/stacks.js';

const SAMPLE = path.join(repoRoot, 'captures', 'sample-tls-http.pcap');
const SAMPLE_KEYS = path.join(repoRoot, 'captures', 'sample-tls-http.keys');
const SAMPLE_PORTS = ['6443', '8443', '10250'].flatMap((p) => [`tcp.port==${p},tls`, `tls.port==${p},http`]);

const TOOLS = ['tshark', 'editcap'];
const missing = TOOLS.filter((tool) => !hasTool(tool));

let work: string;
beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'kwire-decrypt-stacks-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The capture rewritten as pcapng with the key log inside it. */
function withSecrets(pcap: string, keys: string): string {
  const out = path.join(work, `${path.basename(pcap, '.pcap')}-dsb.pcapng`);
  execFileSync('editcap', ['--inject-secrets', `tls,${keys}`, pcap, out], { stdio: 'pipe' });
  return out;
}

/** Flows as JSON, to compare a key log file's decryption with a DSB's. */
const asJson = (flows: DecryptedFlow[]) => JSON.stringify(flows.map((f) => f.analysis));

describe.skipIf(missing.length > 0)(`captures/sample-tls-http.pcap with its key log${missing.length ? ` (skipped: ${missing.join(', ')} not installed)` : ''}`, () => {
  it.runIf(existsSync(SAMPLE))('decrypts every TLS connection to what tshark shows; the same from a DSB', async () => {
    const flows = await analyzeWithKeys(SAMPLE, keyLogFile(SAMPLE_KEYS));
    const tls = flows.map((f) => f.analysis.tls).filter((t) => t !== null && t.version !== null);
    expect(tls.length).toBeGreaterThan(0);
    for (const t of tls) expect(t!.decrypted).toMatchObject({ handshake: true, failure: null });
    const seen = kwireSees(flows);
    expect(seen.http1Targets.length).toBeGreaterThan(0);
    expect(seen).toEqual(tsharkSees(SAMPLE, SAMPLE_KEYS, SAMPLE_PORTS));
    const dsb = withSecrets(SAMPLE, SAMPLE_KEYS);
    expect(asJson(await analyzeWithKeys(dsb, keyLogOfDsb(dsb)))).toBe(asJson(await analyzeWithKeys(SAMPLE, keyLogFile(SAMPLE_KEYS))));
  });
});

/** Why the live part cannot run here, or null. */
function liveBlocker(): string | null {
  if (process.getuid?.() !== 0) return 'needs root for a network namespace';
  const absent = ['tcpdump', 'ip', 'ethtool', 'curl', 'openssl', ...TOOLS].filter((tool) => !hasTool(tool));
  return absent.length > 0 ? `${absent.join(', ')} not installed` : null;
}

const blocker = liveBlocker();

describe.skipIf(blocker !== null)(`curl and a Node HTTP/2 server, captured by tcpdump${blocker ? ` (skipped: ${blocker})` : ''}`, () => {
  let net: Netns;
  let pki: Pki;
  let server: http2.Http2SecureServer;
  const serverKeys = new KeyLog();

  beforeAll(async () => {
    net = createNetns();
    pki = makePki(work);
    server = http2.createSecureServer(
      {
        key: readFileSync(pki.serverKey), cert: readFileSync(pki.serverCert), ca: readFileSync(pki.ca),
        allowHTTP1: true, requestCert: true, rejectUnauthorized: false,
      },
      (req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`answer to ${req.url}`);
      },
    );
    server.on('keylog', (line: Buffer) => serverKeys.feed(line));
    await new Promise<void>((resolve) => server.listen(0, net.serverAddress, resolve));
  });

  afterAll(() => {
    server?.close();
    net?.destroy();
  });

  function curl(port: number, keylog: string, args: string[], target: string): Promise<void> {
    const [cmd, argv] = net.inClient('curl', [
      '-sS', '--max-time', '5', '--cacert', pki.ca, '--resolve', `localhost:${port}:${net.serverAddress}`, ...args, `https://localhost:${port}${target}`,
    ]);
    return new Promise((resolve) => {
      const child = spawn(cmd, argv, { stdio: 'ignore', env: { ...process.env, SSLKEYLOGFILE: keylog } });
      const timer = setTimeout(() => child.kill('SIGKILL'), STEP_TIMEOUT_MS);
      child.on('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  it('decrypts curl over TLS 1.3 and 1.2, HTTP/1.1 and HTTP/2, with curl\'s key log and the server\'s; tshark agrees; a DSB does the same', async () => {
    const port = (server.address() as AddressInfo).port;
    const file = path.join(work, 'curl.pcap');
    const curlKeys = path.join(work, 'curl.keys');
    const cert = ['--cert', pki.clientCert, '--key', pki.clientKey];
    const runs: Array<[string[], string]> = [
      [['--http1.1', '--tlsv1.3', '--tls13-ciphers', 'TLS_AES_128_GCM_SHA256'], '/api/v1/namespaces/default/pods/web/proxy/'],
      [['--http2', '--tlsv1.3', '--tls13-ciphers', 'TLS_CHACHA20_POLY1305_SHA256', ...cert], '/containerLogs/default/web/nginx'],
      [['--http2', '--tlsv1.2', '--tls-max', '1.2', '--ciphers', 'ECDHE-ECDSA-AES256-GCM-SHA384'], '/api/v1/nodes/kw-node-1/proxy/metrics'],
    ];
    await capture(net, file, port, async () => {
      for (const [args, target] of runs) await curl(port, curlKeys, args, target);
    });
    const fromCurl = await analyzeWithKeys(file, keyLogFile(curlKeys));
    const fromServer = await analyzeWithKeys(file, serverKeys);
    expect(asJson(fromServer)).toBe(asJson(fromCurl));
    const summary = fromCurl.map(({ analysis: a }) => ({
      tls: [a.tls?.version, a.tls?.cipher, a.tls?.alpn],
      decrypted: a.tls?.decrypted,
      client: [a.tls?.clientCertRequested, a.tls?.clientCertPresented, a.tls?.clientAuthEvidence],
      http: a.http?.requests.map((r) => [a.http?.version, r.method, r.target, r.status, r.k8s?.kind]),
    }));
    const ok = { handshake: true, applicationData: true, failure: null };
    expect(summary).toEqual([
      { tls: ['1.3', 'TLS_AES_128_GCM_SHA256', 'http/1.1'], decrypted: ok, client: [true, false, 'decrypted'], http: [['1.1', 'GET', runs[0][1], 200, 'apiserver-proxy-pod']] },
      { tls: ['1.3', 'TLS_CHACHA20_POLY1305_SHA256', 'h2'], decrypted: ok, client: [true, true, 'decrypted'], http: [['2', 'GET', runs[1][1], 200, 'kubelet-logs']] },
      { tls: ['1.2', 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'h2'], decrypted: ok, client: [true, false, 'observed'], http: [['2', 'GET', runs[2][1], 200, 'apiserver-proxy-node']] },
    ]);
    expect(kwireSees(fromCurl)).toEqual(tsharkSees(file, curlKeys));
    const dsb = withSecrets(file, curlKeys);
    expect(asJson(await analyzeWithKeys(dsb, keyLogOfDsb(dsb)))).toBe(asJson(fromCurl));
  });
});

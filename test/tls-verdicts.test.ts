/**
 * End to end: real TLS 1.2 handshakes (node:tls, OpenSSL 3) on loopback, recorded by tcpdump,
 * read by `analyze()` with the cluster CA as trust anchor. Each server certificate's verdict, the
 * client's certificate and `established` are what happened on the wire.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { once } from 'node:events';
import { analyze, loadClusterFile, TrustAnchors } from '../src/lib.js';
import { kwire } from './helpers/cli.js';

let dir: string;
const file = (name: string) => path.join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A CA and leaves signed by it; `openssl ca` is the one that takes explicit validity dates. */
function makePki(): void {
  writeFileSync(file('ca.cnf'), `[ca]\ndefault_ca=kw\n[kw]\ndatabase=${file('index.txt')}\nnew_certs_dir=${dir}\nserial=${file('serial')}\ndefault_md=sha256\npolicy=any\ncopy_extensions=copy\n[any]\ncommonName=supplied\n`);
  writeFileSync(file('index.txt'), '');
  writeFileSync(file('serial'), '1000\n');
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=kubernetes', '-days', '3650');
  const leaf = (name: string, san: string, start: string, end: string) => {
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`, '-addext', `subjectAltName=${san}`);
    openssl('ca', '-batch', '-config', 'ca.cnf', '-cert', 'ca.crt', '-keyfile', 'ca.key', '-in', `${name}.csr`, '-out', `${name}.crt`, '-startdate', start, '-enddate', end, '-notext');
  };
  leaf('good', 'IP:127.0.0.1', '20240101000000Z', '20340101000000Z');
  leaf('expired', 'IP:127.0.0.1', '20200101000000Z', '20210101000000Z');
  leaf('wrongname', 'DNS:node1,IP:198.18.0.21', '20240101000000Z', '20340101000000Z');
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'selfsigned.key', '-out', 'selfsigned.crt', '-subj', '/CN=node1@1700000000', '-days', '365');
}

interface Handshake {
  server: string;
  /** Whether the client checks the server against the CA (and hangs up on failure). */
  verify: boolean;
}

/** Runs one TLS 1.2 exchange per case on loopback while tcpdump records it; returns the capture. */
async function record(cases: Handshake[]): Promise<string> {
  const pcap = file('verdicts.pcap');
  // Other tests' loopback traffic may match the filter too: a buffer of 16 MiB, not 2.
  const tcpdump = spawn('tcpdump', ['-i', 'lo', '--immediate-mode', '-B', '16384', '-U', '-s', '0', '-Z', 'root', '-w', pcap, 'tcp and host 127.0.0.1 and portrange 20000-60999'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let said = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('tcpdump did not start')), 10_000);
    tcpdump.stderr.on('data', (text: Buffer) => {
      said += text.toString();
      if (said.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  try {
    for (const { server: name, verify } of cases) {
      const server = tls.createServer({ key: readFileSync(file(`${name}.key`)), cert: readFileSync(file(`${name}.crt`)), maxVersion: 'TLSv1.2' }, (socket) => {
        socket.on('error', () => {});
        socket.on('data', () => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'));
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const port = (server.address() as { port: number }).port;
      const client = tls.connect({ host: '127.0.0.1', port, ca: readFileSync(file('ca.crt')), rejectUnauthorized: verify, maxVersion: 'TLSv1.2' });
      client.on('error', () => {});
      client.resume(); // read the response, so that 'end' comes
      await firstOf(client, ['secureConnect', 'close']);
      if (!client.destroyed) {
        client.write('GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
        await firstOf(client, ['end', 'close']);
      }
      client.destroy();
      server.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 300)); // the last FINs reach the capture
  } finally {
    tcpdump.kill('SIGINT');
    await once(tcpdump, 'exit');
  }
  // A handshake missing from the capture is the capture's fault, not kwire's: say which.
  expect(/(\d+) packets? dropped by kernel/.exec(said)?.[1], `tcpdump: ${said}`).toBe('0');
  return pcap;
}

/** Resolves on the first of `events` (an 'error' on the way is expected and ignored: `once` would reject). */
function firstOf(emitter: tls.TLSSocket, events: string[]): Promise<void> {
  return new Promise((resolve) => {
    for (const event of events) emitter.once(event, () => resolve());
  });
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kwire-verdicts-'));
  makePki();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('server certificate verdicts on real handshakes', () => {
  it('tells trusted, expired, name-mismatch and self-signed apart, and sees a client that hangs up', async () => {
    const pcap = await record([
      { server: 'good', verify: true },
      { server: 'expired', verify: false },
      { server: 'wrongname', verify: false },
      { server: 'selfsigned', verify: false },
      { server: 'selfsigned', verify: true },
    ]);
    const doc = await analyze(pcap, { anchors: TrustAnchors.fromPem(readFileSync(file('ca.crt'), 'utf8')) });
    const tlsFlows = doc.flows.filter((flow) => flow.protocol === 'tls');
    expect(tlsFlows.map((flow) => [flow.tls!.version, flow.tls!.serverChain[0]?.subject, flow.tls!.serverCertVerdict, flow.tls!.established])).toEqual([
      ['1.2', 'CN=good', 'trusted', true],
      ['1.2', 'CN=expired', 'expired', true],
      ['1.2', 'CN=wrongname', 'name-mismatch', true],
      ['1.2', 'CN=node1@1700000000', 'self-signed', true],
      // node:tls checks the chain after the handshake and hangs up: no alert, no data.
      ['1.2', 'CN=node1@1700000000', 'self-signed', false],
    ]);
    for (const flow of tlsFlows) {
      expect(flow.tls).toMatchObject({ clientCertRequested: false, clientCertPresented: false, clientAuthEvidence: 'observed' });
    }
    expect(tlsFlows[1].tls!.serverCertReason).toMatch(/expired/);
    expect(tlsFlows[2].tls!.serverCertReason).toMatch(/127\.0\.0\.1/);
    // The kubelet's self-signed serving certificate names the server, whatever the port; on
    // loopback the next client shares that address, so it is that node.
    const kubeletCert = 'kubelet serving certificate node1@1700000000';
    expect(tlsFlows.map((flow) => [flow.path, flow.roles.client, flow.roles.server, flow.roles.evidence])).toEqual([
      ...Array(3).fill(['other', null, null, []]),
      ['client->kubelet', null, 'kubelet:node1', [kubeletCert]],
      ['client->kubelet', 'node:node1', 'kubelet:node1', [`earlier flow: ${kubeletCert}`, kubeletCert]],
    ]);

    // The cluster file's `ca` are trust anchors too; without any, nothing is trusted.
    writeFileSync(file('cluster.yaml'), 'ca: [ca.crt]\n');
    const verdicts = (document: typeof doc) => document.flows.filter((flow) => flow.protocol === 'tls').map((flow) => flow.tls!.serverCertVerdict);
    expect(verdicts(await analyze(pcap, { cluster: loadClusterFile(file('cluster.yaml')) }))).toEqual(verdicts(doc));
    expect(verdicts(await analyze(pcap))[0]).toBe('untrusted');

    // The same through the command line, as a user runs it: --ca and --cluster.
    for (const args of [['--ca', file('ca.crt')], ['--cluster', file('cluster.yaml')]]) {
      const result = kwire(['read', pcap, '--json', ...args]);
      expect(result.status).toBe(0);
      expect(verdicts(JSON.parse(result.stdout))).toEqual(verdicts(doc));
    }
  }, 120_000);
});

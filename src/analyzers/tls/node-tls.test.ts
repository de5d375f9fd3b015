/**
 * A real stack: node:tls (OpenSSL 3) client and server on loopback, through a relay that hands
 * each direction's bytes to a TlsAnalyzer as they pass, the way flow/ would.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TlsAnalyzer, newTlsInfo } from './analyzer.js';

vi.mock('./tls13-inference.js', () => ({
  inferTls13ClientAuth: () => ({ clientCertRequested: null, clientCertPresented: null, rejected: false, reasoning: '' }),
}));

let dir: string;
const pem = (name: string): Buffer => readFileSync(path.join(dir, name));

/** A CA, a server certificate for `localhost` and a client certificate, made with the openssl CLI. */
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kwire-tls-'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=test-ca', '-days', '2');
  for (const [name, cn] of [
    ['server', 'localhost'],
    ['client', 'system:node:node1'],
  ]) {
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2');
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Case {
  version: tls.SecureVersion;
  requestCert: boolean;
  clientCert: boolean;
  /** The client trusts the CA (else it rejects the server). */
  trusts: boolean;
  /** The server insists on a client certificate. */
  serverRejects?: boolean;
}

/** Runs one connection: the client writes a request, the server answers, the client closes. */
async function connect(c: Case): Promise<TlsAnalyzer> {
  const analyzer = new TlsAnalyzer(newTlsInfo());
  /** The relay's reads stand in for packets. */
  let packets = 0;
  const server = tls.createServer({
    key: pem('server.key'),
    cert: pem('server.crt'),
    ca: pem('ca.crt'),
    requestCert: c.requestCert,
    rejectUnauthorized: c.serverRejects ?? false,
    minVersion: c.version,
    maxVersion: c.version,
  });
  server.on('secureConnection', (socket) => socket.once('data', () => socket.write('pong')));
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const relay = net.createServer((inbound) => {
    const outbound = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    inbound.on('data', (chunk) => {
      analyzer.onData(0, chunk, Date.now() / 1000, ++packets);
      outbound.write(chunk);
    });
    outbound.on('data', (chunk) => {
      analyzer.onData(1, chunk, Date.now() / 1000, ++packets);
      inbound.write(chunk);
    });
    inbound.on('close', () => outbound.end());
    outbound.on('close', () => inbound.end());
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => {
    const client = tls.connect({
      port: (relay.address() as net.AddressInfo).port,
      host: '127.0.0.1',
      servername: 'localhost',
      ca: c.trusts ? pem('ca.crt') : undefined,
      ...(c.clientCert ? { key: pem('client.key'), cert: pem('client.crt') } : {}),
      minVersion: c.version,
      maxVersion: c.version,
      ALPNProtocols: ['h2', 'http/1.1'],
    });
    client.on('secureConnect', () => client.write('ping'));
    client.on('data', () => client.end());
    client.on('error', () => {});
    client.on('close', () => setTimeout(resolve, 50));
  });
  relay.close();
  server.close();
  analyzer.onEnd('fin');
  return analyzer;
}

describe('node:tls through the analyzer', () => {
  it('TLS 1.2 with a client certificate: CertificateRequest naming the CA, the client chain, established', async () => {
    const a = await connect({ version: 'TLSv1.2', requestCert: true, clientCert: true, trusts: true });
    expect(a.info).toMatchObject({
      version: '1.2',
      sni: 'localhost',
      alpnOffered: ['h2', 'http/1.1'],
      established: true,
      clientCertRequested: true,
      clientCertPresented: true,
      clientAuthEvidence: 'observed',
      requestedCAs: ['CN=test-ca'],
      alert: null,
      stopped: null,
    });
    // OpenSSL completes both chains with the CA from its trust store.
    expect(a.serverChainDer).toHaveLength(2);
    expect(a.clientChainDer).toHaveLength(2);
    expect(a.info.ja4).toMatch(/^t12d\d{4}h2_[0-9a-f]{12}_[0-9a-f]{12}$/);
  });

  it('TLS 1.2 without CertificateRequest: nothing requested, nothing presented', async () => {
    const a = await connect({ version: 'TLSv1.2', requestCert: false, clientCert: false, trusts: true });
    expect(a.info).toMatchObject({ established: true, clientCertRequested: false, clientCertPresented: false, clientAuthEvidence: 'observed' });
  });

  it('TLS 1.2 server that wants a client certificate and gets none: a clear fatal alert, not established', async () => {
    const a = await connect({ version: 'TLSv1.2', requestCert: true, clientCert: false, trusts: true, serverRejects: true });
    expect(a.info).toMatchObject({ established: false, clientCertRequested: true, clientCertPresented: false });
    // The relay's reads, which stand in for packets here, are not predictable.
    expect(a.info.alert).toEqual({ from: 'server', level: 'fatal', description: 'handshake_failure', inClear: true, packet: expect.any(Number) });
  });

  it('TLS 1.2 client that rejects the server: node checks after the handshake, so no alert, and no data', async () => {
    const a = await connect({ version: 'TLSv1.2', requestCert: false, clientCert: false, trusts: false });
    expect(a.info).toMatchObject({ established: false, alert: null });
  });

  it('TLS 1.3: established by the Finished rule, client authentication left to the inference', async () => {
    const a = await connect({ version: 'TLSv1.3', requestCert: true, clientCert: true, trusts: true });
    expect(a.info).toMatchObject({ version: '1.3', established: true, clientAuthEvidence: 'unknown', clientCertRequested: null });
    expect(a.serverChainDer).toEqual([]);
    expect(a.encryptedRecords.filter((r) => r.from === 'client').length).toBeGreaterThanOrEqual(4);
  });

  it('TLS 1.3 client that rejects the server: not established', async () => {
    const a = await connect({ version: 'TLSv1.3', requestCert: false, clientCert: false, trusts: false });
    expect(a.info.version).toBe('1.3');
    expect(a.info.established).toBe(false);
  });
});

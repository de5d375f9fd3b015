/**
 * The TLS 1.3 scenarios behind captures/tls13/: which server and client, how the server asks for
 * a client certificate, which certificate the client has, and what inferTls13ClientAuth must say
 * of each TLS connection in the capture. The same table regenerates the captures and drives the
 * live test, so a capture and its expectation cannot drift apart.
 */
import type { Tls13ClientAuthInference } from '../../src/analyzers/tls/encrypted-records.js';
import * as stacks from './stacks.js';
import type { ClientSpec, GoBinaries, Netns, Pki, Running, ServerAuth } from './stacks.js';

export type Expected = Omit<Tls13ClientAuthInference, 'reasoning'>;
export type ServerStack = 'node' | 'openssl' | 'go';
export type ClientStack = 'node' | 'openssl' | 'curl' | 'go' | 'kubectl';

export interface Scenario {
  /** File name in captures/tls13/, without `.pcap`. */
  name: string;
  server: ServerStack;
  auth: ServerAuth;
  /** TLS 1.3 suites the server allows (OpenSSL's names); its default otherwise. */
  serverSuites?: string;
  client: ClientStack;
  spec: ClientSpec;
  /** One line for captures/README.md. */
  what: string;
  /** Per TLS connection, in order. */
  expected: Expected[];
}

const mutual: Expected = { clientCertRequested: true, clientCertPresented: true, rejected: false, rejectedBy: null };
const noAuth: Expected = { clientCertRequested: false, clientCertPresented: false, rejected: false, rejectedBy: null };
const resumed: Expected = { clientCertRequested: null, clientCertPresented: null, rejected: false, rejectedBy: null };

export const SCENARIOS: Scenario[] = [
  {
    name: 'go-requireclientcert-withcert', server: 'go', auth: 'require', client: 'go', spec: { cert: 'good' },
    what: 'RequireAndVerifyClientCert; the client has a certificate of the server\'s CA', expected: [mutual],
  },
  {
    name: 'go-requireclientcert-nocert', server: 'go', auth: 'require', client: 'go', spec: { cert: 'empty' },
    what: 'RequireAndVerifyClientCert; the client has no certificate, sends an empty Certificate, and the server answers with an encrypted alert',
    expected: [{ clientCertRequested: true, clientCertPresented: false, rejected: true, rejectedBy: 'server' }],
  },
  {
    name: 'go-noclientcert', server: 'go', auth: 'none', client: 'go', spec: { cert: 'good' },
    what: 'NoClientCert; the client has a certificate but is not asked for it', expected: [noAuth],
  },
  {
    name: 'go-client-rejects-server', server: 'go', auth: 'none', client: 'go', spec: { cert: 'good', distrustServer: true },
    what: 'the client trusts another CA: after the server\'s flight it sends ChangeCipherSpec and an encrypted alert',
    expected: [{ clientCertRequested: false, clientCertPresented: null, rejected: true, rejectedBy: 'client' }],
  },
  {
    name: 'kubectl-go-require-withcert', server: 'go', auth: 'require', client: 'kubectl', spec: { cert: 'good' },
    what: '`kubectl get --raw /version` with client-certificate-data in its kubeconfig', expected: [mutual],
  },
  {
    name: 'kubectl-go-require-nocert', server: 'go', auth: 'require', client: 'kubectl', spec: { cert: 'empty' },
    what: '`kubectl get --raw /version` with a kubeconfig without client certificate: empty Certificate, then the server\'s alert',
    expected: [{ clientCertRequested: true, clientCertPresented: false, rejected: true, rejectedBy: 'server' }],
  },
  {
    name: 'openssl-request-empty-chacha', server: 'openssl', auth: 'request', serverSuites: 'TLS_CHACHA20_POLY1305_SHA256', client: 'openssl',
    spec: { cert: 'empty' }, what: '`s_server -verify 1` (request); `s_client` without `-cert` answers with an empty Certificate; ChaCha20-Poly1305',
    expected: [{ clientCertRequested: true, clientCertPresented: false, rejected: false, rejectedBy: null }],
  },
  {
    name: 'openssl-reject-client', server: 'openssl', auth: 'require', client: 'openssl', spec: { cert: 'rogue' },
    what: '`s_server -Verify 1`; `s_client -cert` with a certificate of another CA: the server sends an encrypted alert after the client\'s flight',
    expected: [{ clientCertRequested: true, clientCertPresented: true, rejected: true, rejectedBy: 'server' }],
  },
  {
    name: 'openssl-client-rejects-server', server: 'openssl', auth: 'none', client: 'openssl', spec: { cert: 'good', distrustServer: true },
    what: '`s_client -verify_return_error` trusting another CA: its alert goes in clear (content type 21) after the server\'s flight',
    expected: [{ clientCertRequested: false, clientCertPresented: null, rejected: true, rejectedBy: 'client' }],
  },
  {
    name: 'curl-openssl-require-withcert-aes128', server: 'openssl', auth: 'require', serverSuites: 'TLS_AES_128_GCM_SHA256', client: 'curl',
    spec: { cert: 'good' }, what: '`s_server -Verify 1`; `curl --cert`; TLS_AES_128_GCM_SHA256', expected: [mutual],
  },
  {
    name: 'node-none', server: 'node', auth: 'none', client: 'node', spec: { cert: 'good' },
    what: 'no `requestCert`; the client has a certificate but is not asked for it', expected: [noAuth],
  },
  {
    name: 'node-request-withcert', server: 'node', auth: 'request', client: 'node', spec: { cert: 'good' },
    what: '`requestCert: true, rejectUnauthorized: false`; the client sends its certificate', expected: [mutual],
  },
  {
    name: 'node-require-empty', server: 'node', auth: 'require', client: 'node', spec: { cert: 'empty' },
    what: '`requestCert: true, rejectUnauthorized: true`; no client certificate: OpenSSL inside Node sends an encrypted alert',
    expected: [{ clientCertRequested: true, clientCertPresented: false, rejected: true, rejectedBy: 'server' }],
  },
  {
    name: 'node-reject-client', server: 'node', auth: 'require', client: 'node', spec: { cert: 'rogue' },
    what: '`rejectUnauthorized: true` with a client certificate of another CA: Node rejects it in JavaScript and closes without an alert, so no rejection can be claimed',
    expected: [{ clientCertRequested: true, clientCertPresented: true, rejected: false, rejectedBy: null }],
  },
  {
    name: 'node-client-rejects-server', server: 'node', auth: 'require', client: 'node', spec: { cert: 'good', distrustServer: true },
    what: 'the Node client trusts another CA: it closes after the server\'s flight without any record, so no rejection can be claimed',
    expected: [{ clientCertRequested: true, clientCertPresented: null, rejected: false, rejectedBy: null }],
  },
  {
    name: 'node-resumed', server: 'node', auth: 'require', client: 'node', spec: { cert: 'good', resume: true },
    what: 'a full handshake with a client certificate, then a second connection resuming it (PSK): EncryptedExtensions and Finished only',
    expected: [mutual, resumed],
  },
];

export interface Stacks {
  net: Netns;
  pki: Pki;
  /** Null when `go` is not installed. */
  go: GoBinaries | null;
  work: string;
}

function startServer(s: Stacks, scenario: Scenario): Promise<Running> {
  if (scenario.server === 'node') return stacks.nodeServer(s.net, s.pki, scenario.auth, scenario.serverSuites);
  if (scenario.server === 'openssl') return stacks.opensslServer(s.net, s.pki, scenario.auth, scenario.serverSuites);
  if (s.go === null) throw new Error('go is not installed');
  return stacks.goServer(s.net, s.go, s.pki, scenario.auth);
}

function runClient(s: Stacks, scenario: Scenario, port: number): Promise<void> {
  switch (scenario.client) {
    case 'node':
      return stacks.nodeClient(s.net, s.pki, port, scenario.spec);
    case 'openssl':
      return stacks.opensslClient(s.net, s.pki, port, scenario.spec);
    case 'curl':
      return stacks.curlClient(s.net, s.pki, port, scenario.spec);
    case 'kubectl':
      return stacks.kubectlClient(s.net, s.pki, port, scenario.spec, s.work);
    case 'go':
      if (s.go === null) throw new Error('go is not installed');
      return stacks.goClient(s.net, s.go, s.pki, port, scenario.spec);
  }
}

/** Tools a scenario needs besides node and tcpdump. */
export function toolsFor(scenario: Scenario): string[] {
  const tools = new Set<string>();
  for (const stack of [scenario.server, scenario.client]) {
    if (stack === 'go') tools.add('go');
    if (stack === 'openssl') tools.add('openssl');
    if (stack === 'curl') tools.add('curl');
    if (stack === 'kubectl') tools.add('kubectl');
  }
  return [...tools];
}

/** Runs a scenario and records it into `file`. */
export async function recordScenario(s: Stacks, scenario: Scenario, file: string): Promise<void> {
  const server = await startServer(s, scenario);
  try {
    await stacks.capture(s.net, file, server.port, () => runClient(s, scenario, server.port));
  } finally {
    await server.close();
  }
}

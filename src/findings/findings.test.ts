/**
 * The rule catalogue on flows described field by field: where each rule fires, where it must
 * not, its severity per path and how it cites the evidence. Real traffic for every rule is in
 * test/scenarios.test.ts; these cases pin the edges the scenarios cannot all reach.
 */
import { describe, expect, it } from 'vitest';
import type { CommPath, FlowJson } from '../model/document.js';
import type { CertificateInfo, HttpRequestInfo, TlsInfo } from '../model/protocol.js';
import { findingsFor, RULES } from './index.js';

const T0 = Date.parse('2026-06-01T00:00:00Z') / 1000;

function certificate(subject: string, issuer: string, over: Partial<CertificateInfo> = {}): CertificateInfo {
  return {
    subject, issuer, serial: '01', notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2027-01-01T00:00:00.000Z',
    sha256: `${subject.length.toString(16).padStart(2, '0')}`.repeat(32), selfSigned: subject === issuer, san: [],
    keyType: 'EC', keySize: 256, curve: 'prime256v1', isCA: false, keyUsage: [], extKeyUsage: ['serverAuth'], ...over,
  };
}

const kubeletSelfSigned = [certificate('CN=node1@1700000000', 'CN=node1-ca@1700000000'), certificate('CN=node1-ca@1700000000', 'CN=node1-ca@1700000000', { isCA: true })];
const clusterIssued = [certificate('CN=system:node:node1', 'CN=kubernetes')];

function tls(over: Partial<TlsInfo> = {}): TlsInfo {
  return {
    version: '1.2', clientVersion: '1.3', sni: null, alpnOffered: [], alpn: null, cipher: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
    established: true, resumed: false, helloRetryRequest: false, clientCertRequested: true, clientCertPresented: true,
    clientAuthEvidence: 'observed', requestedCAs: [], serverChain: clusterIssued, clientChain: [], serverCertVerdict: 'trusted',
    serverCertReason: null, alert: null, ja4: null, stopped: null,
    handshake: [
      { from: 'client', message: 'ClientHello', length: 200, ts: T0, packet: 4 },
      { from: 'server', message: 'ServerHello', length: 90, ts: T0, packet: 6 },
      { from: 'server', message: 'Certificate', length: 900, ts: T0, packet: 7 },
      { from: 'server', message: 'ServerHelloDone', length: 0, ts: T0, packet: 7 },
      { from: 'client', message: 'Certificate', length: 450, ts: T0, packet: 9 },
    ],
    ...over,
  };
}

function request(over: Partial<HttpRequestInfo> = {}): HttpRequestInfo {
  return {
    method: 'GET', target: '/pods', host: null, status: 200, auth: 'none', credentials: [], upgrade: null, streamProtocol: null,
    k8s: null, ts: T0, packet: 4, responsePacket: 6, ...over,
  };
}

function flow(path: CommPath, over: Partial<FlowJson> = {}): FlowJson {
  return {
    id: 7, src: '198.18.1.10', sport: 40000, dst: '198.18.1.21', dport: 10250, firstTs: T0, lastTs: T0 + 1,
    packets: { c2s: 10, s2c: 10 }, bytes: { c2s: 1000, s2c: 2000 }, gaps: { c2s: 0, s2c: 0 }, state: 'closed',
    path, via: null, roles: { client: null, server: null, evidence: [] }, protocol: 'tls', tls: tls(), ...over,
  };
}

const plain = (path: CommPath, requests: HttpRequestInfo[], over: Partial<FlowJson> = {}) =>
  flow(path, { protocol: 'http', tls: undefined, http: { version: '1.1', requests, moreRequests: 0, h2: null, stopped: null }, ...over });

const withAnchors = { anchorsGiven: true, firstPacket: 1 };
const noAnchors = { anchorsGiven: false, firstPacket: 1 };
const rules = (f: FlowJson, context = withAnchors) => findingsFor(f, context).map((finding) => `${finding.rule}:${finding.severity}`);

describe('the catalogue', () => {
  it('has the thirteen rules of SPEC.md §4, each with its id, name, title, fix and references', () => {
    expect(RULES.map((rule) => rule.id)).toEqual(['KW001', 'KW002', 'KW003', 'KW004', 'KW005', 'KW006', 'KW007', 'KW008', 'KW009', 'KW010', 'KW011', 'KW012', 'KW013']);
    expect(RULES.map((rule) => `${rule.name}:${rule.severity}`)).toEqual([
      'plaintext-http:high', 'kubelet-readonly-port:high', 'server-not-verified:high', 'no-client-auth:high', 'credentials-in-cleartext:critical',
      'proxy-backend-unverified:medium', 'handshake-rejected:info', 'weak-tls:medium', 'certificate-validity:high', 'stream-in-cleartext:critical',
      'anonymous-request-accepted:high', 'ssh-tunnel:info', 'insecure-apiserver-port:critical',
    ]);
    for (const path of ['node->apiserver', 'apiserver->kubelet', 'client->kubelet', 'apiserver->pod', 'apiserver->etcd', 'tunnel'] as CommPath[]) {
      for (const rule of RULES) {
        expect(rule.title.length, rule.id).toBeGreaterThan(10);
        // KW004 applies only where mutual TLS is expected, and has a fix and references only there.
        if (rule.id === 'KW004' && (path === 'apiserver->pod' || path === 'tunnel')) continue;
        expect(rule.remediation(flow(path)).length, `${rule.id} on ${path}`).toBeGreaterThan(20);
        expect(rule.references(flow(path)).length, `${rule.id} on ${path}`).toBeGreaterThan(0);
      }
    }
  });

  it('finds nothing on a hardened mutual-TLS connection', () => {
    for (const path of ['node->apiserver', 'apiserver->kubelet', 'client->kubelet', 'apiserver->etcd', 'client->apiserver'] as CommPath[]) {
      expect(findingsFor(flow(path), withAnchors), path).toEqual([]);
    }
  });

  it('orders a flow\'s findings worst first and fills every field', () => {
    const found = findingsFor(plain('pod->apiserver', [request({ target: '/api/v1/pods', auth: 'bearer', credentials: [{ kind: 'bearer-jwt', sha256Prefix: 'a1b2c3d4e5f6', header: 'authorization', jwt: { iss: 'https://kubernetes.default.svc', sub: 'system:serviceaccount:default:web', aud: null, exp: null } }] })], { dport: 8080 }), withAnchors);
    expect(found.map((finding) => finding.rule)).toEqual(['KW005', 'KW013', 'KW001']);
    const kw005 = found[0];
    expect(kw005).toMatchObject({ rule: 'KW005', name: 'credentials-in-cleartext', severity: 'critical', flowId: 7, path: 'pod->apiserver' });
    expect(kw005.evidence).toEqual({
      basis: 'observed', packets: [1, 4], certificates: [],
      facts: ['bearer-jwt in authorization (sha256 a1b2c3d4e5f6…, sub system:serviceaccount:default:web, iss https://kubernetes.default.svc)'],
    });
    expect(kw005.remediation).toMatch(/revoke/);
  });
});

describe('plaintext (KW001, KW002, KW005, KW010, KW011, KW013)', () => {
  it('KW001 fires on every control-plane path, never on other', () => {
    expect(rules(plain('apiserver->pod', [request({ target: '/', status: 200 })]))).toEqual(['KW001:high']);
    expect(rules(plain('other', [request({ target: '/', auth: 'none' })]))).toEqual([]);
  });

  it('KW002 needs the read-only port to have carried data', () => {
    const readOnly = plain('client->kubelet', [request({ target: '/pods' })], { dport: 10255 });
    expect(rules(readOnly)).toEqual(['KW001:high', 'KW002:high', 'KW011:high']);
    expect(rules(flow('client->kubelet', { dport: 10255, protocol: 'unknown', tls: undefined, bytes: { c2s: 0, s2c: 0 } }))).toEqual([]);
  });

  it('KW010 on an exec upgrade in clear; not on a plain websocket to a pod', () => {
    const exec = request({ method: 'POST', target: '/exec/default/web/nginx?command=sh&input=1', status: 101, upgrade: 'SPDY/3.1', streamProtocol: 'v4.channel.k8s.io', k8s: { kind: 'kubelet-exec', namespace: 'default', name: 'web', forwardedUri: null } });
    expect(rules(plain('client->kubelet', [exec]))).toEqual(['KW010:critical', 'KW001:high']);
    const chat = request({ target: '/socket', status: 101, upgrade: 'websocket' });
    expect(rules(plain('apiserver->pod', [chat]))).toEqual(['KW001:high']);
    expect(findingsFor(plain('client->kubelet', [exec]), withAnchors)[0].evidence.facts[0]).toBe('POST /exec/default/web/nginx → 101 (Upgrade: SPDY/3.1, v4.channel.k8s.io)');
  });

  it("KW011 skips the apiserver's public endpoints, refused requests and requests with credentials", () => {
    const apiserver = (target: string, over: Partial<HttpRequestInfo> = {}) => rules(plain('client->apiserver', [request({ target, ...over })], { dport: 8080 }));
    expect(apiserver('/api/v1/secrets')).toContain('KW011:high');
    for (const target of ['/healthz', '/livez?verbose', '/readyz/ping', '/version']) expect(apiserver(target), target).not.toContain('KW011:high');
    expect(apiserver('/api/v1/secrets', { status: 401 })).not.toContain('KW011:high');
    expect(apiserver('/api/v1/secrets', { auth: 'basic' })).not.toContain('KW011:high');
    // The kubelet's /healthz on its API port is behind authentication: answering it anonymously counts.
    expect(rules(plain('client->kubelet', [request({ target: '/healthz' })]))).toContain('KW011:high');
  });

  it('KW013 needs an answer from the apiserver', () => {
    expect(rules(plain('node->apiserver', [request({ target: '/api', status: null, responsePacket: null })]))).toEqual(['KW001:high']);
    expect(rules(plain('node->apiserver', [request({ target: '/api', status: 403 })]))).toEqual(['KW013:critical', 'KW001:high']);
  });
});

describe('server verification (KW003, KW006, KW009)', () => {
  it('KW003 fires when a completed handshake went on with a chain that does not verify', () => {
    const accepted = flow('apiserver->kubelet', { tls: tls({ serverChain: kubeletSelfSigned, serverCertVerdict: 'self-signed', serverCertReason: 'issuer CN=node1-ca@1700000000 is self-signed and not a trust anchor' }) });
    const [finding] = findingsFor(accepted, withAnchors);
    expect(finding).toMatchObject({ rule: 'KW003', severity: 'high' });
    expect(finding.remediation).toMatch(/--kubelet-certificate-authority/);
    expect(finding.references.join('\n')).toMatch(/#api-server-to-kubelet[\s\S]*--kubelet-certificate-authority \(1\.2\.5 in v1\.10\)/);
    expect(finding.evidence).toMatchObject({ basis: 'observed', packets: [1, 7], certificates: kubeletSelfSigned.map((c) => c.sha256) });
    // Rejected, unfinished or resumed: the client did not go on with that chain.
    expect(rules(flow('apiserver->kubelet', { tls: tls({ serverChain: kubeletSelfSigned, serverCertVerdict: 'self-signed', established: false }) }))).toEqual([]);
    expect(rules(flow('apiserver->kubelet', { tls: tls({ serverChain: [], serverCertVerdict: 'unknown', resumed: true, clientCertPresented: null, clientAuthEvidence: 'unknown' }) }))).toEqual([]);
  });

  it('says decrypted when the chain came from a decrypted TLS 1.3 handshake, observed in TLS 1.2', () => {
    const chain = { serverChain: kubeletSelfSigned, serverCertVerdict: 'self-signed' as const };
    const decrypted = tls({ ...chain, version: '1.3', decrypted: { handshake: true, applicationData: true, failure: null } });
    expect(findingsFor(flow('apiserver->kubelet', { tls: decrypted }), withAnchors)[0].evidence.basis).toBe('decrypted');
    expect(findingsFor(flow('apiserver->kubelet', { tls: tls(chain) }), withAnchors)[0].evidence.basis).toBe('observed');
  });

  it('KW003 without trust anchors judges only chains no CA issued', () => {
    const untrusted = flow('node->apiserver', { tls: tls({ serverChain: clusterIssued, serverCertVerdict: 'untrusted' }) });
    expect(rules(untrusted, withAnchors)).toEqual(['KW003:high']);
    expect(rules(untrusted, noAnchors)).toEqual([]);
    const selfSigned = flow('apiserver->kubelet', { tls: tls({ serverChain: kubeletSelfSigned, serverCertVerdict: 'self-signed' }) });
    expect(rules(selfSigned, noAnchors)).toEqual(['KW003:high']);
    expect(findingsFor(selfSigned, noAnchors)[0].detail).toMatch(/without trust anchors/);
  });

  it('KW006 takes the place of KW003 on the proxy paths, and spares a verified webhook', () => {
    const https = (over: Partial<TlsInfo>, via: FlowJson['via'] = null) => rules(flow('apiserver->pod', { via, tls: tls({ clientCertRequested: false, clientCertPresented: false, ...over }) }));
    expect(https({ serverChain: kubeletSelfSigned, serverCertVerdict: 'self-signed' })).toEqual(['KW006:medium']);
    expect(https({ serverCertVerdict: 'trusted' })).toEqual([]);
    expect(https({ serverCertVerdict: 'trusted' }, 'apiserver-proxy')).toEqual(['KW006:medium']);
    expect(https({ serverCertVerdict: 'untrusted', clientCertRequested: true, clientCertPresented: true })).toEqual([]);
  });

  it('KW009 names the certificate out of its validity, server or client', () => {
    const expired = certificate('CN=system:node:node1', 'CN=kubernetes', { notAfter: '2026-03-01T00:00:00.000Z' });
    const future = certificate('CN=kube-apiserver-kubelet-client', 'CN=kubernetes', { notBefore: '2026-09-01T00:00:00.000Z', extKeyUsage: ['clientAuth'] });
    const found = findingsFor(flow('apiserver->kubelet', { tls: tls({ serverChain: [expired], serverCertVerdict: 'expired', clientChain: [future] }) }), withAnchors);
    expect(found.map((finding) => finding.rule)).toEqual(['KW003', 'KW009']);
    expect(found[1].evidence.facts).toEqual([
      'server certificate CN=system:node:node1 expired 2026-03-01T00:00:00.000Z',
      'client certificate CN=kube-apiserver-kubelet-client not valid before 2026-09-01T00:00:00.000Z',
    ]);
    expect(found[1].evidence.packets).toEqual([1, 7, 9]);
  });
});

describe('client authentication (KW004)', () => {
  const noCertificate = (evidence: TlsInfo['clientAuthEvidence'] = 'observed', over: Partial<TlsInfo> = {}) =>
    tls({ clientCertRequested: false, clientCertPresented: false, clientAuthEvidence: evidence, ...over });

  it('is high to a kubelet, medium to the apiserver and etcd, and nothing for pods and other clients', () => {
    expect(rules(flow('apiserver->kubelet', { tls: noCertificate() }))).toEqual(['KW004:high']);
    expect(rules(flow('client->kubelet', { tls: noCertificate() }))).toEqual(['KW004:high']);
    expect(rules(flow('node->apiserver', { tls: noCertificate() }))).toEqual(['KW004:medium']);
    expect(rules(flow('apiserver->etcd', { tls: noCertificate() }))).toEqual(['KW004:medium']);
    expect(rules(flow('pod->apiserver', { tls: noCertificate() }))).toEqual([]);
    expect(rules(flow('client->apiserver', { tls: noCertificate() }))).toEqual([]);
  });

  it('says when it was inferred, and keeps out of what the packets cannot tell', () => {
    const [inferred] = findingsFor(flow('apiserver->kubelet', { tls: noCertificate('inferred', { version: '1.3' }) }), withAnchors);
    expect(inferred.evidence.basis).toBe('inferred');
    expect(inferred.detail).toMatch(/Inferred from the sizes of TLS 1\.3 encrypted handshake records/);
    expect(rules(flow('apiserver->kubelet', { tls: tls({ clientCertRequested: null, clientCertPresented: null, clientAuthEvidence: 'unknown' }) }))).toEqual([]);
    // Asked, none given, and the server refused: that is enforcement (KW007), not a missing check.
    const refused = tls({ clientCertPresented: false, established: false, alert: { from: 'server', level: 'fatal', description: 'certificate_required', inClear: false, packet: 12 } });
    expect(rules(flow('apiserver->kubelet', { tls: refused }))).toEqual(['KW007:info']);
  });
});

describe('handshake and cipher (KW007, KW008), SSH (KW012)', () => {
  it('KW007 cites the alert packet, observed in clear or inferred', () => {
    const alert = (inClear: boolean) => tls({ established: false, alert: { from: 'client', level: 'fatal', description: inClear ? 'unknown_ca' : 'encrypted alert (inferred)', inClear, packet: 11 } });
    const [clear] = findingsFor(flow('apiserver->kubelet', { tls: alert(true) }), withAnchors);
    expect(clear).toMatchObject({ rule: 'KW007', severity: 'info', evidence: { basis: 'observed', packets: [11], facts: ['client alert unknown_ca'] } });
    expect(findingsFor(flow('apiserver->kubelet', { tls: alert(false) }), withAnchors)[0].evidence.basis).toBe('inferred');
    expect(rules(flow('other', { tls: alert(true) }))).toEqual([]);
    expect(rules(flow('apiserver->kubelet', { tls: tls({ alert: { from: 'server', level: 'warning', description: 'close_notify', inClear: true, packet: 20 } }) }))).toEqual([]);
  });

  it('KW008 on versions below 1.2 and on TLS 1.2 suites without forward secrecy or with CBC, RC4, 3DES, NULL, EXPORT', () => {
    const weak = (version: string, cipher: string) => rules(flow('node->apiserver', { tls: tls({ version, cipher }) }));
    expect(weak('1.0', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256')).toEqual(['KW008:medium']);
    expect(weak('1.1', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256')).toEqual(['KW008:medium']);
    for (const cipher of ['TLS_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'TLS_RSA_WITH_RC4_128_SHA', 'TLS_RSA_WITH_3DES_EDE_CBC_SHA', 'TLS_ECDHE_ECDSA_WITH_NULL_SHA', 'TLS_RSA_EXPORT_WITH_RC4_40_MD5', 'TLS_DH_anon_WITH_AES_128_GCM_SHA256']) {
      expect(weak('1.2', cipher), cipher).toEqual(['KW008:medium']);
    }
    for (const cipher of ['TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384', '0xcafe']) expect(weak('1.2', cipher), cipher).toEqual([]);
    expect(weak('1.3', 'TLS_AES_128_GCM_SHA256')).toEqual([]);
  });

  it('KW012 on an SSH tunnel, not on SSH elsewhere', () => {
    const ssh = (path: CommPath) => rules(flow(path, { protocol: 'ssh', tls: undefined, dport: 22, ssh: { clientBanner: 'SSH-2.0-OpenSSH_9.2p1', serverBanner: 'SSH-2.0-OpenSSH_9.2p1' } }));
    expect(ssh('tunnel')).toEqual(['KW012:info']);
    expect(ssh('other')).toEqual([]);
  });
});

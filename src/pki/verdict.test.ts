import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KwireError } from '../model/errors.js';
import { TrustAnchors, chainVerdict, parseCertificate } from './index.js';
import type { ChainVerdictOptions } from './index.js';
import { CA_EXTENSIONS, TestPki, serverExtensions } from './testing.js';

const DAY = 86_400_000;
/** A capture time just after the certificates were made (openssl starts their validity at the second it signs). */
let now: Date;
const KUBEADM_SANS = [
  'DNS:cp1',
  'DNS:kubernetes',
  'DNS:kubernetes.default',
  'DNS:kubernetes.default.svc',
  'DNS:kubernetes.default.svc.cluster.local',
  'IP:10.96.0.1',
  'IP:198.18.0.10',
].join(',');

let pki: TestPki;
let cluster: TrustAnchors;
let kubeletCa: TrustAnchors;
let root: TrustAnchors;

beforeAll(() => {
  pki = new TestPki();
  // kubeadm: cluster CA, apiserver serving, a CSR-issued kubelet serving certificate.
  pki.issue('kubernetes', { subject: '/CN=kubernetes', key: 'rsa2048', days: 3650, extensions: CA_EXTENSIONS });
  pki.issue('apiserver', { subject: '/CN=kube-apiserver', key: 'rsa2048', issuer: 'kubernetes', days: 365, extensions: serverExtensions(KUBEADM_SANS) });
  pki.issue('kubelet-csr', {
    subject: '/O=system:nodes/CN=system:node:node1',
    key: 'p256',
    issuer: 'kubernetes',
    extensions: serverExtensions('DNS:node1,IP:198.18.0.21,IP:2001:db8::21'),
  });
  pki.issue('client-only', {
    subject: '/O=system:masters/CN=kube-apiserver-kubelet-client',
    key: 'rsa2048',
    issuer: 'kubernetes',
    extensions: ['extendedKeyUsage=clientAuth'],
  });
  // Another CA that calls itself kubernetes: the name matches, the signature does not.
  pki.issue('impostor-ca', { subject: '/CN=kubernetes', key: 'p256', days: 3650, extensions: CA_EXTENSIONS });
  pki.issue('impostor', { subject: '/CN=kube-apiserver', key: 'p256', issuer: 'impostor-ca', extensions: serverExtensions(KUBEADM_SANS) });
  // The kubelet's default self-signed pair (client-go GenerateSelfSignedCertKeyWithFixtures).
  pki.issue('node1-ca', { subject: '/CN=node1-ca@1700000000', key: 'rsa2048', days: 3650, serial: 1, extensions: CA_EXTENSIONS });
  pki.issue('node1', { subject: '/CN=node1@1700000000', key: 'rsa2048', issuer: 'node1-ca', days: 365, serial: 2, extensions: serverExtensions('DNS:node1') });
  // An intermediate chain over P-384, P-256 and Ed25519.
  pki.issue('root', { subject: '/O=Example/CN=Example Root CA', key: 'p384', days: 3650, extensions: CA_EXTENSIONS });
  pki.issue('intermediate', { subject: '/O=Example/CN=Example Issuing CA', key: 'p256', issuer: 'root', days: 1000, extensions: CA_EXTENSIONS });
  pki.issue('leaf', { subject: '/CN=svc.example', key: 'ed25519', issuer: 'intermediate', extensions: serverExtensions('DNS:svc.example,DNS:*.apps.example') });
  pki.issue('short-leaf', { subject: '/CN=short.example', key: 'p256', issuer: 'intermediate', days: 1, extensions: serverExtensions('DNS:short.example') });
  pki.issue('short-intermediate', { subject: '/CN=Short Issuing CA', key: 'p256', issuer: 'root', days: 1, extensions: CA_EXTENSIONS });
  pki.issue('under-short', { subject: '/CN=under-short.example', key: 'p256', issuer: 'short-intermediate', extensions: serverExtensions('DNS:under-short.example') });
  pki.issue('not-a-ca', { subject: '/CN=Not A CA', key: 'p256', issuer: 'root', extensions: ['basicConstraints=critical,CA:FALSE'] });
  pki.issue('under-not-a-ca', { subject: '/CN=sneaky.example', key: 'p256', issuer: 'not-a-ca', extensions: serverExtensions('DNS:sneaky.example') });

  cluster = TrustAnchors.fromPem(pki.get('kubernetes').pem);
  kubeletCa = TrustAnchors.fromPem(pki.get('node1-ca').pem);
  root = TrustAnchors.fromPem(pki.get('root').pem);
  now = new Date(Date.now() + 60_000);
});

afterAll(() => pki.cleanup());

function verdictOf(names: string[], options: Partial<ChainVerdictOptions>) {
  return chainVerdict(pki.chain(...names), { anchors: TrustAnchors.empty(), serverName: null, serverAddress: '192.0.2.1', at: now, ...options });
}

describe('chainVerdict on a kubeadm PKI', () => {
  it('trusts the apiserver for its service address, advertise address and DNS names', () => {
    for (const serverAddress of ['10.96.0.1', '198.18.0.10']) {
      expect(verdictOf(['apiserver'], { anchors: cluster, serverAddress })).toEqual({
        verdict: 'trusted',
        reason: `CN=kube-apiserver chains to anchor CN=kubernetes and is valid for ${serverAddress}`,
      });
    }
    expect(verdictOf(['apiserver'], { anchors: cluster, serverName: 'kubernetes.default.svc', serverAddress: '203.0.113.9' }).verdict).toBe('trusted');
    // The anchor sent along in the chain changes nothing.
    expect(verdictOf(['apiserver', 'kubernetes'], { anchors: cluster, serverAddress: '10.96.0.1' }).verdict).toBe('trusted');
  });

  it('says name-mismatch for another address, or an SNI the SANs do not hold', () => {
    expect(verdictOf(['apiserver'], { anchors: cluster, serverAddress: '198.18.0.11' })).toEqual({
      verdict: 'name-mismatch',
      reason: 'CN=kube-apiserver is not valid for 198.18.0.11 (SANs DNS:cp1, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local, IP:10.96.0.1, …)',
    });
    // The SNI is what the client checked, even when the address would match.
    expect(verdictOf(['apiserver'], { anchors: cluster, serverName: 'kube-apiserver', serverAddress: '10.96.0.1' }).verdict).toBe('name-mismatch');
  });

  it('says untrusted without anchors, and self-signed when the chain carries its own root', () => {
    expect(verdictOf(['apiserver'], { serverAddress: '10.96.0.1' })).toEqual({
      verdict: 'untrusted',
      reason: 'issuer CN=kubernetes of CN=kube-apiserver is not a trust anchor and not in the chain',
    });
    expect(verdictOf(['apiserver', 'kubernetes'], { serverAddress: '10.96.0.1' })).toEqual({
      verdict: 'self-signed',
      reason: 'issuer CN=kubernetes is self-signed and not a trust anchor',
    });
    expect(verdictOf(['kubernetes'], {})).toEqual({ verdict: 'self-signed', reason: 'CN=kubernetes is self-signed and not a trust anchor' });
  });

  it('says untrusted when the issuer name matches but the signature does not', () => {
    expect(verdictOf(['impostor'], { anchors: cluster, serverAddress: '10.96.0.1' })).toEqual({
      verdict: 'untrusted',
      reason: 'signature of CN=kube-apiserver does not verify with the key of CN=kubernetes',
    });
  });

  it('trusts the CSR-issued kubelet serving certificate (ECDSA P-256) by IPv4 and IPv6 address', () => {
    expect(verdictOf(['kubelet-csr'], { anchors: cluster, serverAddress: '198.18.0.21' }).verdict).toBe('trusted');
    expect(verdictOf(['kubelet-csr'], { anchors: cluster, serverAddress: '2001:db8::21' }).verdict).toBe('trusted');
    expect(verdictOf(['kubelet-csr'], { anchors: cluster, serverAddress: '2001:db8::22' }).verdict).toBe('name-mismatch');
    expect(verdictOf(['kubelet-csr'], { anchors: cluster, serverAddress: '198.18.0.22' }).verdict).toBe('name-mismatch');
  });

  it('says untrusted for a leaf whose extended key usage leaves out serverAuth', () => {
    expect(verdictOf(['client-only'], { anchors: cluster })).toEqual({
      verdict: 'untrusted',
      reason: 'CN=kube-apiserver-kubelet-client,O=system:masters is not for serverAuth (EKU clientAuth)',
    });
  });

  it('says expired after the leaf notAfter and before its notBefore, naming the certificate', () => {
    const later = verdictOf(['apiserver'], { anchors: cluster, serverAddress: '10.96.0.1', at: new Date(now.getTime() + 400 * DAY) });
    expect(later.verdict).toBe('expired');
    expect(later.reason).toMatch(/^CN=kube-apiserver expired \(notAfter \d{4}-\d\d-\d\dT[\d:.]+Z\)$/);
    const earlier = verdictOf(['apiserver'], { anchors: cluster, serverAddress: '10.96.0.1', at: new Date(now.getTime() - DAY) });
    expect(earlier.verdict).toBe('expired');
    expect(earlier.reason).toMatch(/^CN=kube-apiserver is not yet valid \(notBefore /);
    // Same chain, name and anchors as a cached evaluation: the time is still checked per call.
    expect(verdictOf(['apiserver'], { anchors: cluster, serverAddress: '10.96.0.1' }).verdict).toBe('trusted');
  });

  it('checks the anchor validity too', () => {
    expect(verdictOf(['apiserver'], { anchors: cluster, serverAddress: '10.96.0.1', at: new Date(now.getTime() + 3700 * DAY) }).reason).toMatch(/^CN=kube-apiserver expired/);
    expect(verdictOf(['kubernetes'], { anchors: cluster, serverName: 'kubernetes', at: new Date(now.getTime() + 3700 * DAY) }).reason).toMatch(/^CN=kubernetes expired/);
  });
});

describe('chainVerdict on the kubelet default self-signed pair', () => {
  it('says self-signed without anchors and with the cluster CA', () => {
    for (const anchors of [TrustAnchors.empty(), cluster]) {
      expect(verdictOf(['node1', 'node1-ca'], { anchors, serverAddress: '198.18.0.21' })).toEqual({
        verdict: 'self-signed',
        reason: 'issuer CN=node1-ca@1700000000 is self-signed and not a trust anchor',
      });
    }
    expect(verdictOf(['node1'], { serverAddress: '198.18.0.21' }).verdict).toBe('untrusted');
  });

  it('trusts it for its hostname when its own CA is an anchor, and not for the node address', () => {
    expect(verdictOf(['node1', 'node1-ca'], { anchors: kubeletCa, serverName: 'node1' }).verdict).toBe('trusted');
    expect(verdictOf(['node1', 'node1-ca'], { anchors: kubeletCa, serverAddress: '198.18.0.21' })).toEqual({
      verdict: 'name-mismatch',
      reason: 'CN=node1@1700000000 is not valid for 198.18.0.21 (SANs DNS:node1)',
    });
  });
});

describe('chainVerdict with intermediates', () => {
  it('builds root ← intermediate ← leaf, in any order, with the anchor sent or not', () => {
    for (const chain of [['leaf', 'intermediate'], ['leaf', 'intermediate', 'root'], ['leaf', 'root', 'intermediate']]) {
      expect(verdictOf(chain, { anchors: root, serverName: 'svc.example' })).toEqual({
        verdict: 'trusted',
        reason: 'CN=svc.example chains to anchor CN=Example Root CA,O=Example and is valid for svc.example',
      });
    }
    // An intermediate as the anchor ends the path there.
    expect(verdictOf(['leaf'], { anchors: TrustAnchors.fromPem(pki.get('intermediate').pem), serverName: 'svc.example' }).verdict).toBe('trusted');
  });

  it('says untrusted when the intermediate is missing', () => {
    expect(verdictOf(['leaf'], { anchors: root, serverName: 'svc.example' })).toEqual({
      verdict: 'untrusted',
      reason: 'issuer CN=Example Issuing CA,O=Example of CN=svc.example is not a trust anchor and not in the chain',
    });
  });

  it('matches a wildcard for one label only', () => {
    expect(verdictOf(['leaf', 'intermediate'], { anchors: root, serverName: 'web.apps.example' }).verdict).toBe('trusted');
    expect(verdictOf(['leaf', 'intermediate'], { anchors: root, serverName: 'a.web.apps.example' }).verdict).toBe('name-mismatch');
    expect(verdictOf(['leaf', 'intermediate'], { anchors: root, serverName: 'apps.example' }).verdict).toBe('name-mismatch');
  });

  it('does not trust an intermediate without CA basic constraints', () => {
    expect(verdictOf(['under-not-a-ca', 'not-a-ca'], { anchors: root, serverName: 'sneaky.example' })).toEqual({
      verdict: 'untrusted',
      reason: 'intermediate CN=Not A CA is not a CA (basicConstraints)',
    });
  });

  it('says expired for an expired leaf or an expired intermediate', () => {
    const at = new Date(now.getTime() + 3 * DAY);
    expect(verdictOf(['short-leaf', 'intermediate'], { anchors: root, serverName: 'short.example', at }).reason).toMatch(/^CN=short.example expired/);
    expect(verdictOf(['under-short', 'short-intermediate'], { anchors: root, serverName: 'under-short.example', at })).toMatchObject({
      verdict: 'expired',
      reason: expect.stringMatching(/^CN=Short Issuing CA expired \(notAfter /),
    });
    expect(verdictOf(['under-short', 'short-intermediate'], { anchors: root, serverName: 'under-short.example' }).verdict).toBe('trusted');
  });

  it('puts a broken path before expiry, and expiry before the name', () => {
    const at = new Date(now.getTime() + 400 * DAY);
    expect(verdictOf(['node1', 'node1-ca'], { at }).verdict).toBe('self-signed');
    expect(verdictOf(['short-leaf', 'intermediate'], { anchors: root, serverName: 'wrong.example', at }).verdict).toBe('expired');
  });
});

describe('chainVerdict on what is not a chain', () => {
  it('says unknown for no certificate and untrusted for bytes that do not parse', () => {
    expect(chainVerdict([], { anchors: cluster, serverName: null, serverAddress: '10.96.0.1', at: now })).toEqual({ verdict: 'unknown', reason: 'no server certificate seen' });
    expect(verdictOf([], {}).verdict).toBe('unknown');
    expect(chainVerdict([Buffer.from('not a certificate')], { anchors: cluster, serverName: null, serverAddress: '10.96.0.1', at: now })).toEqual({
      verdict: 'untrusted',
      reason: 'the leaf is not a valid X.509 certificate',
    });
    expect(chainVerdict([pki.get('apiserver').der, Buffer.alloc(3)], { anchors: cluster, serverName: null, serverAddress: '10.96.0.1', at: now }).reason).toBe(
      'chain certificate 1 is not a valid X.509 certificate',
    );
  });
});

describe('TrustAnchors', () => {
  it('reads the certificates of a PEM bundle, skipping other blocks, with a content id', () => {
    const bundle = `# cluster\n${pki.get('kubernetes').pem}-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n${pki.get('root').pem}`;
    const anchors = TrustAnchors.fromPem(bundle);
    expect(anchors.size).toBe(2);
    expect(anchors.has(parseCertificate(pki.get('root').der)!.sha256)).toBe(true);
    expect(TrustAnchors.fromPem(`${pki.get('root').pem}${pki.get('kubernetes').pem}`).id).toBe(anchors.id);
    expect(anchors.id).not.toBe(cluster.id);
    expect(TrustAnchors.empty().size).toBe(0);
  });

  it('unites sets (--ca and the cluster file) into the set of their certificates, with the same content id', () => {
    const united = TrustAnchors.union([cluster, root, TrustAnchors.empty(), cluster]);
    expect(united.size).toBe(2);
    expect(united.id).toBe(TrustAnchors.fromPem(`${pki.get('root').pem}${pki.get('kubernetes').pem}`).id);
    expect(TrustAnchors.union([cluster])).toBe(cluster);
    expect(TrustAnchors.union([TrustAnchors.empty()]).size).toBe(0);
  });

  it('refuses a bundle without certificates or with a broken one', () => {
    expect(() => TrustAnchors.fromPem('nothing here')).toThrow(KwireError);
    expect(() => TrustAnchors.fromPem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')).toThrow(/PEM certificate 1 is not a valid X.509 certificate/);
  });
});

import { describe, expect, it } from 'vitest';
import type { Placement } from '../model/document.js';
import type { CertificateInfo, CredentialInfo, FlowAnalysis, HttpRequestInfo, K8sUrlShape, TlsInfo } from '../model/protocol.js';
import { parseCluster } from './cluster.js';
import { PathResolver } from './resolver.js';

function cert(subject: string, issuer = 'CN=kubernetes', san: string[] = []): CertificateInfo {
  return {
    subject, issuer, serial: '01', notBefore: '2026-01-01T00:00:00Z', notAfter: '2027-01-01T00:00:00Z', sha256: subject,
    selfSigned: false, san, keyType: 'EC', keySize: 256, curve: 'prime256v1', isCA: false, keyUsage: [], extKeyUsage: [],
  };
}

function tls(parts: Partial<TlsInfo>): FlowAnalysis {
  const info: TlsInfo = {
    version: '1.2', clientVersion: '1.3', sni: null, alpnOffered: [], alpn: null, cipher: null, established: true, resumed: false,
    helloRetryRequest: false, clientCertRequested: null, clientCertPresented: null, clientAuthEvidence: 'unknown', requestedCAs: [],
    serverChain: [], clientChain: [], serverCertVerdict: 'unknown', serverCertReason: null, alert: null, ja4: null, handshake: [], stopped: null,
    ...parts,
  };
  return { protocol: 'tls', tls: info, http: null, ssh: null };
}

function http(target: string, k8s: Partial<K8sUrlShape> & { kind: string }): FlowAnalysis {
  const request: HttpRequestInfo = {
    method: 'GET', target, host: null, status: 200, auth: 'none', credentials: [], upgrade: null, streamProtocol: null, ts: 0, packet: 1, responsePacket: 2,
    k8s: { namespace: null, name: null, forwardedUri: null, ...k8s },
  };
  return { protocol: 'http', tls: null, http: { version: '1.1', requests: [request], moreRequests: 0, h2: null, stopped: null }, ssh: null };
}

/** The same flow, its request carrying `credential`. */
function withCredential(analysis: FlowAnalysis, credential: CredentialInfo): FlowAnalysis {
  const [request] = analysis.http!.requests;
  return { ...analysis, http: { ...analysis.http!, requests: [{ ...request, auth: 'bearer', credentials: [credential] }] } };
}

const SSH: FlowAnalysis = { protocol: 'ssh', tls: null, http: null, ssh: { clientBanner: 'SSH-2.0-Go', serverBanner: 'SSH-2.0-OpenSSH_9.6' } };
const OPAQUE: FlowAnalysis = { protocol: 'unknown', tls: null, http: null, ssh: null };
const TLS13 = tls({ version: '1.3' });

/** `198.18.0.1:51000 -> 198.18.0.2:10250` */
function endpoints(text: string) {
  const match = /^(.+):(\d+) -> (.+):(\d+)$/.exec(text)!;
  return { src: match[1], sport: Number(match[2]), dst: match[3], dport: Number(match[4]) };
}

const place = (resolver: PathResolver, flow: string, analysis: FlowAnalysis) => resolver.place(endpoints(flow), analysis);
const placement = (path: Placement['path'], client: string | null, server: string | null, evidence: string[], via: Placement['via'] = null): Placement => ({
  path, via, roles: { client, server, evidence },
});

const CLUSTER = parseCluster(
  `apiservers: [192.0.2.10]
kubernetesServiceIP: 10.96.0.1
serviceCIDR: 10.96.0.0/12
podCIDRs: [10.244.0.0/16]
nodes:
  - {name: cp1, ip: 192.0.2.10}
  - {name: node1, ip: 192.0.2.21}
etcd: [192.0.2.5]
`,
  'cluster.yaml',
);
const LIST = parseCluster(
  JSON.stringify({
    kind: 'List',
    items: [
      { kind: 'Pod', metadata: { namespace: 'default', name: 'web-7d4b9c' }, spec: {}, status: { podIP: '10.244.1.5' } },
      { kind: 'Service', metadata: { namespace: 'kube-system', name: 'metrics' }, spec: { clusterIP: '10.96.12.7' } },
      { kind: 'Node', metadata: { name: 'node1' }, status: { addresses: [{ type: 'InternalIP', address: '192.0.2.21' }] } },
      { kind: 'Pod', metadata: { namespace: 'kube-system', name: 'kube-apiserver-cp1', labels: { component: 'kube-apiserver' } }, spec: { hostNetwork: true }, status: { podIP: '192.0.2.10' } },
    ],
  }),
  'list.json',
);

describe('paths from a cluster file', () => {
  const FILE = ['cluster file'];
  const cases: [string, string, FlowAnalysis, Placement][] = [
    ['node->apiserver', '192.0.2.21:40000 -> 192.0.2.10:6443', TLS13, placement('node->apiserver', 'node:node1', 'apiserver', FILE)],
    ["tunnel: a node's Konnectivity agent to the apiserver's address", '192.0.2.21:40000 -> 192.0.2.10:8132', tls({ alpn: 'h2' }), placement('tunnel', 'node:node1', 'konnectivity-server', FILE, 'konnectivity')],
    ['pod->apiserver (a pod of podCIDRs)', '10.244.3.9:40000 -> 192.0.2.10:6443', TLS13, placement('pod->apiserver', 'pod', 'apiserver', FILE)],
    ['pod->apiserver through the kubernetes service address', '10.244.3.9:40000 -> 10.96.0.1:443', TLS13, placement('pod->apiserver', 'pod', 'apiserver', FILE, 'service-vip')],
    ['client->apiserver', '203.0.113.7:40000 -> 192.0.2.10:6443', TLS13, placement('client->apiserver', null, 'apiserver', FILE)],
    ['apiserver->kubelet, on a control-plane node too', '192.0.2.10:40000 -> 192.0.2.10:10250', TLS13, placement('apiserver->kubelet', 'apiserver', 'kubelet:cp1', FILE)],
    ['apiserver->kubelet on the read-only port', '192.0.2.10:40000 -> 192.0.2.21:10255', OPAQUE, placement('apiserver->kubelet', 'apiserver', 'kubelet:node1', FILE)],
    ['client->kubelet', '10.244.3.9:40000 -> 192.0.2.21:10250', TLS13, placement('client->kubelet', 'pod', 'kubelet:node1', FILE)],
    ['apiserver->node', '192.0.2.10:40000 -> 192.0.2.21:9100', OPAQUE, placement('apiserver->node', 'apiserver', 'node:node1', FILE)],
    ['apiserver->pod', '192.0.2.10:40000 -> 10.244.3.9:8080', OPAQUE, placement('apiserver->pod', 'apiserver', 'pod', FILE)],
    ['apiserver->service', '192.0.2.10:40000 -> 10.96.12.7:443', OPAQUE, placement('apiserver->service', 'apiserver', 'service', FILE)],
    ['apiserver->etcd', '192.0.2.10:40000 -> 192.0.2.5:2379', TLS13, placement('apiserver->etcd', 'apiserver', 'etcd', FILE)],
    ['tunnel over SSH', '192.0.2.10:40000 -> 192.0.2.21:22', SSH, placement('tunnel', 'apiserver', 'node:node1', [...FILE, 'SSH banner'], 'ssh')],
    ['other: SSH between two unknown hosts', '203.0.113.7:40000 -> 203.0.113.8:22', SSH, placement('other', null, null, [])],
    ['other: a node to a host the file does not name', '192.0.2.21:40000 -> 203.0.113.9:9100', OPAQUE, placement('other', 'node:node1', null, FILE)],
    ["the file's apiserverPorts name apiservers it does not list", '192.0.2.21:40000 -> 203.0.113.9:443', OPAQUE, placement('node->apiserver', 'node:node1', 'apiserver', [...FILE, 'port 443'])],
    ['an apiserver address is the apiserver on any port', '192.0.2.21:40000 -> 192.0.2.10:8443', OPAQUE, placement('node->apiserver', 'node:node1', 'apiserver', FILE)],
  ];
  it.each(cases)('%s', (_, flow, analysis, expected) => {
    expect(place(new PathResolver(CLUSTER), flow, analysis)).toEqual(expected);
  });

  it('names pods and services from a kubectl List, and finds the apiserver from its static pod', () => {
    const resolver = new PathResolver(LIST);
    expect(place(resolver, '10.244.1.5:40000 -> 192.0.2.10:6443', TLS13)).toEqual(placement('pod->apiserver', 'pod:default/web-7d4b9c', 'apiserver', FILE));
    expect(place(resolver, '192.0.2.10:40000 -> 10.244.1.5:8443', OPAQUE)).toEqual(placement('apiserver->pod', 'apiserver', 'pod:default/web-7d4b9c', FILE));
    expect(place(resolver, '192.0.2.10:40000 -> 10.96.12.7:443', OPAQUE)).toEqual(placement('apiserver->service', 'apiserver', 'service:kube-system/metrics', FILE));
  });

  it('wins over inference: a pod presenting a node certificate is still a pod', () => {
    const flow = tls({ clientChain: [cert('CN=system:node:node9,O=system:nodes')], serverChain: [cert('CN=kube-apiserver')] });
    expect(place(new PathResolver(CLUSTER), '10.244.3.9:40000 -> 192.0.2.10:6443', flow)).toEqual(placement('pod->apiserver', 'pod', 'apiserver', FILE));
    expect(place(new PathResolver(), '10.244.3.9:40000 -> 192.0.2.10:6443', flow)).toEqual(
      placement('node->apiserver', 'node:node9', 'apiserver', ['client certificate CN=system:node:node9', 'server certificate CN=kube-apiserver', 'port 6443']),
    );
  });

  it('infers what the file does not say, and says so', () => {
    const flow = tls({ sni: 'kubernetes.default.svc', clientChain: [cert('CN=kubernetes-admin,O=system:masters')] });
    expect(place(new PathResolver(CLUSTER), '203.0.113.7:40000 -> 203.0.113.1:8443', flow)).toEqual(
      placement('client->apiserver', null, 'apiserver', ['SNI kubernetes.default.svc']),
    );
  });
});

describe('paths inferred without a cluster file', () => {
  const cases: [string, string, FlowAnalysis, Placement][] = [
    [
      'node->apiserver from the client certificate and the apiserver certificate',
      '198.18.0.11:40000 -> 198.18.0.1:6443',
      tls({
        sni: 'kubernetes',
        clientChain: [cert('CN=system:node:node1,O=system:nodes')],
        serverChain: [cert('CN=kube-apiserver', 'CN=kubernetes', ['DNS:kubernetes', 'DNS:kubernetes.default.svc', 'IP:10.96.0.1'])],
      }),
      placement('node->apiserver', 'node:node1', 'apiserver', [
        'client certificate CN=system:node:node1', 'server certificate CN=kube-apiserver', 'SAN kubernetes.default.svc', 'SNI kubernetes', 'port 6443',
      ]),
    ],
    ['client->apiserver from the port alone', '198.18.0.12:40000 -> 198.18.0.1:6443', TLS13, placement('client->apiserver', null, 'apiserver', ['port 6443'])],
    ['client->apiserver from the SNI', '198.18.0.12:40000 -> 198.18.0.1:443', tls({ sni: 'kubernetes.default.svc.cluster.local' }), placement('client->apiserver', null, 'apiserver', ['SNI kubernetes.default.svc.cluster.local'])],
    ['client->apiserver via the apiserver proxy', '198.18.0.12:40000 -> 198.18.0.1:8080', http('/api/v1/namespaces/default/pods/web:80/proxy/', { kind: 'apiserver-proxy-pod', namespace: 'default', name: 'web' }), placement('client->apiserver', null, 'apiserver', ['apiserver URL /api/…'], 'apiserver-proxy')],
    [
      'pod->apiserver from a service-account token seen in clear',
      '198.18.64.10:40000 -> 198.18.0.1:8080',
      withCredential(http('/api/v1/namespaces/default/pods', { kind: 'apiserver-api', namespace: 'default' }), { kind: 'bearer-jwt', sha256Prefix: '0123456789ab', header: 'authorization', jwt: { iss: 'https://kubernetes.default.svc.cluster.local', sub: 'system:serviceaccount:default:web', aud: null, exp: null } }),
      placement('pod->apiserver', 'pod', 'apiserver', ['service-account token system:serviceaccount:default:web', 'apiserver URL /api/…']),
    ],
    [
      'node->apiserver from a bootstrap token',
      '198.18.0.21:40000 -> 198.18.0.1:6443',
      withCredential(http('/apis/certificates.k8s.io/v1/certificatesigningrequests', { kind: 'apiserver-api' }), { kind: 'bootstrap-token', sha256Prefix: '0123456789ab', header: 'authorization', jwt: null }),
      placement('node->apiserver', 'node', 'apiserver', ['bootstrap token', 'apiserver URL /apis/…', 'port 6443']),
    ],
    ['443 alone names no apiserver', '198.18.0.12:40000 -> 198.18.0.1:443', TLS13, placement('other', null, null, [])],
    [
      'apiserver->kubelet from the apiserver client certificate and the kubelet self-signed certificate',
      '198.18.0.1:40000 -> 198.18.0.21:10250',
      tls({ clientChain: [cert('CN=kube-apiserver-kubelet-client,O=kubeadm:cluster-admins')], serverChain: [cert('CN=node1@1700000000', 'CN=node1-ca@1700000000')] }),
      placement('apiserver->kubelet', 'apiserver', 'kubelet:node1', ['client certificate CN=kube-apiserver-kubelet-client', 'kubelet serving certificate node1@1700000000', 'port 10250']),
    ],
    [
      'apiserver->kubelet with a CSR-issued kubelet certificate',
      '198.18.0.1:40000 -> 198.18.0.21:10250',
      tls({ clientChain: [cert('CN=kube-apiserver-kubelet-client')], serverChain: [cert('CN=system:node:node1,O=system:nodes')] }),
      placement('apiserver->kubelet', 'apiserver', 'kubelet:node1', ['client certificate CN=kube-apiserver-kubelet-client', 'server certificate CN=system:node:node1', 'port 10250']),
    ],
    ['a scheduler\'s self-signed localhost@ certificate is no kubelet', '198.18.0.66:40000 -> 198.18.0.1:10259', tls({ serverChain: [cert('CN=localhost@1700000000', 'CN=localhost-ca@1700000000')] }), placement('other', null, null, [])],
    ['a self-signed host@ certificate from an older kubelet', '198.18.0.66:40000 -> 198.18.0.21:443', tls({ serverChain: [cert('CN=node2@1600000000', 'CN=node2@1600000000')] }), placement('client->kubelet', null, 'kubelet:node2', ['kubelet serving certificate node2@1600000000'])],
    ['client->kubelet from a kubelet URL', '198.18.0.66:40000 -> 198.18.0.21:10250', http('/containerLogs/default/web/nginx?tailLines=10', { kind: 'kubelet-logs', namespace: 'default', name: 'web' }), placement('client->kubelet', null, 'kubelet', ['kubelet URL /containerLogs/…', 'port 10250'])],
    ['client->kubelet on the read-only port', '198.18.0.66:40000 -> 198.18.0.21:10255', http('/pods', { kind: 'kubelet-pods' }), placement('client->kubelet', null, 'kubelet', ['kubelet URL /pods', 'port 10255'])],
    ['apiserver->pod from X-Forwarded-Uri', '198.18.0.1:40000 -> 10.244.1.5:8080', http('/', { kind: 'apiserver-proxy-pod', namespace: 'default', name: 'web-7d4b9c', forwardedUri: '/api/v1/namespaces/default/pods/web-7d4b9c/proxy/' }), placement('apiserver->pod', 'apiserver', 'pod:default/web-7d4b9c', ['X-Forwarded-Uri'], 'apiserver-proxy')],
    ['apiserver->service from X-Forwarded-Uri', '198.18.0.1:40000 -> 10.96.12.7:443', http('/metrics', { kind: 'apiserver-proxy-service', namespace: 'kube-system', name: 'metrics', forwardedUri: '/api/v1/namespaces/kube-system/services/metrics/proxy/metrics' }), placement('apiserver->service', 'apiserver', 'service:kube-system/metrics', ['X-Forwarded-Uri'], 'apiserver-proxy')],
    ['apiserver->node from X-Forwarded-Uri', '198.18.0.1:40000 -> 198.18.0.21:9100', http('/metrics', { kind: 'apiserver-proxy-node', name: 'node1', forwardedUri: '/api/v1/nodes/node1/proxy/metrics' }), placement('apiserver->node', 'apiserver', 'node:node1', ['X-Forwarded-Uri'], 'apiserver-proxy')],
    ['apiserver->kubelet through the node proxy', '198.18.0.1:40000 -> 198.18.0.21:10250', http('/metrics', { kind: 'apiserver-proxy-node', name: 'node1', forwardedUri: '/api/v1/nodes/node1/proxy/metrics' }), placement('apiserver->kubelet', 'apiserver', 'kubelet', ['X-Forwarded-Uri', 'port 10250'], 'apiserver-proxy')],
    ['apiserver->etcd from the etcd client certificate', '198.18.0.1:40000 -> 198.18.0.5:2379', tls({ clientChain: [cert('CN=kube-apiserver-etcd-client')] }), placement('apiserver->etcd', 'apiserver', 'etcd', ['client certificate CN=kube-apiserver-etcd-client', 'port 2379'])],
    ['apiserver->etcd: an unknown client of the etcd client port', '198.18.0.1:40000 -> 198.18.0.5:2379', TLS13, placement('apiserver->etcd', null, 'etcd', ['port 2379'])],
    ['tunnel: Konnectivity', '198.18.0.21:40000 -> 198.18.0.1:8132', tls({ alpn: 'h2' }), placement('tunnel', null, 'konnectivity-server', ['port 8132'], 'konnectivity')],
    ["tunnel: Konnectivity serving the apiserver's certificate", '198.18.0.21:40000 -> 198.18.0.1:8091', tls({ alpn: 'h2', serverChain: [cert('CN=kube-apiserver')] }), placement('tunnel', null, 'konnectivity-server', ['port 8091'], 'konnectivity')],
    ['other: SSH with nothing known of either end', '198.18.0.1:40000 -> 198.18.0.21:22', SSH, placement('other', null, null, [])],
    ['other: nothing known', '198.18.0.1:40000 -> 198.18.0.21:9100', OPAQUE, placement('other', null, null, [])],
  ];
  it.each(cases)('%s', (_, flow, analysis, expected) => {
    expect(place(new PathResolver(), flow, analysis)).toEqual(expected);
  });
});

describe('what earlier flows teach', () => {
  it('an apiserver named by its certificate is the apiserver as a client of kubelets and as an SSH client', () => {
    const resolver = new PathResolver();
    const kubeletFlow = '198.18.0.1:40000 -> 198.18.0.21:10250';
    // Before the evidence: the client is unknown, and the flow is not revisited.
    expect(place(resolver, kubeletFlow, TLS13).path).toBe('client->kubelet');
    place(resolver, '198.18.0.11:40000 -> 198.18.0.1:6443', tls({ serverChain: [cert('CN=kube-apiserver')] }));
    expect(place(resolver, kubeletFlow, TLS13)).toEqual(
      placement('apiserver->kubelet', 'apiserver', 'kubelet', ['earlier flow: server certificate CN=kube-apiserver', 'port 10250']),
    );
    expect(place(resolver, '198.18.0.1:40000 -> 198.18.0.21:22', SSH)).toEqual(
      placement('tunnel', 'apiserver', null, ['earlier flow: server certificate CN=kube-apiserver', 'SSH banner'], 'ssh'),
    );
  });

  it("a node named by its client certificate gives its kubelet a name; a port alone teaches nothing", () => {
    const resolver = new PathResolver();
    place(resolver, '198.18.0.21:40000 -> 198.18.0.1:6443', tls({ clientChain: [cert('CN=system:node:node1')] }));
    place(resolver, '198.18.0.99:40000 -> 198.18.0.1:6443', TLS13);
    expect(place(resolver, '198.18.0.66:40000 -> 198.18.0.21:10250', TLS13)).toEqual(placement('client->kubelet', null, 'kubelet:node1', ['port 10250']));
    expect(place(resolver, '198.18.0.1:40000 -> 198.18.0.99:10250', TLS13)).toEqual(placement('client->kubelet', null, 'kubelet', ['port 10250']));
  });
});

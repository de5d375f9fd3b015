/**
 * The detection rules of k8s/ as data (DESIGN.md): which facts of a flow name a role (with the
 * evidence text users see in `roles.evidence`), and which pair of roles makes which path of
 * SPEC.md §3. Sources: research/k8s-paths.md §1 (ports), §5 (certificate names), §9 (signals).
 */
import type { CommPath, Via } from '../model/document.js';
import type { CertificateInfo, CredentialInfo, FlowAnalysis, HttpRequestInfo, Side } from '../model/protocol.js';
import type { ClusterInfo } from './cluster.js';
import { addressKey, parseAddress } from './cidr.js';

export type RoleKind = 'apiserver' | 'node' | 'kubelet' | 'pod' | 'service' | 'etcd' | 'konnectivity';

/** What one flow shows: its addresses and ports, and what the analyzers read. */
export interface Facts extends FlowAnalysis {
  src: string;
  sport: number;
  dst: string;
  dport: number;
}

export interface Context {
  cluster: ClusterInfo | null;
  kubeletPorts: readonly number[];
  apiserverPorts: readonly number[];
}

/** A clue that a signal gives: the name when the signal carries one, and the evidence text. */
export interface Clue {
  name: string | null;
  evidence: string;
}

export interface SignalRow {
  side: Side;
  kind: RoleKind;
  /**
   * The signal names the address itself (a certificate, a URL, a header), not just a port: an
   * apiserver or node so named is remembered for later flows of the same analysis.
   */
  identity: boolean;
  match(facts: Facts, context: Context): Clue | null;
}

/** The CN of an RFC 4514 name as CertificateInfo prints it (`CN=system:node:n1,O=system:nodes`). */
function commonName(name: string | undefined): string | null {
  const match = name ? /(?:^|,)CN=((?:\\.|[^,\\])*)/.exec(name) : null;
  return match ? match[1] : null;
}

const serverLeaf = (facts: Facts): CertificateInfo | undefined => facts.tls?.serverChain[0];
const clientLeaf = (facts: Facts): CertificateInfo | undefined => facts.tls?.clientChain[0];
const requests = (facts: Facts): HttpRequestInfo[] => facts.http?.requests ?? [];
const credentials = (facts: Facts): CredentialInfo[] => requests(facts).flatMap((request) => request.credentials);

/** A certificate whose CN matches `cn`, as a clue; `name` picks the role's name from the match. */
function certificate(leaf: (facts: Facts) => CertificateInfo | undefined, label: string, cn: RegExp, name: (match: RegExpExecArray) => string | null = () => null) {
  return (facts: Facts): Clue | null => {
    const value = commonName(leaf(facts)?.subject);
    const match = value === null ? null : cn.exec(value);
    return match ? { name: name(match), evidence: `${label} CN=${value}` } : null;
  };
}

/** `/containerLogs/default/web/nginx?tail=10` → `/containerLogs/…`; `/pods` stays. */
function urlShape(target: string): string {
  const path = target.split('?')[0];
  const second = path.indexOf('/', 1);
  return second < 0 || second === path.length - 1 ? path : `${path.slice(0, second)}/…`;
}

/**
 * The first request whose URL shape kind passes `test`, as a clue. A backend request of the
 * apiserver proxy is skipped: its shape is the X-Forwarded-Uri's, a URL of the apiserver.
 */
function url(label: string, test: (kind: string) => boolean) {
  return (facts: Facts): Clue | null => {
    const request = requests(facts).find((r) => r.k8s !== null && r.k8s.forwardedUri === null && test(r.k8s.kind));
    return request ? { name: null, evidence: `${label} ${urlShape(request.target)}` } : null;
  };
}

/** A backend request of the apiserver proxy for `kind`: its X-Forwarded-Uri names the target. */
function forwarded(kind: string, name: (namespace: string | null, name: string | null) => string | null) {
  return (facts: Facts): Clue | null => {
    const shape = requests(facts).find((r) => r.k8s?.forwardedUri && r.k8s.kind === kind)?.k8s;
    return shape ? { name: name(shape.namespace, shape.name), evidence: 'X-Forwarded-Uri' } : null;
  };
}

const port = (ports: (context: Context) => readonly number[]) => (facts: Facts, context: Context): Clue | null =>
  ports(context).includes(facts.dport) ? { name: null, evidence: `port ${facts.dport}` } : null;

/** The kubelet API ports, and the read-only port that is always one. */
const kubeletPorts = (context: Context): readonly number[] => [...context.kubeletPorts, 10255];

const APISERVER_SNI = /^kubernetes(\.default(\.svc(\..+)?)?)?$/;

/** The Konnectivity server's agent ports: 8132 as the Kubernetes docs deploy it, 8091 its own default (k8s-paths.md §1). */
export const KONNECTIVITY_PORTS: readonly number[] = [8132, 8091];

/** Evaluated in order: the first row that matches a side decides its kind. */
export const SIGNALS: readonly SignalRow[] = [
  // First, the Konnectivity server's port: it often serves the apiserver's own certificate (the
  // docs' example), and it is the tunnel, not the apiserver, that its agents dial.
  { side: 'server', kind: 'konnectivity', identity: false, match: port(() => KONNECTIVITY_PORTS) },
  // The server's own words.
  { side: 'server', kind: 'apiserver', identity: true, match: certificate(serverLeaf, 'server certificate', /^kube-apiserver$/) },
  {
    side: 'server', kind: 'apiserver', identity: true,
    match: (facts) => (serverLeaf(facts)?.san.includes('DNS:kubernetes.default.svc') ? { name: null, evidence: 'SAN kubernetes.default.svc' } : null),
  },
  // The kubelet's default serving certificate (client-go GenerateSelfSignedCertKey): CN=<host>@<unix time>,
  // issued by <host>-ca@<unix time>, or by itself in older releases. The scheduler and the
  // controller manager make the same shape for `localhost`: not a kubelet.
  {
    side: 'server', kind: 'kubelet', identity: true,
    match: (facts) => {
      const leaf = serverLeaf(facts);
      const match = /^(.+)@(\d+)$/.exec(commonName(leaf?.subject) ?? '');
      const issuer = commonName(leaf?.issuer);
      return match && match[1] !== 'localhost' && (issuer === match[0] || issuer?.startsWith(`${match[1]}-ca@`))
        ? { name: match[1], evidence: `kubelet serving certificate ${match[0]}` }
        : null;
    },
  },
  // A CSR-issued kubelet serving certificate (serverTLSBootstrap).
  { side: 'server', kind: 'kubelet', identity: true, match: certificate(serverLeaf, 'server certificate', /^system:node:(.+)$/, (m) => m[1]) },
  { side: 'server', kind: 'pod', identity: false, match: forwarded('apiserver-proxy-pod', (ns, name) => (ns && name ? `${ns}/${name}` : null)) },
  { side: 'server', kind: 'service', identity: false, match: forwarded('apiserver-proxy-service', (ns, name) => (ns && name ? `${ns}/${name}` : null)) },
  // The node proxy to a kubelet port is the apiserver talking to that kubelet: the port row says so.
  {
    side: 'server', kind: 'node', identity: false,
    match: (facts, context) => (kubeletPorts(context).includes(facts.dport) ? null : forwarded('apiserver-proxy-node', (_, name) => name)(facts)),
  },
  { side: 'server', kind: 'kubelet', identity: true, match: url('kubelet URL', (kind) => kind.startsWith('kubelet-')) },
  { side: 'server', kind: 'apiserver', identity: true, match: url('apiserver URL', (kind) => kind.startsWith('apiserver-')) },
  {
    side: 'server', kind: 'apiserver', identity: false,
    match: (facts) => (facts.tls?.sni && APISERVER_SNI.test(facts.tls.sni) ? { name: null, evidence: `SNI ${facts.tls.sni}` } : null),
  },
  // Ports last: the weakest signal.
  { side: 'server', kind: 'apiserver', identity: false, match: port((context) => context.apiserverPorts) },
  { side: 'server', kind: 'kubelet', identity: false, match: port(kubeletPorts) },
  { side: 'server', kind: 'etcd', identity: false, match: port(() => [2379]) },

  // Client certificates: what the client says it is.
  { side: 'client', kind: 'node', identity: true, match: certificate(clientLeaf, 'client certificate', /^system:node:(.+)$/, (m) => m[1]) },
  { side: 'client', kind: 'apiserver', identity: true, match: certificate(clientLeaf, 'client certificate', /^kube-apiserver-kubelet-client$/) },
  { side: 'client', kind: 'apiserver', identity: true, match: certificate(clientLeaf, 'client certificate', /^kube-apiserver-etcd-client$/) },
  { side: 'client', kind: 'apiserver', identity: true, match: certificate(clientLeaf, 'client certificate', /^front-proxy-client$/) },
  // Only the apiserver proxy adds X-Forwarded-Uri with an apiserver proxy URL.
  {
    side: 'client', kind: 'apiserver', identity: true,
    match: (facts) => (requests(facts).some((r) => r.k8s?.forwardedUri) ? { name: null, evidence: 'X-Forwarded-Uri' } : null),
  },
  // Tokens seen in clear (or decrypted): a service account's JWT is a pod's (kube-proxy and the
  // add-ons run as pods too); a bootstrap token is a kubelet joining (TLS bootstrapping).
  {
    side: 'client', kind: 'pod', identity: false,
    match: (facts) => {
      const sub = credentials(facts).find((c) => c.jwt?.sub?.startsWith('system:serviceaccount:'))?.jwt?.sub;
      return sub ? { name: null, evidence: `service-account token ${sub}` } : null;
    },
  },
  { side: 'client', kind: 'node', identity: false, match: (facts) => (credentials(facts).some((c) => c.kind === 'bootstrap-token') ? { name: null, evidence: 'bootstrap token' } : null) },
  // Pods reach the apiserver through the `kubernetes` service address; nodes use the real one.
  {
    side: 'client', kind: 'pod', identity: false,
    match: (facts, context) => (context.cluster && isKubernetesService(facts.dst, context.cluster) ? { name: null, evidence: `kubernetes service address ${facts.dst}` } : null),
  },
];

export function isKubernetesService(address: string, cluster: ClusterInfo): boolean {
  const parsed = cluster.kubernetesServiceIP ? parseAddress(address) : null;
  return parsed !== null && cluster.kubernetesServiceIP !== null && addressKey(parsed) === addressKey(cluster.kubernetesServiceIP);
}

/** Role kinds of a path row: undefined matches anything, null an unknown role. */
type KindSet = readonly (RoleKind | null)[] | undefined;

export interface PathRow {
  client?: KindSet;
  server?: KindSet;
  /** Only for flows of this protocol. */
  ssh?: boolean;
  path: CommPath;
  via?: Via;
  /** Evidence the row itself adds. */
  evidence?: string;
}

/** SPEC.md §3, first match wins. */
export const PATHS: readonly PathRow[] = [
  { server: ['konnectivity'], path: 'tunnel', via: 'konnectivity' },
  { ssh: true, client: ['apiserver'], path: 'tunnel', via: 'ssh', evidence: 'SSH banner' },
  { ssh: true, server: ['node', 'kubelet'], path: 'tunnel', via: 'ssh', evidence: 'SSH banner' },
  { server: ['apiserver'], client: ['node', 'kubelet'], path: 'node->apiserver' },
  { server: ['apiserver'], client: ['pod'], path: 'pod->apiserver' },
  { server: ['apiserver'], path: 'client->apiserver' },
  { server: ['kubelet'], client: ['apiserver'], path: 'apiserver->kubelet' },
  { server: ['kubelet'], path: 'client->kubelet' },
  { server: ['node'], client: ['apiserver'], path: 'apiserver->node' },
  { server: ['pod'], client: ['apiserver'], path: 'apiserver->pod' },
  { server: ['service'], client: ['apiserver'], path: 'apiserver->service' },
  // The etcd client port serves the apiserver: an unknown client of it is taken to be one.
  { server: ['etcd'], client: ['apiserver', null], path: 'apiserver->etcd' },
];

export interface ViaRow {
  via: Exclude<Via, null>;
  match(facts: Facts, context: Context, serverKind: RoleKind | null): boolean;
}

/** For paths whose row names no `via`; first match wins, else null. */
export const VIAS: readonly ViaRow[] = [
  { via: 'service-vip', match: (facts, context) => context.cluster !== null && isKubernetesService(facts.dst, context.cluster) },
  {
    via: 'apiserver-proxy',
    match: (facts, _, serverKind) =>
      requests(facts).some((r) => r.k8s?.forwardedUri || (serverKind === 'apiserver' && r.k8s?.kind.startsWith('apiserver-proxy-'))),
  },
];

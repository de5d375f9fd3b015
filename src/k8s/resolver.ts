/**
 * Names each flow's roles, path and via (SPEC.md §2–§3) when it ends: the cluster file first,
 * then the flow's own signals (rules.ts), then what earlier flows of the same analysis taught.
 *
 * Order dependence: an apiserver or node named by a certificate, URL or header in one flow is
 * remembered by address, and later flows from or to that address use it (the apiserver as a
 * client of kubelets, say). A flow that ended before that evidence was seen is not revisited, so
 * --json, --ndjson and the summary always agree.
 */
import type { Placement } from '../model/document.js';
import type { FlowRecord } from '../model/flow.js';
import type { FlowAnalysis, Side } from '../model/protocol.js';
import { DEFAULT_KUBELET_PORTS, type ClusterInfo } from './cluster.js';
import { parseAddress } from './cidr.js';
import { KONNECTIVITY_PORTS, PATHS, SIGNALS, VIAS, isKubernetesService, type Clue, type Context, type Facts, type RoleKind, type SignalRow } from './rules.js';

export interface Role {
  kind: RoleKind;
  name: string | null;
}

interface Found {
  role: Role | null;
  evidence: string[];
}

/** Remembered endpoints per analysis: enough for a cluster's control plane and nodes, bounded whatever the capture. */
const MAX_LEARNT = 4096;

/** The only kinds worth remembering by address: pods and services come and go. */
const LEARNABLE: ReadonlySet<RoleKind> = new Set(['apiserver', 'node', 'kubelet']);

const SIGNALS_OF: Record<Side, readonly SignalRow[]> = {
  client: SIGNALS.filter((row) => row.side === 'client'),
  server: SIGNALS.filter((row) => row.side === 'server'),
};

export class PathResolver {
  private readonly learnt = new Map<string, { role: Role; evidence: string }>();
  private readonly context: Context;

  constructor(cluster: ClusterInfo | null = null) {
    // 443 names an apiserver only when a cluster file says so: without one it is any HTTPS server.
    this.context = { cluster, kubeletPorts: cluster?.kubeletPorts ?? DEFAULT_KUBELET_PORTS, apiserverPorts: cluster?.apiserverPorts ?? [6443] };
  }

  place(record: Pick<FlowRecord, 'src' | 'sport' | 'dst' | 'dport'>, analysis: FlowAnalysis): Placement {
    // Field by field: a spread of analyses of different shapes takes V8's slow path (8–15 µs a flow, 2 this way).
    const facts: Facts = {
      protocol: analysis.protocol, tls: analysis.tls, http: analysis.http, ssh: analysis.ssh,
      src: record.src, sport: record.sport, dst: record.dst, dport: record.dport,
    };
    const client = this.resolve('client', facts);
    const server = this.resolve('server', facts);
    const clientKind = client.role?.kind ?? null;
    const serverKind = server.role?.kind ?? null;
    const row = PATHS.find(
      (candidate) =>
        (candidate.ssh === undefined || candidate.ssh === (facts.protocol === 'ssh')) &&
        (candidate.client === undefined || candidate.client.includes(clientKind)) &&
        (candidate.server === undefined || candidate.server.includes(serverKind)),
    );
    const via = row?.via ?? VIAS.find((candidate) => candidate.match(facts, this.context, serverKind))?.via ?? null;
    const evidence = [...client.evidence, ...server.evidence, ...(row?.evidence ? [row.evidence] : [])];
    return {
      path: row?.path ?? 'other',
      via,
      roles: { client: displayName(client.role), server: displayName(server.role), evidence: [...new Set(evidence)] },
    };
  }

  private resolve(side: Side, facts: Facts): Found {
    const address = side === 'client' ? facts.src : facts.dst;
    const cluster = this.context.cluster && clusterRole(this.context.cluster, side, facts);
    if (cluster) return { role: cluster, evidence: ['cluster file'] };

    // The first row that matches decides the kind; the later rows of that kind add their evidence.
    let kind: RoleKind | null = null;
    let name: string | null = null;
    let identity: Clue | null = null;
    const evidence: string[] = [];
    for (const row of SIGNALS_OF[side]) {
      if (kind !== null && row.kind !== kind) continue;
      const clue = row.match(facts, this.context);
      if (clue === null) continue;
      kind = row.kind;
      name ??= clue.name;
      if (row.identity) identity ??= clue;
      evidence.push(clue.evidence);
    }
    if (kind !== null) {
      const role = { kind, name: name ?? this.learntName(address, kind) };
      if (identity && LEARNABLE.has(kind)) this.learn(address, role, identity.evidence);
      return { role, evidence };
    }
    const learnt = this.learnt.get(address);
    return learnt ? { role: learnt.role, evidence: [`earlier flow: ${learnt.evidence}`] } : { role: null, evidence: [] };
  }

  /** A kubelet's or node's name, when an earlier flow told it. */
  private learntName(address: string, kind: RoleKind): string | null {
    const learnt = this.learnt.get(address)?.role;
    return (kind === 'node' || kind === 'kubelet') && learnt?.kind === 'node' ? learnt.name : null;
  }

  private learn(address: string, role: Role, evidence: string): void {
    if (this.learnt.has(address)) return;
    if (this.learnt.size >= MAX_LEARNT) this.learnt.delete(this.learnt.keys().next().value as string);
    // A kubelet's address is its node's, whatever port it is met on next.
    this.learnt.set(address, { role: { kind: role.kind === 'kubelet' ? 'node' : role.kind, name: role.name }, evidence });
  }
}

/**
 * What the cluster file says of one end. An apiserver address is the apiserver on any port, but a
 * control-plane node also runs a kubelet, often etcd and the Konnectivity server on that address:
 * a node's kubelet port is its kubelet, an apiserver's Konnectivity port is that server, and
 * etcd's address on a port that is not an apiserver port is etcd.
 */
function clusterRole(cluster: ClusterInfo, side: Side, facts: Facts): Role | null {
  const address = side === 'client' ? facts.src : facts.dst;
  const ip = parseAddress(address);
  if (!ip) return null;
  const node = cluster.nodes.get(ip);
  const apiserver = cluster.apiservers.get(ip) !== undefined || (side === 'server' && isKubernetesService(address, cluster));
  const etcd = cluster.etcd.get(ip) !== undefined;
  if (side === 'server') {
    if (node !== undefined && (cluster.kubeletPorts.includes(facts.dport) || facts.dport === 10255)) return { kind: 'kubelet', name: node };
    if (apiserver && KONNECTIVITY_PORTS.includes(facts.dport)) return { kind: 'konnectivity', name: null };
    if (etcd && !(apiserver && cluster.apiserverPorts.includes(facts.dport))) return { kind: 'etcd', name: null };
  }
  if (apiserver) return { kind: 'apiserver', name: null };
  if (etcd) return { kind: 'etcd', name: null };
  if (node !== undefined) return { kind: 'node', name: node };
  const pod = cluster.pods.get(ip);
  if (pod !== undefined) return { kind: 'pod', name: pod };
  const service = side === 'server' ? cluster.services.get(ip) : undefined;
  return service === undefined ? null : { kind: 'service', name: service };
}

/** `apiserver`, `etcd`, `konnectivity-server`, `kubelet:node1`, `pod:default/web`, or the bare kind when the name is unknown. */
function displayName(role: Role | null): string | null {
  if (!role) return null;
  if (role.kind === 'konnectivity') return 'konnectivity-server';
  return role.name === null || role.kind === 'apiserver' || role.kind === 'etcd' ? role.kind : `${role.kind}:${role.name}`;
}

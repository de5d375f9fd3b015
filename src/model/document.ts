/**
 * The JSON document of SPEC.md §5 (`kwire read --json`, and what `analyze()` returns). Fields
 * that later stages fill (protocol, path, tls, findings …) are added to these types as they land.
 */
import type { CaptureFormat, LiveCaptureInfo } from './capture.js';
import type { FlowState, FlowRecord } from './flow.js';
import type { TunnelInfo } from './packet.js';
import type { FlowAnalysis, HttpInfo, Protocol, SshInfo, TlsInfo } from './protocol.js';
import type { Finding } from './finding.js';

export interface CaptureJson {
  source: string;
  format: CaptureFormat;
  /** LINKTYPE names (model/frame.ts linktypeName), in order of first appearance. */
  linktypes: string[];
  packets: number;
  /** Bytes of the (decompressed) capture stream read. */
  bytes: number;
  firstTs: number | null;
  lastTs: number | null;
  /** Frames that did not decode (the sum of `decodeErrorsByName`). */
  decodeErrors: number;
  decodeErrorsByName: Record<string, number>;
  /** Where a damaged capture stopped being readable; null for a whole capture. */
  damage: { offset: number; message: string } | null;
  /** Kernel drops reported by the capture (pcapng ISB, live backends); null when not reported. */
  dropped: number | null;
  /** What TCP reassembly met and every budget it enforced, counted (flow/ FlowTable stats). */
  reassembly: ReassemblyCounts;
  /** Present when TLS secrets were given (`--keylog`, a pcapng Decryption Secrets Block): lines that gave a secret, lines skipped. */
  keylog?: { file: string | null; secrets: number; badLines: number };
  /** Present when the run was stopped (SIGINT, SIGTERM) before the end of its source. */
  interrupted?: true;
  /** A live capture (`kwire sniff`): interface, backend, filter, packets received and dropped (an addition to SPEC.md §5). */
  live?: LiveCaptureInfo;
}

export interface ReassemblyCounts {
  /** Captured payload bytes dropped because their sequence numbers had been seen already. */
  retransmittedBytes: number;
  outOfOrderSegments: number;
  /** Segments or ACKs too far ahead of the stream to be believed. */
  outOfWindow: number;
  /** Bytes never seen, all flows and directions (the sum of the flows' gaps). */
  gapBytes: number;
  /** Connections that replaced an earlier one on the same addresses and ports (a new SYN). */
  portReuses: number;
  /** Times a flow held more out-of-order data than its budget, and times all flows together did. */
  flowBudgetOverflows: number;
  totalBudgetOverflows: number;
  /** Connections ended by their idle timeout. */
  timeouts: number;
}

export interface FlowJson {
  id: number;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  firstTs: number;
  lastTs: number;
  packets: { c2s: number; s2c: number };
  bytes: { c2s: number; s2c: number };
  gaps: { c2s: number; s2c: number };
  state: FlowState;
  /** The communication path of SPEC.md §3, how it was routed, and who the ends are (k8s/). */
  path: CommPath;
  via: Via;
  roles: Roles;
  /** Outermost VLAN id, when tagged (an addition to SPEC.md §5). */
  vlan?: number;
  /** Outer addresses of an encapsulated flow (an addition to SPEC.md §5). */
  tunnel?: TunnelInfo;
  protocol: Protocol;
  /** Present for TLS flows; SPEC.md §5's fields plus the additions of model/protocol.ts. */
  tls?: TlsInfo;
  /** Present for HTTP/1.x and h2c flows. */
  http?: HttpInfo;
  ssh?: SshInfo;
}

/** SPEC.md §3. */
export type CommPath =
  | 'node->apiserver'
  | 'pod->apiserver'
  | 'client->apiserver'
  | 'apiserver->kubelet'
  | 'client->kubelet'
  | 'apiserver->node'
  | 'apiserver->pod'
  | 'apiserver->service'
  | 'apiserver->etcd'
  | 'tunnel'
  | 'other';

export type Via = 'service-vip' | 'apiserver-proxy' | 'konnectivity' | 'ssh' | null;

export interface Roles {
  /** Display names (`apiserver`, `kubelet:node1`, `node:node1`, `pod:default/web`, `service:ns/name` …); null when unknown. */
  client: string | null;
  server: string | null;
  /** How each role was known (`cluster file`, `port 6443`, `server certificate CN=kube-apiserver` …). */
  evidence: string[];
}

/** What k8s/ says of one flow. */
export interface Placement {
  path: CommPath;
  via: Via;
  roles: Roles;
}

export interface KwireDocument {
  capture: CaptureJson;
  flows: FlowJson[];
  /** In flow order; within a flow, worst first (findings/). */
  findings: Finding[];
}

export function flowToJson(flow: FlowRecord, analysis: FlowAnalysis, placement: Placement): FlowJson {
  const json: FlowJson = {
    id: flow.id,
    src: flow.src,
    sport: flow.sport,
    dst: flow.dst,
    dport: flow.dport,
    firstTs: flow.firstTs,
    lastTs: flow.lastTs,
    packets: { c2s: flow.packets[0], s2c: flow.packets[1] },
    bytes: { c2s: flow.bytes[0], s2c: flow.bytes[1] },
    gaps: { c2s: flow.gaps[0], s2c: flow.gaps[1] },
    state: flow.state,
    path: placement.path,
    via: placement.via,
    roles: placement.roles,
    protocol: analysis.protocol,
  };
  if (flow.vlan >= 0) json.vlan = flow.vlan;
  if (flow.tunnel) json.tunnel = flow.tunnel;
  if (analysis.tls) json.tls = analysis.tls;
  if (analysis.http) json.http = analysis.http;
  if (analysis.ssh) json.ssh = analysis.ssh;
  return json;
}

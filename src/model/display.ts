/**
 * How a flow is shown, the same in the text summary (cli/) and the dashboard (tui/): its paths in
 * the page's order, endpoints, times, and the protocol and client-certificate cells.
 */
import type { CommPath, FlowJson } from './document.js';

/** SPEC.md §3, in the order of the Kubernetes page. */
export const PATH_ORDER: readonly CommPath[] = [
  'node->apiserver', 'pod->apiserver', 'client->apiserver', 'apiserver->kubelet', 'client->kubelet',
  'apiserver->node', 'apiserver->pod', 'apiserver->service', 'apiserver->etcd', 'tunnel', 'other',
];

export function endpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export function isoTime(ts: number): string {
  return new Date(ts * 1000).toISOString().replace('T', ' ').replace('Z', '');
}

/** `tls 1.3`, `http/1.1` with its request count, `h2c`, `ssh`, or `-` when unknown. */
export function protocolCell(flow: FlowJson): string {
  if (flow.tls) return `tls ${flow.tls.version ?? '?'}${flow.tls.alpn ? ` ${flow.tls.alpn}` : ''}`;
  if (flow.http) {
    const requests = flow.http.requests.length + flow.http.moreRequests;
    return `${flow.http.version === '2' ? 'h2c' : `http/${flow.http.version ?? '1.x'}`}${requests ? ` ×${requests}` : ''}`;
  }
  return flow.protocol === 'unknown' ? '-' : flow.protocol;
}

/**
 * Whether the client authenticated with a certificate: `yes`, `no`, `not asked`, `?` when the
 * packets cannot tell; `~` marks an inference from TLS 1.3 record sizes.
 */
export function clientCertCell(flow: FlowJson): string {
  const tls = flow.tls;
  if (!tls) return '-';
  const mark = tls.clientAuthEvidence === 'inferred' ? '~' : '';
  if (tls.clientCertPresented === true) return `${mark}yes`;
  if (tls.clientCertRequested === false) return `${mark}not asked`;
  if (tls.clientCertPresented === false) return `${mark}no`;
  return '?';
}

/**
 * Kubernetes URL shapes (research/k8s-paths.md §2–4), as a table: the first row whose pattern
 * matches a request's path names its kind; `ns` and `name` groups fill namespace and name.
 * The kinds are documented on K8sUrlShape (src/model/protocol.ts).
 */
import type { K8sUrlShape } from '../../model/protocol.js';

interface UrlRow {
  kind: string;
  pattern: RegExp;
}

const SEG = '[^/]+';
/** `{ns}/{pod}` then optional `/{uid}` and the container (kubelet streaming routes). */
const POD_CTR = `(?<ns>${SEG})/(?<name>${SEG})(?:/${SEG}){1,2}/?$`;
/** `/api/v1/namespaces/{ns}/pods/{name}` */
const API_POD = `^/api/v1/namespaces/(?<ns>${SEG})/pods/(?<name>${SEG})`;

export const K8S_URLS: readonly UrlRow[] = [
  // Kubelet API (pkg/kubelet/server/server.go).
  { kind: 'kubelet-logs', pattern: new RegExp(`^/containerLogs/(?<ns>${SEG})/(?<name>${SEG})/${SEG}/?$`) },
  { kind: 'kubelet-exec', pattern: new RegExp(`^/exec/${POD_CTR}`) },
  { kind: 'kubelet-attach', pattern: new RegExp(`^/attach/${POD_CTR}`) },
  { kind: 'kubelet-run', pattern: new RegExp(`^/run/${POD_CTR}`) },
  { kind: 'kubelet-portforward', pattern: new RegExp(`^/portForward/(?<ns>${SEG})/(?<name>${SEG})(?:/${SEG})?/?$`) },
  { kind: 'kubelet-checkpoint', pattern: new RegExp(`^/checkpoint/(?<ns>${SEG})/(?<name>${SEG})/${SEG}/?$`) },
  { kind: 'kubelet-stats', pattern: /^\/stats(?:\/.*)?$/ },
  { kind: 'kubelet-pods', pattern: /^\/(?:running)?pods\/?$/ },
  { kind: 'kubelet-metrics', pattern: /^\/metrics\/(?:cadvisor|resource|probes)\/?$/ },
  { kind: 'kubelet-node-logs', pattern: /^\/logs(?:\/.*)?$/ },
  { kind: 'kubelet-spec', pattern: /^\/spec(?:\/.*)?$/ },
  // Served by the kubelet and the control-plane components alike: the port tells them apart.
  { kind: 'metrics', pattern: /^\/metrics\/?$/ },
  { kind: 'configz', pattern: /^\/configz\/?$/ },
  { kind: 'debug', pattern: /^\/debug\/(?:pprof|flags)(?:\/.*)?$/ },
  { kind: 'health', pattern: /^\/(?:healthz|livez|readyz)(?:\/.*)?$/ },
  // Apiserver proxy (pod/service ids may be `[scheme:]name[:port]`).
  { kind: 'apiserver-proxy-pod', pattern: new RegExp(`${API_POD}/proxy(?:/.*)?$`) },
  { kind: 'apiserver-proxy-service', pattern: new RegExp(`^/api/v1/namespaces/(?<ns>${SEG})/services/(?<name>${SEG})/proxy(?:/.*)?$`) },
  { kind: 'apiserver-proxy-node', pattern: new RegExp(`^/api/v1/nodes/(?<name>${SEG})/proxy(?:/.*)?$`) },
  // Pod subresources the apiserver forwards to the kubelet.
  { kind: 'apiserver-exec', pattern: new RegExp(`${API_POD}/exec/?$`) },
  { kind: 'apiserver-attach', pattern: new RegExp(`${API_POD}/attach/?$`) },
  { kind: 'apiserver-portforward', pattern: new RegExp(`${API_POD}/portforward/?$`) },
  { kind: 'apiserver-log', pattern: new RegExp(`${API_POD}/log/?$`) },
  // The rest of the API: namespaced objects keep their namespace and name.
  { kind: 'apiserver-api', pattern: new RegExp(`^/api/v1/namespaces/(?<ns>${SEG})(?:/${SEG}(?:/(?<name>${SEG}))?)?(?:/.*)?$`) },
  { kind: 'apiserver-api', pattern: new RegExp(`^/apis/${SEG}/${SEG}/namespaces/(?<ns>${SEG})(?:/${SEG}(?:/(?<name>${SEG}))?)?(?:/.*)?$`) },
  { kind: 'apiserver-api', pattern: /^\/(?:api|apis|version|openapi|\.well-known\/openid-configuration)(?:\/.*)?$/ },
];

/** The path of a request target: origin-form as is, absolute-form without scheme and authority. */
function pathOf(target: string): string {
  const abs = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(target);
  const rest = abs ? target.slice(abs[0].length) || '/' : target;
  const end = rest.search(/[?#]/);
  return end < 0 ? rest : rest.slice(0, end);
}

/** `SplitSchemeNamePort`: `name`, `name:port` or `scheme:name:port` → name. */
function proxyName(id: string): string {
  const parts = id.split(':');
  return parts.length === 3 ? parts[1] : parts[0];
}

function match(target: string): K8sUrlShape | null {
  const path = pathOf(target);
  for (const row of K8S_URLS) {
    const m = row.pattern.exec(path);
    if (!m) continue;
    const name = m.groups?.name ?? null;
    return {
      kind: row.kind,
      namespace: m.groups?.ns ?? null,
      name: name !== null && row.kind.startsWith('apiserver-proxy') ? proxyName(name) : name,
      forwardedUri: null,
    };
  }
  return null;
}

/**
 * A request's shape. On a backend request the apiserver proxy sends the backend path as target and
 * the client's URL in X-Forwarded-Uri: that URL's shape wins when it has one. Both arguments must
 * already be redacted.
 */
export function k8sShape(target: string, forwardedUri: string | null): K8sUrlShape | null {
  const shape = (forwardedUri !== null ? match(forwardedUri) : null) ?? match(target);
  if (forwardedUri === null) return shape;
  return shape ? { ...shape, forwardedUri } : { kind: 'other', namespace: null, name: null, forwardedUri };
}

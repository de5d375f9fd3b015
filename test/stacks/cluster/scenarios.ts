/**
 * The scenario captures of captures/scenarios/: one communication path of SPEC.md §3 per file, a
 * secure and an insecure variant of each, made from real traffic in the small cluster of
 * topology.ts, and what kwire must report for each flow with the cluster file
 * (captures/scenarios/cluster.yaml) and, for some, without it. The same table regenerates the
 * captures (KWIRE_WRITE_SCENARIO_CAPTURES=1) and drives test/scenarios.test.ts, so a capture and
 * its expectation cannot drift apart.
 */
import { createHash } from 'node:crypto';
import { writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { CommPath, KwireDocument, Via } from '../../../src/model/document.js';
import type { RuleId } from '../../../src/model/finding.js';
import { ADDR } from './topology.js';
import * as s from './stacks.js';
import type { Ctx, Running } from './stacks.js';

// ---- planted secrets ----

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** An RS256 signature's worth of bytes (256), derived so the captures are reproducible. */
const SIGNATURE = Buffer.concat(Array.from({ length: 8 }, (_, i) => createHash('sha256').update(`kwire-scenario-signature-${i}`).digest())).toString('base64url');
const JWT_HEADER = b64url({ alg: 'RS256', kid: 'Xw3f9c2kP0u7Qd1vLr8sYb5nTq4mHa6jGe2zKc0oNfE' });
const JWT_CLAIMS = b64url({
  aud: ['https://kubernetes.default.svc.cluster.local'], exp: 1830000000, iat: 1764300000,
  iss: 'https://kubernetes.default.svc.cluster.local',
  'kubernetes.io': { namespace: 'default', pod: { name: 'web', uid: '5f1c0b5e-8a52-4cfb-9d43-3c1c3d0f2a11' }, serviceaccount: { name: 'web', uid: '0d6f3e1a-7c44-4b8e-9a35-2f7e1c9b6d20' } },
  nbf: 1764300000, sub: 'system:serviceaccount:default:web',
});
/** A projected service-account token of `default/web`. */
export const SA_JWT = `${JWT_HEADER}.${JWT_CLAIMS}.${SIGNATURE}`;
/** A bootstrap token (`<6>.<16>`, kubeadm's shape). */
export const BOOTSTRAP_SECRET = 'h2x9m4r8t1v6w0yb';
export const BOOTSTRAP_TOKEN = `7k3pqz.${BOOTSTRAP_SECRET}`;
export const BASIC_PASSWORD = 'kw-Basic-Pa55word!';
export const BASIC_B64 = Buffer.from(`admin:${BASIC_PASSWORD}`).toString('base64');
/** Every secret planted in the captures, in clear or inside TLS: none may appear in kwire's output. */
export const PLANTED_SECRETS: readonly string[] = [SA_JWT, SIGNATURE, BOOTSTRAP_TOKEN, BOOTSTRAP_SECRET, BASIC_B64, BASIC_PASSWORD];

// ---- the table ----

export interface FlowExpect {
  path: CommPath;
  via: Via;
  /** roles.client and roles.server. */
  client: string | null;
  server: string | null;
  /** The rule ids of the flow's findings, sorted: exactly these fire, nothing else. */
  rules: RuleId[];
}

/** What a test compares with the table: each flow's placement and its sorted rule ids. */
export function placements(doc: KwireDocument): FlowExpect[] {
  return doc.flows.map((flow) => ({
    path: flow.path,
    via: flow.via,
    client: flow.roles.client,
    server: flow.roles.server,
    rules: doc.findings.filter((finding) => finding.flowId === flow.id).map((finding) => finding.rule).sort(),
  }));
}

export interface Scenario {
  /** File name in captures/scenarios/, without `.pcap`. */
  name: string;
  /** One line for captures/README.md: what the capture holds. */
  what: string;
  /** The stacks, for captures/README.md. */
  stacks: string;
  servers: ((c: Ctx) => Promise<Running>)[];
  clients: ((c: Ctx) => Promise<void>)[];
  /** Per flow, in order, with the cluster file. */
  flows: FlowExpect[];
  /** Per flow, in order, without the cluster file nor any --ca: what inference gives. */
  withoutCluster?: FlowExpect[];
}

const A = ADDR;
const f = (path: CommPath, via: Via, client: string | null, server: string | null, rules: RuleId[] = []): FlowExpect => ({ path, via, client, server, rules });
const TLS12 = { maxVersion: 'TLSv1.2' as const };

/** The apiserver proxy's backend request headers (staging/src/k8s.io/apimachinery/pkg/util/proxy). */
const forwarded = (uri: string, host: string) => ({
  'X-Forwarded-Uri': uri, 'X-Forwarded-Host': host, 'X-Forwarded-Proto': 'https', 'X-Forwarded-For': A.outside,
  'User-Agent': 'kubectl/v1.32.4 (linux/amd64) kubernetes/59526cd', 'Accept-Encoding': 'gzip',
});
const KUBELET_UA = { 'User-Agent': 'kubelet/v1.32.4 (linux/amd64) kubernetes/59526cd' };
const CSR_BODY = JSON.stringify({ kind: 'CertificateSigningRequest', apiVersion: 'certificates.k8s.io/v1', metadata: { generateName: 'csr-' },
  spec: { signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'], request: 'LS0tLS1CRUdJTi...' } });

export const SCENARIOS: Scenario[] = [
  // ---- node->apiserver ----
  {
    name: 'node-apiserver-mtls', stacks: 'curl → node:https',
    what: 'node1 (kubelet) GETs its Node object over TLS 1.2 with its client certificate `CN=system:node:node1` (EC P-256); the apiserver asks for one and its certificate verifies against the cluster CA',
    servers: [s.nodeServer('cp', A.apiserver, 6443, { pair: 'apiserver', clientCa: 'ca', requestCert: true, ...TLS12 })],
    clients: [s.curl('node1', `https://${A.apiserver}:6443/api/v1/nodes/node1`, { ca: 'ca', cert: 'node1Client', args: ['-A', KUBELET_UA['User-Agent']] })],
    flows: [f('node->apiserver', null, 'node:node1', 'apiserver')],
    withoutCluster: [f('node->apiserver', null, 'node:node1', 'apiserver')],
  },
  {
    name: 'node-apiserver-no-client-cert', stacks: 'curl → node:https',
    what: 'node1 posts a CSR over TLS 1.2 with a bootstrap token inside TLS; the apiserver sends no CertificateRequest, so no client certificate',
    servers: [s.nodeServer('cp', A.apiserver, 6443, { pair: 'apiserver', ...TLS12 })],
    clients: [s.curl('node1', `https://${A.apiserver}:6443/apis/certificates.k8s.io/v1/certificatesigningrequests`, {
      ca: 'ca', args: ['-H', `Authorization: Bearer ${BOOTSTRAP_TOKEN}`, '-H', 'Content-Type: application/json', '--data', CSR_BODY],
    })],
    flows: [f('node->apiserver', null, 'node:node1', 'apiserver', ['KW004'])],
    withoutCluster: [f('client->apiserver', null, null, 'apiserver')],
  },
  {
    name: 'node-apiserver-insecure-port', stacks: 'node:http → node:http',
    what: 'node1 posts a CSR to the apiserver\'s insecure port 8080 in plain HTTP, with `Authorization: Bearer <bootstrap token>`; answered 201',
    servers: [s.nodeServer('cp', A.apiserver, 8080)],
    clients: [s.nodeClient('node1', { url: `http://${A.apiserver}:8080/apis/certificates.k8s.io/v1/certificatesigningrequests`, method: 'POST',
      headers: { Authorization: `Bearer ${BOOTSTRAP_TOKEN}`, 'Content-Type': 'application/json', ...KUBELET_UA }, body: CSR_BODY })],
    flows: [f('node->apiserver', null, 'node:node1', 'apiserver', ['KW001', 'KW005', 'KW013'])],
    withoutCluster: [f('node->apiserver', null, 'node', 'apiserver', ['KW001', 'KW005', 'KW013'])],
  },
  // ---- pod->apiserver ----
  {
    name: 'pod-apiserver-vip-tls13', stacks: 'curl → node:https',
    what: 'the pod lists pods through the `kubernetes` service address 198.18.128.1:443 over TLS 1.3 (SNI kubernetes.default.svc), its service-account JWT inside TLS',
    servers: [s.nodeServer('cp', A.kubernetesVip, 443, { pair: 'apiserver', clientCa: 'ca', requestCert: true })],
    clients: [s.curl('pod', 'https://kubernetes.default.svc/api/v1/namespaces/default/pods', {
      ca: 'ca', args: ['--resolve', `kubernetes.default.svc:443:${A.kubernetesVip}`, '-H', `Authorization: Bearer ${SA_JWT}`],
    })],
    flows: [f('pod->apiserver', 'service-vip', 'pod', 'apiserver')],
    withoutCluster: [f('client->apiserver', null, null, 'apiserver')],
  },
  {
    name: 'pod-apiserver-plaintext', stacks: 'curl → node:http',
    what: 'the pod reads secrets from the apiserver\'s insecure port 198.18.1.10:8080 in plain HTTP with `Authorization: Bearer <service-account JWT>`; answered 200',
    servers: [s.nodeServer('cp', A.apiserver, 8080)],
    clients: [s.curl('pod', `http://${A.apiserver}:8080/api/v1/namespaces/default/secrets`, { args: ['-H', `Authorization: Bearer ${SA_JWT}`] })],
    flows: [f('pod->apiserver', null, 'pod', 'apiserver', ['KW001', 'KW005', 'KW013'])],
    withoutCluster: [f('pod->apiserver', null, 'pod', 'apiserver', ['KW001', 'KW005', 'KW013'])],
  },
  // ---- client->apiserver ----
  {
    name: 'client-apiserver-kubectl', stacks: 'kubectl → Go crypto/tls',
    what: '`kubectl get --raw /api/v1/namespaces/default/pods` from the outside client with the admin certificate `CN=kubernetes-admin`, TLS 1.3; the apiserver (Go, `RequestClientCert`) asks for a certificate',
    servers: [s.goServer('cp', A.apiserver, 6443, 'apiserver', 'ca', 'request')],
    clients: [s.kubectl('outside', `https://${A.apiserver}:6443`, 'admin', ['get', '--raw', '/api/v1/namespaces/default/pods'])],
    flows: [f('client->apiserver', null, null, 'apiserver')],
  },
  {
    name: 'client-apiserver-anonymous-http', stacks: 'curl → node:http',
    what: 'anonymous `GET /api/v1/namespaces/default/pods` to the apiserver\'s insecure port 8080, no credentials, answered 200 with a PodList',
    servers: [s.nodeServer('cp', A.apiserver, 8080)],
    clients: [s.curl('outside', `http://${A.apiserver}:8080/api/v1/namespaces/default/pods`)],
    flows: [f('client->apiserver', null, null, 'apiserver', ['KW001', 'KW011', 'KW013'])],
  },
  {
    name: 'client-apiserver-weak-tls', stacks: 'curl → openssl s_server',
    what: 'TLS 1.2 with ECDHE-ECDSA-AES128-SHA (CBC) to the apiserver port 6443; HTTP Basic credentials inside TLS',
    servers: [s.opensslServer('cp', A.apiserver, 6443, 'apiserver', 'ECDHE-ECDSA-AES128-SHA')],
    clients: [s.curl('outside', `https://${A.apiserver}:6443/api/v1/namespaces/default/pods`, {
      ca: 'ca', args: ['--tls-max', '1.2', '--ciphers', 'ECDHE-ECDSA-AES128-SHA', '-u', `admin:${BASIC_PASSWORD}`],
    })],
    flows: [f('client->apiserver', null, null, 'apiserver', ['KW008'])],
  },
  // ---- apiserver->kubelet ----
  {
    name: 'apiserver-kubelet-mtls', stacks: 'curl → node:https',
    what: 'the apiserver fetches container logs from node1:10250 over TLS 1.2 with `CN=kube-apiserver-kubelet-client`; the kubelet\'s CSR-issued certificate `CN=system:node:node1` (cluster CA, SAN IP 198.18.1.21) verifies, and the kubelet requires a client certificate',
    servers: [s.nodeServer('node1', A.node1, 10250, { pair: 'kubeletServing', clientCa: 'ca', requestCert: true, requireCert: true, ...TLS12 })],
    clients: [s.curl('cp', `https://${A.node1}:10250/containerLogs/default/web/nginx?tailLines=10`, { ca: 'ca', cert: 'apiserverKubeletClient' })],
    flows: [f('apiserver->kubelet', null, 'apiserver', 'kubelet:node1')],
  },
  {
    name: 'apiserver-kubelet-selfsigned', stacks: 'curl -k → node:https',
    what: 'the same request, but the kubelet serves its default self-signed chain (`CN=node1@1700000000` + `CN=node1-ca@1700000000`) and the apiserver does not verify it (no --kubelet-certificate-authority)',
    servers: [s.nodeServer('node1', A.node1, 10250, { pair: 'kubeletSelfSigned', clientCa: 'ca', requestCert: true, requireCert: true, ...TLS12 })],
    clients: [s.curl('cp', `https://${A.node1}:10250/containerLogs/default/web/nginx?tailLines=10`, { cert: 'apiserverKubeletClient' })],
    flows: [f('apiserver->kubelet', null, 'apiserver', 'kubelet:node1', ['KW003'])],
    withoutCluster: [f('apiserver->kubelet', null, 'apiserver', 'kubelet:node1', ['KW003'])],
  },
  {
    name: 'apiserver-kubelet-rejected', stacks: 'curl → node:https',
    what: 'the apiserver verifies the kubelet against the cluster CA; the kubelet serves its self-signed chain, so the apiserver aborts the TLS 1.2 handshake with a fatal alert (unknown_ca) in clear',
    servers: [s.nodeServer('node1', A.node1, 10250, { pair: 'kubeletSelfSigned', clientCa: 'ca', requestCert: true, requireCert: true, ...TLS12 })],
    clients: [s.curl('cp', `https://${A.node1}:10250/containerLogs/default/web/nginx`, { ca: 'ca', cert: 'apiserverKubeletClient' })],
    flows: [f('apiserver->kubelet', null, 'apiserver', 'kubelet:node1', ['KW007'])],
  },
  {
    name: 'apiserver-kubelet-expired', stacks: 'curl -k → node:https',
    what: 'the kubelet serves `CN=system:node:node1` of the cluster CA that expired on 2025-01-01; the apiserver does not verify and goes on',
    servers: [s.nodeServer('node1', A.node1, 10250, { pair: 'kubeletExpired', clientCa: 'ca', requestCert: true, requireCert: true, ...TLS12 })],
    clients: [s.curl('cp', `https://${A.node1}:10250/containerLogs/default/web/nginx`, { cert: 'apiserverKubeletClient' })],
    flows: [f('apiserver->kubelet', null, 'apiserver', 'kubelet:node1', ['KW003', 'KW009'])],
    withoutCluster: [f('apiserver->kubelet', null, 'apiserver', 'kubelet:node1', ['KW009'])],
  },
  {
    name: 'apiserver-kubelet-exec-cleartext', stacks: 'node:http → node:http',
    what: 'exec in plain HTTP to node1:10250: `POST /exec/default/web/nginx?command=sh&input=1&output=1&tty=1` with `Upgrade: SPDY/3.1`, answered 101 with X-Stream-Protocol-Version, then SPDY frames',
    servers: [s.nodeServer('node1', A.node1, 10250)],
    clients: [s.nodeClient('cp', {
      url: `http://${A.node1}:10250/exec/default/web/nginx?command=sh&input=1&output=1&tty=1`, method: 'POST', upgrade: true,
      headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io', 'User-Agent': 'kube-apiserver/v1.32.4', 'X-Forwarded-For': A.outside },
    })],
    flows: [f('apiserver->kubelet', null, 'apiserver', 'kubelet:node1', ['KW001', 'KW010'])],
    withoutCluster: [f('client->kubelet', null, null, 'kubelet', ['KW001', 'KW010'])],
  },
  // ---- client->kubelet ----
  {
    name: 'client-kubelet-mtls', stacks: 'curl → node:https',
    what: 'a scraper outside the control plane GETs node1:10250/metrics/resource with a client certificate of the cluster CA; the kubelet (CSR-issued certificate) requires one; TLS 1.2',
    servers: [s.nodeServer('node1', A.node1, 10250, { pair: 'kubeletServing', clientCa: 'ca', requestCert: true, requireCert: true, ...TLS12 })],
    clients: [s.curl('outside', `https://${A.node1}:10250/metrics/resource`, { ca: 'ca', cert: 'admin' })],
    flows: [f('client->kubelet', null, null, 'kubelet:node1')],
  },
  {
    name: 'client-kubelet-anonymous', stacks: 'curl -k → node:https',
    what: 'an outside client GETs node1:10250/pods without certificate; the kubelet serves its self-signed chain and asks for no client certificate (anonymous auth, no client CA); TLS 1.2',
    servers: [s.nodeServer('node1', A.node1, 10250, { pair: 'kubeletSelfSigned', ...TLS12 })],
    clients: [s.curl('outside', `https://${A.node1}:10250/pods`)],
    flows: [f('client->kubelet', null, null, 'kubelet:node1', ['KW003', 'KW004'])],
  },
  {
    name: 'client-kubelet-anonymous-tls13', stacks: 'Go crypto/tls → Go crypto/tls',
    what: 'an outside client GETs node1:10250 over TLS 1.3 without certificate; the kubelet (CSR-issued certificate, Go `NoClientCert`) asks for none: inferred from the record sizes',
    servers: [s.goServer('node1', A.node1, 10250, 'kubeletServing', 'ca', 'none')],
    clients: [s.goClient('outside', `https://${A.node1}:10250/pods`, 'ca')],
    flows: [f('client->kubelet', null, null, 'kubelet:node1', ['KW004'])],
  },
  {
    name: 'client-kubelet-readonly', stacks: 'curl → node:http',
    what: 'anonymous `GET /pods` on the kubelet\'s read-only port node1:10255, answered 200 with a PodList',
    servers: [s.nodeServer('node1', A.node1, 10255)],
    clients: [s.curl('outside', `http://${A.node1}:10255/pods`)],
    flows: [f('client->kubelet', null, null, 'kubelet:node1', ['KW001', 'KW002', 'KW011'])],
    withoutCluster: [f('client->kubelet', null, null, 'kubelet', ['KW001', 'KW002', 'KW011'])],
  },
  // ---- apiserver->node ----
  {
    name: 'apiserver-node-proxy-http', stacks: 'curl → node:http',
    what: 'the apiserver proxy\'s backend request to node1:9100 in plain HTTP, `GET /metrics` with `X-Forwarded-Uri: /api/v1/nodes/node1:9100/proxy/metrics`',
    servers: [s.nodeServer('node1', A.node1, 9100)],
    clients: [s.nodeClient('cp', { url: `http://${A.node1}:9100/metrics`, headers: forwarded('/api/v1/nodes/node1:9100/proxy/metrics', `${A.apiserver}:6443`) })],
    flows: [f('apiserver->node', 'apiserver-proxy', 'apiserver', 'node:node1', ['KW001'])],
  },
  {
    name: 'apiserver-node-proxy-https', stacks: 'curl -k → node:https',
    what: 'the same backend request over TLS 1.2 to a self-signed `CN=node1-metrics`, without client certificate and without verification (`https:node1:9100` proxy)',
    servers: [s.nodeServer('node1', A.node1, 9100, { pair: 'nodeSelfSigned', ...TLS12 })],
    clients: [s.curl('cp', `https://${A.node1}:9100/metrics`, { args: ['-H', 'X-Forwarded-Uri: /api/v1/nodes/https:node1:9100/proxy/metrics'] })],
    flows: [f('apiserver->node', null, 'apiserver', 'node:node1', ['KW006'])],
  },
  {
    name: 'apiserver-node-mtls', stacks: 'curl → node:https',
    what: 'the apiserver to node1:9100 over TLS 1.2, verifying the node\'s certificate of the cluster CA (SAN IP 198.18.1.21) and presenting `CN=kube-apiserver-kubelet-client`, which the node requires',
    servers: [s.nodeServer('node1', A.node1, 9100, { pair: 'nodeExporter', clientCa: 'ca', requestCert: true, requireCert: true, ...TLS12 })],
    clients: [s.curl('cp', `https://${A.node1}:9100/metrics`, { ca: 'ca', cert: 'apiserverKubeletClient' })],
    flows: [f('apiserver->node', null, 'apiserver', 'node:node1')],
  },
  // ---- apiserver->pod ----
  {
    name: 'apiserver-pod-proxy-http', stacks: 'node:http → node:http',
    what: 'the apiserver proxy\'s backend request to the pod 198.18.64.10:8080 in plain HTTP, `X-Forwarded-Uri: /api/v1/namespaces/default/pods/web/proxy/`',
    servers: [s.nodeServer('pod', A.pod, 8080)],
    clients: [s.nodeClient('cp', { url: `http://${A.pod}:8080/`, headers: forwarded('/api/v1/namespaces/default/pods/web/proxy/', `${A.apiserver}:6443`) })],
    flows: [f('apiserver->pod', 'apiserver-proxy', 'apiserver', 'pod', ['KW001'])],
    withoutCluster: [f('apiserver->pod', 'apiserver-proxy', 'apiserver', 'pod:default/web', ['KW001'])],
  },
  {
    name: 'apiserver-pod-proxy-https', stacks: 'curl -k → node:https',
    what: 'the same over TLS 1.2 (`https:web:8443`) to the pod\'s self-signed `CN=web`: no client certificate, no verification',
    servers: [s.nodeServer('pod', A.pod, 8443, { pair: 'podSelfSigned', ...TLS12 })],
    clients: [s.curl('cp', `https://${A.pod}:8443/`, { args: ['-H', 'X-Forwarded-Uri: /api/v1/namespaces/default/pods/https:web:8443/proxy/'] })],
    flows: [f('apiserver->pod', null, 'apiserver', 'pod', ['KW006'])],
    withoutCluster: [f('other', null, null, null)],
  },
  {
    name: 'apiserver-pod-webhook', stacks: 'curl → node:https',
    what: 'an admission webhook called at the pod address over TLS 1.2: the pod\'s certificate of the cluster CA (SAN IP 198.18.64.10) verifies; `POST /validate`',
    servers: [s.nodeServer('pod', A.pod, 8443, { pair: 'webhook', ...TLS12 })],
    clients: [s.curl('cp', `https://${A.pod}:8443/validate`, { ca: 'ca', args: ['-H', 'Content-Type: application/json', '--data', '{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1"}'] })],
    flows: [f('apiserver->pod', null, 'apiserver', 'pod')],
  },
  // ---- apiserver->service ----
  {
    name: 'apiserver-service-proxy-http', stacks: 'node:http → node:http',
    what: 'the apiserver proxy\'s backend request to the service 198.18.128.20:80 in plain HTTP, `X-Forwarded-Uri: /api/v1/namespaces/default/services/web/proxy/`',
    servers: [s.nodeServer('svc', A.service, 80)],
    clients: [s.nodeClient('cp', { url: `http://${A.service}/`, headers: forwarded('/api/v1/namespaces/default/services/web/proxy/', `${A.apiserver}:6443`) })],
    flows: [f('apiserver->service', 'apiserver-proxy', 'apiserver', 'service', ['KW001'])],
    withoutCluster: [f('apiserver->service', 'apiserver-proxy', 'apiserver', 'service:default/web', ['KW001'])],
  },
  {
    name: 'apiserver-service-proxy-https', stacks: 'curl -k → node:https',
    what: 'the same over TLS 1.2 (`https:web:443`) to the service\'s self-signed `CN=web.default.svc`: no client certificate, no verification',
    servers: [s.nodeServer('svc', A.service, 443, { pair: 'serviceSelfSigned', ...TLS12 })],
    clients: [s.curl('cp', `https://${A.service}/`, { args: ['-H', 'X-Forwarded-Uri: /api/v1/namespaces/default/services/https:web:443/proxy/'] })],
    flows: [f('apiserver->service', null, 'apiserver', 'service', ['KW006'])],
  },
  {
    name: 'apiserver-service-webhook', stacks: 'curl → node:https',
    what: 'an admission webhook at the service (SNI webhook.default.svc) over TLS 1.2: its certificate of the cluster CA verifies, no apiserver-proxy evidence; `POST /validate`',
    servers: [s.nodeServer('svc', A.service, 443, { pair: 'webhook', ...TLS12 })],
    clients: [s.curl('cp', 'https://webhook.default.svc/validate', {
      ca: 'ca', args: ['--resolve', `webhook.default.svc:443:${A.service}`, '-H', 'Content-Type: application/json', '--data', '{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1"}'],
    })],
    flows: [f('apiserver->service', null, 'apiserver', 'service')],
  },
  // ---- apiserver->etcd ----
  {
    name: 'apiserver-etcd-mtls', stacks: 'curl → node:https',
    what: 'the apiserver to etcd 198.18.1.5:2379 over TLS 1.2 with `CN=kube-apiserver-etcd-client`; etcd (`CN=cp` of `CN=etcd-ca`) requires a client certificate',
    servers: [s.nodeServer('etcd', A.etcd, 2379, { pair: 'etcdServer', clientCa: 'etcdCa', requestCert: true, requireCert: true, ...TLS12 })],
    clients: [s.curl('cp', `https://${A.etcd}:2379/version`, { ca: 'etcdCa', cert: 'apiserverEtcdClient' })],
    flows: [f('apiserver->etcd', null, 'apiserver', 'etcd')],
  },
  {
    name: 'apiserver-etcd-no-client-cert', stacks: 'curl → node:https',
    what: 'etcd with `--client-cert-auth=false`: no CertificateRequest, the apiserver sends no certificate; TLS 1.2',
    servers: [s.nodeServer('etcd', A.etcd, 2379, { pair: 'etcdServer', ...TLS12 })],
    clients: [s.curl('cp', `https://${A.etcd}:2379/version`, { ca: 'etcdCa' })],
    flows: [f('apiserver->etcd', null, 'apiserver', 'etcd', ['KW004'])],
    withoutCluster: [f('apiserver->etcd', null, null, 'etcd', ['KW004'])],
  },
  {
    name: 'apiserver-etcd-rejected-tls13', stacks: 'Go crypto/tls → Go crypto/tls',
    what: 'etcd requires a client certificate (`RequireAndVerifyClientCert`), the apiserver has none: TLS 1.3, an empty Certificate, then etcd\'s encrypted alert',
    servers: [s.goServer('etcd', A.etcd, 2379, 'etcdServer', 'etcdCa', 'require-and-verify')],
    clients: [s.goClient('cp', `https://${A.etcd}:2379/version`, 'etcdCa')],
    flows: [f('apiserver->etcd', null, 'apiserver', 'etcd', ['KW007'])],
  },
  // ---- tunnel ----
  {
    name: 'tunnel-ssh', stacks: 'OpenSSH ssh → sshd',
    what: 'the apiserver opens an SSH connection to node1:22 (the deprecated SSH tunnel), key authentication',
    servers: [s.sshd('node1', A.node1)],
    clients: [s.ssh('cp', A.node1)],
    flows: [f('tunnel', 'ssh', 'apiserver', 'node:node1', ['KW012'])],
    withoutCluster: [f('other', null, null, null)],
  },
  {
    name: 'tunnel-konnectivity', stacks: 'curl → node:https',
    what: 'the Konnectivity agent on node1 to the Konnectivity server on the control plane 198.18.1.10:8132, TLS 1.2 with ALPN h2, the agent\'s client certificate required; the server presents the apiserver certificate (as the docs example does)',
    servers: [s.nodeServer('cp', A.apiserver, 8132, { pair: 'apiserver', clientCa: 'ca', requestCert: true, requireCert: true, alpn: ['h2', 'http/1.1'], ...TLS12 })],
    clients: [s.curl('node1', `https://${A.apiserver}:8132/`, { ca: 'ca', cert: 'konnectivityAgent', args: ['--http2'] })],
    flows: [f('tunnel', 'konnectivity', 'node:node1', 'konnectivity-server')],
    withoutCluster: [f('tunnel', 'konnectivity', null, 'konnectivity-server')],
  },
  // ---- other ----
  {
    name: 'other-http', stacks: 'curl → node:http',
    what: 'plain HTTP between two addresses the cluster file does not name (198.18.1.99 → 198.18.2.80:8000), no credentials',
    servers: [s.nodeServer('other', A.other, 8000)],
    clients: [s.curl('outside', `http://${A.other}:8000/index.html`)],
    flows: [f('other', null, null, null)],
  },
  {
    name: 'other-http-basic', stacks: 'curl → node:http',
    what: 'the same with `Authorization: Basic` (admin and a password) in clear: credentials in cleartext fire on any path',
    servers: [s.nodeServer('other', A.other, 8000)],
    clients: [s.curl('outside', `http://${A.other}:8000/index.html`, { args: ['-u', `admin:${BASIC_PASSWORD}`] })],
    flows: [f('other', null, null, null, ['KW005'])],
  },
];

/** Captures whose every flow is secure: `kwire check` passes them. */
export const HARDENED = SCENARIOS.filter((x) => x.flows.every((flow) => flow.rules.length === 0)).map((x) => x.name);

/** The cluster file of the captures (written next to them, with the CA certificates it names). */
export function clusterYaml(): string {
  return [
    '# The cluster of the scenario captures (captures/README.md, "captures/scenarios/").',
    `apiservers: [${A.apiserver}]`,
    `kubernetesServiceIP: ${A.kubernetesVip}`,
    'serviceCIDR: 198.18.128.0/17',
    'podCIDRs: [198.18.64.0/18]',
    'nodes:',
    `  - {name: node1, ip: ${A.node1}}`,
    `  - {name: node2, ip: ${A.node2}}`,
    `etcd: [${A.etcd}]`,
    'ca: [pki/ca.crt, pki/etcd-ca.crt]',
    '',
  ].join('\n');
}

/** Writes the cluster file and the two CA certificates into `dir`. */
export function writeClusterFiles(c: Ctx, dir: string): void {
  mkdirSync(path.join(dir, 'pki'), { recursive: true });
  copyFileSync(c.pki.ca, path.join(dir, 'pki', 'ca.crt'));
  copyFileSync(c.pki.etcdCa, path.join(dir, 'pki', 'etcd-ca.crt'));
  writeFileSync(path.join(dir, 'cluster.yaml'), clusterYaml());
}

/** Runs a scenario: its servers, then tcpdump on the bridge around its clients, into `file`. */
export async function recordScenario(c: Ctx, scenario: Scenario, file: string): Promise<void> {
  const running: Running[] = [];
  try {
    for (const start of scenario.servers) running.push(await start(c));
    await s.capture(c, file, async () => {
      for (const client of scenario.clients) await client(c);
    });
  } finally {
    for (const server of running.reverse()) await server.close();
  }
}

/**
 * The rule catalogue of SPEC.md §4, as data: each rule's id, name, default severity, title, fix,
 * references and the test it applies to one finished flow. The reasons behind each test are in
 * docs/decisions.md ("Findings"). References cite the section of the Kubernetes page and the CIS
 * Kubernetes Benchmark control by its flag: control numbers move between benchmark versions, so the
 * number is given for one version only (k8s-paths.md §7).
 */
import type { CommPath, FlowJson } from '../model/document.js';
import type { EvidenceBasis, RuleId, Severity } from '../model/finding.js';
import {
  PROXY_PATHS,
  certificateBasis,
  cleartextHttp,
  controlPlane,
  credentialText,
  outOfValidity,
  packetList,
  requestBasis,
  requestLine,
  requests,
  selfMadeChain,
  stepPackets,
  toApiserver,
  toKubelet,
  type RuleContext,
} from './evidence.js';

export interface Hit {
  /** What was seen and why it matters, for this flow. */
  detail: string;
  basis: EvidenceBasis;
  packets: number[];
  certificates?: string[];
  facts: string[];
  /** A severity other than the rule's default, where SPEC.md §4 says so. */
  severity?: Severity;
}

export interface Rule {
  id: RuleId;
  name: string;
  severity: Severity;
  title: string;
  /** The fix: the flag or setting, for the flow's path where it differs. */
  remediation: (flow: FlowJson) => string;
  references: (flow: FlowJson) => string[];
  match(flow: FlowJson, context: RuleContext): Hit | null;
}

const PAGE = 'https://kubernetes.io/docs/concepts/architecture/control-plane-node-communication/';
const K8S = {
  nodeToControlPlane: `Kubernetes: Communication between Nodes and the Control Plane, "Node to Control Plane" (${PAGE}#node-to-control-plane)`,
  apiserverToKubelet: `Kubernetes: Communication between Nodes and the Control Plane, "API server to kubelet" (${PAGE}#api-server-to-kubelet)`,
  proxy: `Kubernetes: Communication between Nodes and the Control Plane, "API server to nodes, pods, and services" (${PAGE}#api-server-to-nodes-pods-and-services)`,
  ssh: `Kubernetes: Communication between Nodes and the Control Plane, "SSH tunnels" (${PAGE}#ssh-tunnels)`,
  konnectivity: `Kubernetes: Communication between Nodes and the Control Plane, "Konnectivity service" (${PAGE}#konnectivity-service)`,
};
const cis = (component: string, setting: string, control: string) => `CIS Kubernetes Benchmark: ${component} ${setting} (${control})`;
const CIS = {
  kubeletCertificateAuthority: cis('kube-apiserver', '--kubelet-certificate-authority', '1.2.5 in v1.10'),
  kubeletClientCertificate: cis('kube-apiserver', '--kubelet-client-certificate and --kubelet-client-key', '1.2.4 in v1.10'),
  apiserverClientCa: cis('kube-apiserver', '--client-ca-file', '1.2.25 in v1.10'),
  apiserverAnonymous: cis('kube-apiserver', '--anonymous-auth=false', '1.2.1 in v1.10'),
  apiserverInsecurePort: cis('kube-apiserver', '--insecure-port=0', '1.2.19 in v1.6'),
  apiserverInsecureBind: cis('kube-apiserver', 'no --insecure-bind-address', '1.2.18 in v1.6'),
  apiserverCiphers: cis('kube-apiserver', '--tls-cipher-suites', '1.2.29 in v1.10'),
  apiserverEtcdClient: cis('kube-apiserver', '--etcd-certfile and --etcd-keyfile', '1.2.23 in v1.10'),
  etcdClientCertAuth: cis('etcd', '--client-cert-auth=true', '2.2 in v1.10'),
  kubeletAnonymous: cis('kubelet', '--anonymous-auth=false (authentication.anonymous.enabled: false)', '4.2.1 in v1.10'),
  kubeletAuthorization: cis('kubelet', '--authorization-mode=Webhook', '4.2.2 in v1.10'),
  kubeletClientCa: cis('kubelet', '--client-ca-file (authentication.x509.clientCAFile)', '4.2.3 in v1.10'),
  kubeletReadOnlyPort: cis('kubelet', '--read-only-port=0 (readOnlyPort: 0)', '4.2.4 in v1.10'),
  kubeletRotate: cis('kubelet', 'rotateCertificates: true', '4.2.10 in v1.10'),
  kubeletServerRotate: cis('kubelet', 'RotateKubeletServerCertificate (serverTLSBootstrap: true)', '4.2.11 in v1.10'),
  kubeletCiphers: cis('kubelet', '--tls-cipher-suites', '4.2.12 in v1.10'),
};

/** The page's section for a path. */
function section(path: CommPath): string {
  if (path === 'apiserver->kubelet' || path === 'client->kubelet') return K8S.apiserverToKubelet;
  if (PROXY_PATHS.has(path)) return K8S.proxy;
  if (path === 'tunnel') return K8S.konnectivity;
  return K8S.nodeToControlPlane;
}

const always = <T>(value: T) => (): T => value;

/** `client:port → server:port`, as the detail texts name a connection. */
const flowLine = (flow: FlowJson) => `${flow.src}:${flow.sport} → ${flow.dst}:${flow.dport}`;

const READ_ONLY_PORT_FIX = 'kubelet: readOnlyPort: 0 in the KubeletConfiguration (--read-only-port=0; kubeadm sets it); clients use the authenticated HTTPS port 10250';
const KUBELET_PLAINTEXT_FIX = 'serve the kubelet API over HTTPS only (tlsCertFile and tlsPrivateKeyFile, or serverTLSBootstrap: true): the apiserver and every other client reach kubelets over HTTPS';
const PLAINTEXT_FIX: Partial<Record<CommPath, string>> = {
  'apiserver->kubelet': KUBELET_PLAINTEXT_FIX,
  'client->kubelet': KUBELET_PLAINTEXT_FIX,
  'apiserver->node': 'use https: in the proxy URL (/api/v1/nodes/https:NAME:PORT/proxy/), and across untrusted networks route the apiserver\'s egress through Konnectivity (--egress-selector-config-file)',
  'apiserver->pod': 'use https: in the proxy URL (/api/v1/namespaces/NS/pods/https:NAME:PORT/proxy/), and across untrusted networks route the apiserver\'s egress through Konnectivity (--egress-selector-config-file)',
  'apiserver->service': 'use https: in the proxy URL (/api/v1/namespaces/NS/services/https:NAME:PORT/proxy/), and across untrusted networks route the apiserver\'s egress through Konnectivity (--egress-selector-config-file)',
  'apiserver->etcd': 'etcd: serve clients over TLS (--cert-file, --key-file, --client-cert-auth=true); kube-apiserver: --etcd-cafile, --etcd-certfile, --etcd-keyfile',
  tunnel: 'run the Konnectivity server and agents over mutual TLS',
};
const APISERVER_PLAINTEXT_FIX = 'serve the API on the secure port only: --insecure-port=0 and no --insecure-bind-address (the insecure port is gone since 1.20); point kubeconfigs and clients at https://';

const CLIENT_AUTH_FIX: Partial<Record<CommPath, string>> = {
  'apiserver->kubelet': 'kubelet: authentication.x509.clientCAFile (--client-ca-file) and authentication.anonymous.enabled: false; kube-apiserver: --kubelet-client-certificate and --kubelet-client-key',
  'client->kubelet': 'kubelet: authentication.x509.clientCAFile (--client-ca-file), authentication.anonymous.enabled: false and authorization.mode: Webhook; clients present a certificate of that CA',
  'node->apiserver': 'kube-apiserver: --client-ca-file; give the kubelet a client certificate (TLS bootstrapping, rotateCertificates: true)',
  'apiserver->etcd': 'etcd: --client-cert-auth=true and --trusted-ca-file; kube-apiserver: --etcd-certfile and --etcd-keyfile',
};
const CLIENT_AUTH_REFERENCES: Partial<Record<CommPath, string[]>> = {
  'apiserver->kubelet': [K8S.apiserverToKubelet, CIS.kubeletClientCa, CIS.kubeletClientCertificate],
  'client->kubelet': [K8S.apiserverToKubelet, CIS.kubeletClientCa, CIS.kubeletAnonymous],
  'node->apiserver': [K8S.nodeToControlPlane, CIS.apiserverClientCa],
  'apiserver->etcd': [CIS.etcdClientCertAuth, CIS.apiserverEtcdClient],
};
const CLIENT_AUTH_SEVERITY: Partial<Record<CommPath, Severity>> = {
  'apiserver->kubelet': 'high',
  'client->kubelet': 'high',
  'node->apiserver': 'medium',
  'apiserver->etcd': 'medium',
};

const BAD_VERDICTS = new Set(['self-signed', 'untrusted', 'expired', 'name-mismatch']);
const BELOW_TLS12 = new Set(['SSLv2', 'SSLv3', '1.0', '1.1']);
const STREAM_KINDS = new Set(['kubelet-exec', 'kubelet-attach', 'kubelet-portforward', 'apiserver-exec', 'apiserver-attach', 'apiserver-portforward']);
const STREAM_UPGRADES = new Set(['spdy/3.1', 'websocket']);
/** Served to anyone by the apiserver's default RBAC (system:public-info-viewer): answering them is not a finding. */
const PUBLIC_APISERVER_PATHS = /^\/(healthz|livez|readyz|version)(\/|$)/;

/** Why a TLS 1.2 suite is weak, or null. Suites named by their code only are not judged. */
function weakCipher(cipher: string): string | null {
  if (!cipher.startsWith('TLS_')) return null;
  const weakness = /_(NULL|EXPORT|RC4|3DES|DES|CBC|anon)_?/.exec(cipher);
  if (weakness) return weakness[1] === 'anon' ? 'anonymous (no server authentication)' : weakness[1];
  return /^TLS_(ECDHE|DHE)_/.test(cipher) ? null : 'no forward secrecy (static key exchange)';
}

/** Both sides finished the handshake and sent application data: the client went on with the server it got. */
const completed = (flow: FlowJson): boolean => flow.tls?.established === true;

export const RULES: readonly Rule[] = [
  {
    id: 'KW001', name: 'plaintext-http', severity: 'high',
    title: 'HTTP without TLS on a control-plane path',
    remediation: (flow) => (flow.dport === 10255 && toKubelet(flow.path) ? READ_ONLY_PORT_FIX : PLAINTEXT_FIX[flow.path] ?? APISERVER_PLAINTEXT_FIX),
    references: (flow) => [section(flow.path), ...(flow.dport === 10255 ? [CIS.kubeletReadOnlyPort] : toApiserver(flow.path) ? [CIS.apiserverInsecurePort] : [])],
    match(flow, context) {
      if (!cleartextHttp(flow) || !controlPlane(flow)) return null;
      const seen = requests(flow);
      return {
        detail: `${flowLine(flow)} carries ${flow.protocol === 'h2c' ? 'HTTP/2 (h2c)' : 'HTTP/1.x'} in clear on ${flow.path}: anyone on the network path reads and can change requests and responses.`,
        basis: 'observed',
        packets: packetList(context.firstPacket, seen.slice(0, 3).map((r) => r.packet)),
        facts: seen.length ? seen.slice(0, 3).map(requestLine) : [`${flow.protocol} without requests seen`],
      };
    },
  },
  {
    id: 'KW002', name: 'kubelet-readonly-port', severity: 'high',
    title: "Traffic to the kubelet's read-only port 10255",
    remediation: always(READ_ONLY_PORT_FIX),
    references: always([K8S.apiserverToKubelet, CIS.kubeletReadOnlyPort]),
    match(flow, context) {
      if (flow.dport !== 10255 || !toKubelet(flow.path) || flow.bytes.c2s + flow.bytes.s2c === 0) return null;
      return {
        detail: `${flowLine(flow)}: the read-only port answers without authentication or authorization, and in clear (pod specs, environment, node stats).`,
        basis: 'observed',
        packets: packetList(context.firstPacket, requests(flow).slice(0, 3).map((r) => r.packet)),
        facts: requests(flow).length ? requests(flow).slice(0, 3).map(requestLine) : [`${flow.bytes.c2s + flow.bytes.s2c} bytes exchanged on port 10255`],
      };
    },
  },
  {
    id: 'KW003', name: 'server-not-verified', severity: 'high',
    title: 'Server certificate accepted although it does not verify',
    remediation: (flow) =>
      flow.path === 'apiserver->kubelet'
        ? 'kube-apiserver: --kubelet-certificate-authority with the CA that signs kubelet serving certificates; kubelets: serverTLSBootstrap: true (then approve their CSRs) instead of the self-signed default'
        : 'give the client the CA of the server and let it verify (no insecure-skip-tls-verify, --kubelet-insecure-tls); serve a certificate of that CA valid for the name or address the client dials',
    references: (flow) => (flow.path === 'apiserver->kubelet' ? [K8S.apiserverToKubelet, CIS.kubeletCertificateAuthority, CIS.kubeletServerRotate] : [section(flow.path)]),
    match(flow, context) {
      const tls = flow.tls;
      if (!tls || !controlPlane(flow) || PROXY_PATHS.has(flow.path) || !completed(flow) || tls.serverChain.length === 0) return null;
      if (!BAD_VERDICTS.has(tls.serverCertVerdict)) return null;
      // Without anchors every chain looks unanchored: only a chain no CA issued is certain.
      if (!context.anchorsGiven && !selfMadeChain(tls.serverChain)) return null;
      const leaf = tls.serverChain[0];
      return {
        detail:
          `The server's chain is ${tls.serverCertVerdict} (${tls.serverCertReason ?? leaf.subject}), yet the client finished the handshake and sent application data: it did not verify the server, so a man-in-the-middle could have stood here.` +
          (context.anchorsGiven ? '' : ' Judged without trust anchors (give --ca to judge every chain): no CA issued this certificate.'),
        basis: certificateBasis(tls),
        packets: packetList(context.firstPacket, stepPackets(flow, 'server', 'Certificate')),
        certificates: tls.serverChain.map((certificate) => certificate.sha256),
        facts: [`server certificate ${leaf.subject}, issuer ${leaf.issuer}`, `verdict ${tls.serverCertVerdict}`],
      };
    },
  },
  {
    id: 'KW004', name: 'no-client-auth', severity: 'high',
    title: 'No client certificate where mutual TLS is expected',
    remediation: (flow) => CLIENT_AUTH_FIX[flow.path] ?? '',
    references: (flow) => CLIENT_AUTH_REFERENCES[flow.path] ?? [],
    match(flow, context) {
      const tls = flow.tls;
      const severity = CLIENT_AUTH_SEVERITY[flow.path];
      // Pods and other clients authenticate with tokens inside TLS: no certificate is expected of them.
      if (!tls || severity === undefined || !completed(flow) || tls.clientAuthEvidence === 'unknown') return null;
      const notAsked = tls.clientCertRequested === false;
      if (!notAsked && tls.clientCertPresented !== false) return null;
      const inferred = tls.clientAuthEvidence === 'inferred';
      const what = notAsked ? 'the server sent no CertificateRequest' : 'the server asked for a client certificate and the client sent none';
      return {
        detail:
          `On ${flow.path}, ${what}, and the connection went on: the server does not know its client by certificate.` +
          (inferred ? ' Inferred from the sizes of TLS 1.3 encrypted handshake records, not seen: give key logs to confirm.' : ''),
        basis: tls.clientAuthEvidence as EvidenceBasis,
        severity,
        packets: packetList(context.firstPacket, notAsked ? stepPackets(flow, 'server', 'ServerHelloDone', 'Certificate') : stepPackets(flow, 'client', 'Certificate')),
        facts: [notAsked ? 'no CertificateRequest' : 'empty client Certificate', `TLS ${tls.version ?? '?'}`],
      };
    },
  },
  {
    id: 'KW005', name: 'credentials-in-cleartext', severity: 'critical',
    title: 'Credentials sent without TLS',
    remediation: always('move this traffic to TLS, then revoke and reissue the exposed credential (delete the token or its secret; kubeadm token delete for a bootstrap token)'),
    references: (flow) => [section(flow.path)],
    match(flow, context) {
      if (!cleartextHttp(flow)) return null;
      const carrying = requests(flow).filter((request) => request.credentials.length > 0 || request.auth !== 'none');
      if (carrying.length === 0) return null;
      const credentials = carrying.flatMap((request) => request.credentials);
      return {
        detail: `${carrying.length} request${carrying.length === 1 ? '' : 's'} on ${flowLine(flow)} carried credentials in clear: anyone on the network path can replay them. They are shown here by kind and hash prefix only.`,
        basis: 'observed',
        packets: packetList(context.firstPacket, carrying.slice(0, 5).map((request) => request.packet)),
        facts: [...new Set(credentials.length ? credentials.map(credentialText) : carrying.map((request) => `${request.auth} credentials`))],
      };
    },
  },
  {
    id: 'KW006', name: 'proxy-backend-unverified', severity: 'medium',
    title: 'Apiserver proxy over TLS without verification or client credentials',
    remediation: always("the apiserver proxy never verifies backends nor presents a certificate: keep sensitive traffic off …/proxy/ URLs, route the apiserver's egress through Konnectivity (--egress-selector-config-file) across untrusted networks, and let backends authenticate their callers themselves"),
    references: always([K8S.proxy, K8S.konnectivity]),
    match(flow, context) {
      const tls = flow.tls;
      if (!tls || !PROXY_PATHS.has(flow.path) || !completed(flow) || tls.clientCertPresented === true) return null;
      const throughProxy = flow.via === 'apiserver-proxy';
      // A webhook whose backend certificate verifies (caBundle) is not the proxy: nothing says otherwise.
      if (!throughProxy && tls.serverCertVerdict === 'trusted') return null;
      if (!throughProxy && tls.serverChain.length === 0) return null;
      const facts = [throughProxy ? 'request through the apiserver proxy' : `backend certificate ${tls.serverCertVerdict}`];
      if (tls.clientCertRequested === false) facts.push('no CertificateRequest');
      else if (tls.clientCertPresented === false) facts.push('no client certificate');
      return {
        detail: `${flowLine(flow)} is ${flow.path} over TLS, but the apiserver proxy skips certificate verification (InsecureSkipVerify) and sends no client certificate: encrypted, yet a man-in-the-middle could read and change it.`,
        basis: certificateBasis(tls),
        packets: packetList(context.firstPacket, stepPackets(flow, 'server', 'Certificate')),
        certificates: tls.serverChain.map((certificate) => certificate.sha256),
        facts,
      };
    },
  },
  {
    id: 'KW007', name: 'handshake-rejected', severity: 'info',
    title: 'TLS handshake rejected with a fatal alert',
    remediation: always('see which side sent the alert and fix what it rejected: the CA bundle it verifies with (--kubelet-certificate-authority, --client-ca-file, a kubeconfig\'s certificate-authority) or the certificate the other side presents'),
    references: (flow) => [section(flow.path)],
    match(flow) {
      const alert = flow.tls?.alert;
      if (!alert || alert.level !== 'fatal' || !controlPlane(flow)) return null;
      // A decrypted alert is read, not inferred: its description is the real one.
      const read = alert.inClear || alert.decrypted === true;
      const what = read ? `a fatal alert (${alert.description})` : 'an encrypted alert (inferred from the sizes of the TLS 1.3 records)';
      return {
        detail: `The ${alert.from} ended the handshake with ${what}: verification is on, and something is misconfigured or someone is in the middle.`,
        basis: alert.inClear ? 'observed' : alert.decrypted ? 'decrypted' : 'inferred',
        packets: packetList(alert.packet),
        facts: [read ? `${alert.from} alert ${alert.description}` : `encrypted alert from the ${alert.from}`],
      };
    },
  },
  {
    id: 'KW008', name: 'weak-tls', severity: 'medium',
    title: 'Weak TLS version or cipher suite',
    remediation: always('kube-apiserver and kubelet: --tls-min-version=VersionTLS12 and --tls-cipher-suites limited to ECDHE suites with AES-GCM or ChaCha20-Poly1305 (kubelet: tlsMinVersion, tlsCipherSuites)'),
    references: always([CIS.apiserverCiphers, CIS.kubeletCiphers]),
    match(flow, context) {
      const tls = flow.tls;
      if (!tls || tls.version === null || !controlPlane(flow)) return null;
      const serverHello = stepPackets(flow, 'server', 'ServerHello');
      if (BELOW_TLS12.has(tls.version)) {
        return {
          detail: `The connection negotiated TLS ${tls.version}, below 1.2: deprecated (RFC 8996) and open to known attacks.`,
          basis: 'observed', packets: packetList(context.firstPacket, serverHello), facts: [`TLS ${tls.version}`, `cipher ${tls.cipher ?? '?'}`],
        };
      }
      const weakness = tls.version === '1.2' && tls.cipher ? weakCipher(tls.cipher) : null;
      if (!weakness) return null;
      return {
        detail: `The connection negotiated ${tls.cipher} (${weakness}).`,
        basis: 'observed', packets: packetList(context.firstPacket, serverHello), facts: [`TLS 1.2`, `cipher ${tls.cipher}`],
      };
    },
  },
  {
    id: 'KW009', name: 'certificate-validity', severity: 'high',
    title: 'Certificate outside its validity period',
    remediation: always('renew the certificate (kubeadm certs renew; kubelet rotateCertificates: true and serverTLSBootstrap: true), and find out why the other side accepted it'),
    references: always([CIS.kubeletRotate, CIS.kubeletServerRotate]),
    match(flow, context) {
      const tls = flow.tls;
      if (!tls || !controlPlane(flow) || !completed(flow)) return null;
      const stale = [
        ...outOfValidity(tls.serverChain, flow.firstTs).map((bad) => ({ ...bad, side: 'server' as const })),
        ...outOfValidity(tls.clientChain, flow.firstTs).map((bad) => ({ ...bad, side: 'client' as const })),
      ];
      if (stale.length === 0) return null;
      return {
        detail: `A certificate in this completed handshake was not valid at the capture time (${new Date(flow.firstTs * 1000).toISOString()}), and the connection went on.`,
        basis: certificateBasis(tls),
        packets: packetList(context.firstPacket, [...new Set(stale.map((bad) => bad.side))].flatMap((side) => stepPackets(flow, side, 'Certificate'))),
        certificates: stale.map((bad) => bad.certificate.sha256),
        facts: stale.map((bad) => `${bad.side} certificate ${bad.certificate.subject} ${bad.why}`),
      };
    },
  },
  {
    id: 'KW010', name: 'stream-in-cleartext', severity: 'critical',
    title: 'exec, attach or port-forward without TLS',
    remediation: always('streams must run over TLS: the apiserver reaches kubelets on 10250 over HTTPS only; never expose a plaintext kubelet or apiserver port'),
    references: always([K8S.apiserverToKubelet]),
    match(flow, context) {
      if (!cleartextHttp(flow)) return null;
      const streams = requests(flow).filter(
        (request) => request.upgrade !== null && STREAM_UPGRADES.has(request.upgrade.toLowerCase()) && (request.streamProtocol !== null || STREAM_KINDS.has(request.k8s?.kind ?? '')),
      );
      if (streams.length === 0) return null;
      return {
        detail: `A Kubernetes stream (${streams.map((request) => request.k8s?.kind ?? request.streamProtocol).join(', ')}) was opened in clear on ${flowLine(flow)}: terminal input and output, or forwarded traffic, are readable and can be injected.`,
        basis: 'observed',
        packets: packetList(context.firstPacket, streams.map((request) => [request.packet, request.responsePacket ?? 0]).flat()),
        facts: streams.map((request) => `${requestLine(request)} (Upgrade: ${request.upgrade}${request.streamProtocol ? `, ${request.streamProtocol}` : ''})`),
      };
    },
  },
  {
    id: 'KW011', name: 'anonymous-request-accepted', severity: 'high',
    title: 'Request without credentials answered 2xx',
    remediation: (flow) =>
      toKubelet(flow.path)
        ? 'kubelet: authentication.anonymous.enabled: false (--anonymous-auth=false) and authorization.mode: Webhook (--authorization-mode=Webhook)'
        : 'kube-apiserver: --anonymous-auth=false, or RBAC that grants system:anonymous and system:unauthenticated nothing beyond the health endpoints',
    references: (flow) => (toKubelet(flow.path) ? [K8S.apiserverToKubelet, CIS.kubeletAnonymous, CIS.kubeletAuthorization] : [K8S.nodeToControlPlane, CIS.apiserverAnonymous]),
    match(flow, context) {
      const kubelet = toKubelet(flow.path);
      if ((!kubelet && !toApiserver(flow.path)) || flow.tls?.clientCertPresented === true) return null;
      const accepted = requests(flow).filter(
        (request) =>
          request.auth === 'none' && request.status !== null && request.status >= 200 && request.status < 300 &&
          (kubelet || !PUBLIC_APISERVER_PATHS.test(request.target.split('?')[0])),
      );
      if (accepted.length === 0) return null;
      return {
        detail: `The ${kubelet ? 'kubelet' : 'apiserver'} answered ${accepted.length} request${accepted.length === 1 ? '' : 's'} that carried no credentials with success: anonymous access is on and authorizes ${kubelet ? 'kubelet API calls' : 'API reads'}.`,
        basis: requestBasis(flow),
        packets: packetList(context.firstPacket, accepted.slice(0, 3).map((request) => [request.packet, request.responsePacket ?? 0]).flat()),
        facts: accepted.slice(0, 3).map(requestLine),
      };
    },
  },
  {
    id: 'KW012', name: 'ssh-tunnel', severity: 'info',
    title: 'SSH tunnel between the control plane and a node',
    remediation: always('SSH tunnels are deprecated: replace them with the Konnectivity service (--egress-selector-config-file on the apiserver, konnectivity-agent on the nodes)'),
    references: always([K8S.ssh, K8S.konnectivity]),
    match(flow, context) {
      if (flow.protocol !== 'ssh' || flow.path !== 'tunnel') return null;
      const banners = [flow.ssh?.clientBanner && `client ${flow.ssh.clientBanner}`, flow.ssh?.serverBanner && `server ${flow.ssh.serverBanner}`];
      return {
        detail: `${flowLine(flow)} is an SSH connection between the control plane and a node: the deprecated SSH tunnel.`,
        basis: 'observed',
        packets: packetList(context.firstPacket),
        facts: banners.filter((banner): banner is string => Boolean(banner)),
      };
    },
  },
  {
    id: 'KW013', name: 'insecure-apiserver-port', severity: 'critical',
    title: 'The apiserver answers plain HTTP',
    remediation: always(APISERVER_PLAINTEXT_FIX),
    references: always([K8S.nodeToControlPlane, CIS.apiserverInsecurePort, CIS.apiserverInsecureBind]),
    match(flow, context) {
      if (!cleartextHttp(flow) || !toApiserver(flow.path)) return null;
      const answered = requests(flow).filter((request) => request.status !== null);
      if (answered.length === 0) return null;
      return {
        detail: `The apiserver at ${flow.dst}:${flow.dport} answered HTTP without TLS: whatever authenticates there (or nothing) and every response travel in clear.`,
        basis: 'observed',
        packets: packetList(context.firstPacket, answered.slice(0, 3).map((request) => request.responsePacket ?? 0)),
        facts: answered.slice(0, 3).map(requestLine),
      };
    },
  },
];

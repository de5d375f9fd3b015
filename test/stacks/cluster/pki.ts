/**
 * A kubeadm-shaped PKI for the scenario captures (research/k8s-paths.md §5), made with openssl in
 * a temp dir, EC P-256 throughout to keep the captures small: the cluster CA `CN=kubernetes`, the
 * etcd CA `CN=etcd-ca`, the apiserver's serving and client certificates, node and admin client
 * certificates, a CSR-style kubelet serving certificate, the kubelet's default self-signed pair
 * (`node1-ca@1700000000` / `node1@1700000000`), an expired kubelet certificate, and self-signed
 * certificates of apiserver-proxy backends. Only the two CA certificates are committed
 * (captures/scenarios/pki/); every key stays in the temp dir.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ADDR } from './topology.js';

export interface KeyPair {
  cert: string;
  key: string;
}

export interface ClusterPki {
  dir: string;
  ca: string;
  etcdCa: string;
  apiserver: KeyPair;
  apiserverKubeletClient: KeyPair;
  apiserverEtcdClient: KeyPair;
  etcdServer: KeyPair;
  node1Client: KeyPair;
  admin: KeyPair;
  konnectivityAgent: KeyPair;
  /** CSR-issued (serverTLSBootstrap): CN=system:node:node1 by the cluster CA, SAN IP of node1. */
  kubeletServing: KeyPair;
  /** The kubelet's default: leaf CN=node1@1700000000 and its CA CN=node1-ca@1700000000, both in `cert`. */
  kubeletSelfSigned: KeyPair;
  /** CN=system:node:node1 by the cluster CA, valid 2024-01-01 to 2025-01-01. */
  kubeletExpired: KeyPair;
  /** Signed by the cluster CA: webhook.default.svc, the service address and the pod address. */
  webhook: KeyPair;
  /** A node's own HTTPS endpoint (node-exporter style), by the cluster CA, SAN IP of node1. */
  nodeExporter: KeyPair;
  /** Self-signed backends of the apiserver proxy. */
  podSelfSigned: KeyPair;
  serviceSelfSigned: KeyPair;
  nodeSelfSigned: KeyPair;
}

const SERVER = ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth'];
const CLIENT = ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth'];
const CA = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,digitalSignature,keyCertSign', 'subjectKeyIdentifier=hash'];

export function makeClusterPki(dir: string): ClusterPki {
  const p = (name: string) => path.join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 30_000 });
  const key = (name: string) => ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', p(`${name}.key`));
  const ext = (name: string, lines: string[]) => {
    writeFileSync(p(`${name}.ext`), `[v3]\n${lines.join('\n')}\n`);
    return p(`${name}.ext`);
  };
  let serial = 0x1000;
  const selfSigned = (name: string, subj: string, lines: string[], days = 3650): KeyPair => {
    key(name);
    writeFileSync(p(`${name}.cnf`), ['[req]', 'distinguished_name=dn', 'x509_extensions=v3', '[dn]', '[v3]', ...lines, ''].join('\n'));
    ssl('req', '-x509', '-new', '-key', p(`${name}.key`), '-subj', subj, '-days', String(days), '-set_serial', String(++serial),
      '-config', p(`${name}.cnf`), '-out', p(`${name}.crt`));
    return { cert: p(`${name}.crt`), key: p(`${name}.key`) };
  };
  const signed = (name: string, subj: string, issuer: string, lines: string[], days = 3650): KeyPair => {
    key(name);
    ssl('req', '-new', '-key', p(`${name}.key`), '-subj', subj, '-out', p(`${name}.csr`));
    ssl('x509', '-req', '-in', p(`${name}.csr`), '-CA', p(`${issuer}.crt`), '-CAkey', p(`${issuer}.key`), '-set_serial', String(++serial),
      '-days', String(days), '-extfile', ext(name, lines), '-extensions', 'v3', '-out', p(`${name}.crt`));
    return { cert: p(`${name}.crt`), key: p(`${name}.key`) };
  };

  selfSigned('ca', '/CN=kubernetes', CA);
  selfSigned('etcd-ca', '/CN=etcd-ca', CA);
  const apiserverSans = ['DNS:cp', 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc',
    'DNS:kubernetes.default.svc.cluster.local', `IP:${ADDR.kubernetesVip}`, `IP:${ADDR.apiserver}`];
  const pki: Omit<ClusterPki, 'kubeletSelfSigned' | 'kubeletExpired'> = {
    dir,
    ca: p('ca.crt'),
    etcdCa: p('etcd-ca.crt'),
    apiserver: signed('apiserver', '/CN=kube-apiserver', 'ca', [...SERVER, `subjectAltName=${apiserverSans.join(',')}`]),
    apiserverKubeletClient: signed('apiserver-kubelet-client', '/O=kubeadm:cluster-admins/CN=kube-apiserver-kubelet-client', 'ca', CLIENT),
    apiserverEtcdClient: signed('apiserver-etcd-client', '/CN=kube-apiserver-etcd-client', 'etcd-ca', CLIENT),
    etcdServer: signed('etcd-server', '/CN=cp', 'etcd-ca', [
      'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth,clientAuth',
      `subjectAltName=DNS:cp,DNS:localhost,IP:127.0.0.1,IP:${ADDR.etcd}`,
    ]),
    node1Client: signed('node1-client', '/O=system:nodes/CN=system:node:node1', 'ca', CLIENT),
    admin: signed('admin', '/O=kubeadm:cluster-admins/CN=kubernetes-admin', 'ca', CLIENT),
    konnectivityAgent: signed('konnectivity-agent', '/CN=system:konnectivity-agent', 'ca', CLIENT),
    kubeletServing: signed('kubelet-serving', '/O=system:nodes/CN=system:node:node1', 'ca', [...SERVER, `subjectAltName=DNS:node1,IP:${ADDR.node1}`], 365),
    webhook: signed('webhook', '/CN=webhook.default.svc', 'ca', [...SERVER,
      `subjectAltName=DNS:webhook.default.svc,IP:${ADDR.service},IP:${ADDR.pod}`]),
    nodeExporter: signed('node-exporter', '/CN=node1', 'ca', [...SERVER, `subjectAltName=DNS:node1,IP:${ADDR.node1}`]),
    podSelfSigned: selfSigned('pod-web', '/CN=web', [...SERVER, 'subjectAltName=DNS:web']),
    serviceSelfSigned: selfSigned('service-web', '/CN=web.default.svc', [...SERVER, 'subjectAltName=DNS:web.default.svc']),
    nodeSelfSigned: selfSigned('node-metrics', '/CN=node1-metrics', [...SERVER, 'subjectAltName=DNS:node1']),
  };

  // The kubelet's self-signed pair (client-go GenerateSelfSignedCertKeyWithFixtures): a CA named
  // after the host and a leaf it signs, both sent in the Certificate message.
  selfSigned('kubelet-ca', '/CN=node1-ca@1700000000', CA, 365);
  const leaf = signed('kubelet-self', '/CN=node1@1700000000', 'kubelet-ca', [...SERVER, 'subjectAltName=DNS:node1'], 365);
  const chain = p('kubelet-self-chain.crt');
  writeFileSync(chain, readFileSync(leaf.cert, 'utf8') + readFileSync(p('kubelet-ca.crt'), 'utf8'));

  // An expired certificate: `openssl ca` takes a start and end date in the past.
  key('kubelet-expired');
  ssl('req', '-new', '-key', p('kubelet-expired.key'), '-subj', '/O=system:nodes/CN=system:node:node1', '-out', p('kubelet-expired.csr'));
  writeFileSync(p('index.txt'), '');
  writeFileSync(p('serial'), `${(++serial).toString(16)}\n`);
  writeFileSync(p('ca.conf'), [
    '[ca]', 'default_ca=kw', '[kw]', `database=${p('index.txt')}`, `serial=${p('serial')}`, `new_certs_dir=${dir}`, 'default_md=sha256', 'policy=any',
    'unique_subject=no', 'copy_extensions=none', '[any]', 'commonName=supplied', 'organizationName=optional',
    '[v3]', ...SERVER, `subjectAltName=DNS:node1,IP:${ADDR.node1}`, '',
  ].join('\n'));
  ssl('ca', '-batch', '-config', p('ca.conf'), '-extensions', 'v3', '-in', p('kubelet-expired.csr'), '-cert', p('ca.crt'),
    '-keyfile', p('ca.key'), '-startdate', '20240101000000Z', '-enddate', '20250101000000Z', '-notext', '-out', p('kubelet-expired.crt'));

  return { ...pki, kubeletSelfSigned: { cert: chain, key: leaf.key }, kubeletExpired: { cert: p('kubelet-expired.crt'), key: p('kubelet-expired.key') } };
}

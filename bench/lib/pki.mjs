// Throwaway PKI for the benchmark traffic, shaped like a kubeadm cluster's: one CA, an apiserver
// certificate (RSA, SANs for the service names and 198.18 addresses), a kubelet serving certificate
// (EC) and two client certificates (a node identity and an admin). Made fresh in a temp dir.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSync } from './proc.mjs';

const DAYS = '3';

function key(dir, name, algorithm) {
  const path = join(dir, `${name}.key`);
  const options = algorithm === 'rsa'
    ? ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']
    : ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  runSync('openssl', ['genpkey', ...options, '-out', path]);
  return path;
}

function leaf(dir, name, { algorithm, subject, serial, extensions }, ca) {
  const keyPath = key(dir, name, algorithm);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  const cert = join(dir, `${name}.crt`);
  writeFileSync(ext, extensions.join('\n') + '\n');
  runSync('openssl', ['req', '-new', '-key', keyPath, '-subj', subject, '-out', csr]);
  runSync('openssl', ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', String(serial),
    '-days', DAYS, '-extfile', ext, '-out', cert]);
  return { key: keyPath, cert };
}

/** Creates the PKI in `dir`; the two addresses go into the server certificates' SANs. */
export function makePki(dir, { apiserverIp, kubeletIp }) {
  const ca = { key: key(dir, 'ca', 'rsa'), cert: join(dir, 'ca.crt') };
  runSync('openssl', ['req', '-new', '-x509', '-key', ca.key, '-subj', '/CN=kwire-bench-ca', '-days', DAYS, '-out', ca.cert]);
  const serverUsage = ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth'];
  const clientUsage = ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=clientAuth'];
  return {
    ca,
    apiserver: leaf(dir, 'apiserver', {
      algorithm: 'rsa', subject: '/CN=kube-apiserver', serial: 2,
      extensions: [...serverUsage, `subjectAltName=DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:${apiserverIp}`],
    }, ca),
    kubelet: leaf(dir, 'kubelet', {
      algorithm: 'ec', subject: '/CN=kw-node-1', serial: 3,
      extensions: [...serverUsage, `subjectAltName=DNS:kw-node-1,IP:${kubeletIp}`],
    }, ca),
    nodeClient: leaf(dir, 'node-client', {
      algorithm: 'ec', subject: '/O=system:nodes/CN=system:node:kw-node-1', serial: 4, extensions: clientUsage,
    }, ca),
    adminClient: leaf(dir, 'admin-client', {
      algorithm: 'rsa', subject: '/O=system:masters/CN=kubernetes-admin', serial: 5, extensions: clientUsage,
    }, ca),
  };
}

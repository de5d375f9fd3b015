import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KwireError } from '../model/errors.js';
import { CA_EXTENSIONS, TestPki } from '../pki/testing.js';
import { parseAddress } from './cidr.js';
import { loadClusterFile, parseCluster, type ClusterInfo } from './cluster.js';

const at = (text: string) => parseAddress(text)!;

/** What a ClusterInfo says of a few addresses, to compare whole. */
function describeCluster(cluster: ClusterInfo, addresses: string[]) {
  return {
    apiserverPorts: cluster.apiserverPorts,
    kubeletPorts: cluster.kubeletPorts,
    kubernetesServiceIP: cluster.kubernetesServiceIP,
    byAddress: Object.fromEntries(
      addresses.map((address) => [
        address,
        {
          apiserver: cluster.apiservers.get(at(address)) ?? false,
          etcd: cluster.etcd.get(at(address)) ?? false,
          node: cluster.nodes.get(at(address)),
          pod: cluster.pods.get(at(address)),
          service: cluster.services.get(at(address)),
        },
      ]),
    ),
  };
}

const SPEC_EXAMPLE = `apiservers: [192.0.2.10, 192.0.2.128/28]   # an address and a CIDR
apiserverPorts: [6443, 443]
kubernetesServiceIP: 10.96.0.1
serviceCIDR: 10.96.0.0/12
podCIDRs: [10.244.0.0/16, "fd00:10:244::/56"]
nodes:
  - {name: node1, ip: 192.0.2.21}
  - name: node2
    ip: 2001:db8::22
etcd: [192.0.2.5]
kubeletPorts: [10250, 10260]
`;

describe('the cluster file of SPEC.md §2', () => {
  const addresses = ['192.0.2.10', '192.0.2.140', '192.0.2.21', '2001:db8:0::22', '192.0.2.5', '10.244.3.3', 'fd00:10:244::9', '10.100.0.7', '198.18.0.1'];
  const expected = {
    apiserverPorts: [6443, 443],
    kubeletPorts: [10250, 10260],
    kubernetesServiceIP: { bits: 32, base: 0x0a600001n, prefix: 32 },
    byAddress: {
      '192.0.2.10': { apiserver: true, etcd: false, node: undefined, pod: undefined, service: undefined },
      '192.0.2.140': { apiserver: true, etcd: false, node: undefined, pod: undefined, service: undefined },
      '192.0.2.21': { apiserver: false, etcd: false, node: 'node1', pod: undefined, service: undefined },
      '2001:db8:0::22': { apiserver: false, etcd: false, node: 'node2', pod: undefined, service: undefined },
      '192.0.2.5': { apiserver: false, etcd: true, node: undefined, pod: undefined, service: undefined },
      '10.244.3.3': { apiserver: false, etcd: false, node: undefined, pod: null, service: undefined },
      'fd00:10:244::9': { apiserver: false, etcd: false, node: undefined, pod: null, service: undefined },
      '10.100.0.7': { apiserver: false, etcd: false, node: undefined, pod: undefined, service: null },
      '198.18.0.1': { apiserver: false, etcd: false, node: undefined, pod: undefined, service: undefined },
    },
  };

  it('reads every field from YAML', () => {
    expect(describeCluster(parseCluster(SPEC_EXAMPLE, 'cluster.yaml'), addresses)).toEqual(expected);
  });

  it('reads the same from JSON', () => {
    const json = JSON.stringify({
      apiservers: ['192.0.2.10', '192.0.2.128/28'],
      kubernetesServiceIP: '10.96.0.1',
      serviceCIDR: '10.96.0.0/12',
      podCIDRs: ['10.244.0.0/16', 'fd00:10:244::/56'],
      nodes: [{ name: 'node1', ip: '192.0.2.21' }, { name: 'node2', ip: '2001:db8::22' }],
      etcd: ['192.0.2.5'],
      kubeletPorts: [10250, 10260],
    });
    expect(describeCluster(parseCluster(json, 'cluster.json'), addresses)).toEqual(expected);
  });

  it('defaults every field: an empty mapping is a cluster file that says nothing', () => {
    const cluster = parseCluster('{}', 'empty.json');
    expect(cluster.apiserverPorts).toEqual([6443, 443]);
    expect(cluster.kubeletPorts).toEqual([10250]);
    expect(cluster.apiservers.size + cluster.nodes.size + cluster.pods.size + cluster.services.size + cluster.etcd.size).toBe(0);
    expect(cluster.anchors).toBeNull();
  });

  describe('reads the ca files relative to the cluster file', () => {
    const pki = new TestPki();
    const dir = mkdtempSync(path.join(tmpdir(), 'kwire-cluster-'));
    afterAll(() => {
      pki.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('into trust anchors', () => {
      const ca = pki.issue('ca', { subject: '/CN=kubernetes', key: 'p256', extensions: CA_EXTENSIONS });
      mkdirSync(path.join(dir, 'pki'));
      writeFileSync(path.join(dir, 'pki', 'ca.crt'), ca.pem);
      writeFileSync(path.join(dir, 'cluster.yaml'), 'ca: [pki/ca.crt]\n');
      const cluster = loadClusterFile(path.join(dir, 'cluster.yaml'));
      expect(cluster.anchors?.size).toBe(1);
      expect(cluster.anchors?.withSubject('CN=kubernetes')).toHaveLength(1);
    });
  });
});

/** A trimmed `kubectl get nodes,pods,services -A -o json` of a kubeadm cluster, fields as kubectl prints them. */
const KUBECTL_LIST_OBJECT = {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'v1', kind: 'Node',
        metadata: { name: 'cp1', labels: { 'node-role.kubernetes.io/control-plane': '' } },
        spec: { podCIDR: '10.244.0.0/24' },
        status: { addresses: [{ type: 'InternalIP', address: '192.0.2.10' }, { type: 'Hostname', address: 'cp1' }] },
      },
      {
        apiVersion: 'v1', kind: 'Node',
        metadata: { name: 'node1' },
        status: { addresses: [{ type: 'InternalIP', address: '192.0.2.21' }, { type: 'ExternalIP', address: '203.0.113.21' }, { type: 'Hostname', address: 'node1' }] },
      },
      {
        apiVersion: 'v1', kind: 'Pod',
        metadata: { name: 'kube-apiserver-cp1', namespace: 'kube-system', labels: { component: 'kube-apiserver', tier: 'control-plane' } },
        spec: { hostNetwork: true, nodeName: 'cp1' },
        status: { hostIP: '192.0.2.10', podIP: '192.0.2.10', podIPs: [{ ip: '192.0.2.10' }] },
      },
      {
        apiVersion: 'v1', kind: 'Pod',
        metadata: { name: 'etcd-cp1', namespace: 'kube-system', labels: { component: 'etcd', tier: 'control-plane' } },
        spec: { hostNetwork: true, nodeName: 'cp1' },
        status: { podIP: '192.0.2.10', podIPs: [{ ip: '192.0.2.10' }] },
      },
      {
        apiVersion: 'v1', kind: 'Pod',
        metadata: { name: 'web-7d4b9c', namespace: 'default', labels: { app: 'web' } },
        spec: { nodeName: 'node1' },
        status: { podIP: '10.244.1.5', podIPs: [{ ip: '10.244.1.5' }, { ip: 'fd00:10:244:1::5' }] },
      },
      {
        apiVersion: 'v1', kind: 'Pod',
        metadata: { name: 'pending', namespace: 'default' },
        spec: {},
        status: { phase: 'Pending' },
      },
      {
        apiVersion: 'v1', kind: 'Service',
        metadata: { name: 'kubernetes', namespace: 'default' },
        spec: { clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'], ports: [{ port: 443, targetPort: 6443 }] },
      },
      {
        apiVersion: 'v1', kind: 'Service',
        metadata: { name: 'metrics', namespace: 'kube-system' },
        spec: { clusterIP: '10.96.12.7', clusterIPs: ['10.96.12.7'] },
      },
      {
        apiVersion: 'v1', kind: 'Service',
        metadata: { name: 'headless', namespace: 'default' },
        spec: { clusterIP: 'None', clusterIPs: ['None'] },
      },
    ],
    metadata: { resourceVersion: '' },
};
const KUBECTL_LIST = JSON.stringify(KUBECTL_LIST_OBJECT, null, 4);

describe('a kubectl List', () => {
  it('gives nodes, pods, services, the kubernetes service address, and the apiservers and etcd of static pods', () => {
    const addresses = ['192.0.2.10', '192.0.2.21', '203.0.113.21', '10.244.1.5', 'fd00:10:244:1::5', '10.96.0.1', '10.96.12.7'];
    expect(describeCluster(parseCluster(KUBECTL_LIST, 'cluster.json'), addresses)).toEqual({
      apiserverPorts: [6443, 443],
      kubeletPorts: [10250],
      kubernetesServiceIP: { bits: 32, base: 0x0a600001n, prefix: 32 },
      byAddress: {
        // hostNetwork pods: their address is the node's, not a pod's.
        '192.0.2.10': { apiserver: true, etcd: true, node: 'cp1', pod: undefined, service: undefined },
        '192.0.2.21': { apiserver: false, etcd: false, node: 'node1', pod: undefined, service: undefined },
        '203.0.113.21': { apiserver: false, etcd: false, node: 'node1', pod: undefined, service: undefined },
        '10.244.1.5': { apiserver: false, etcd: false, node: undefined, pod: 'default/web-7d4b9c', service: undefined },
        'fd00:10:244:1::5': { apiserver: false, etcd: false, node: undefined, pod: 'default/web-7d4b9c', service: undefined },
        '10.96.0.1': { apiserver: false, etcd: false, node: undefined, pod: undefined, service: 'default/kubernetes' },
        '10.96.12.7': { apiserver: false, etcd: false, node: undefined, pod: undefined, service: 'kube-system/metrics' },
      },
    });
  });

  it('names the line and the item of a bad address', () => {
    const bad = KUBECTL_LIST.replaceAll('"10.96.12.7"', '"10.96.12.700"');
    expect(() => parseCluster(bad, 'list.json')).toThrow('list.json:169: items[7].spec.clusterIPs[0]: "10.96.12.700" is not an address');
  });
});

describe('bad cluster files: one line naming the file, the line and the field', () => {
  const cases: [string, string, string][] = [
    ['an address that is not one', 'apiservers:\n  - 10.0.0.1\n  - 10.0.0.300\n', 'cluster.yaml:3: apiservers[1]: "10.0.0.300" is not an address or CIDR'],
    ['a prefix too long', 'podCIDRs: [10.244.0.0/33]\n', 'cluster.yaml:1: podCIDRs[0]: "10.244.0.0/33" is not an address or CIDR'],
    ['a CIDR where an address belongs', 'kubernetesServiceIP: 10.96.0.0/12\n', 'cluster.yaml:1: kubernetesServiceIP: "10.96.0.0/12" is not an address'],
    ['a number for an address', 'etcd: [42]\n', 'cluster.yaml:1: etcd[0]: 42 is not an address or CIDR'],
    ['a port out of range', '# ports\nkubeletPorts: [10250, 70000]\n', 'cluster.yaml:2: kubeletPorts[1]: 70000 is not a port'],
    ['a port that is a string', 'apiserverPorts: ["6443"]\n', 'cluster.yaml:1: apiserverPorts[0]: "6443" is not a port'],
    ['a scalar for a list', 'apiservers: 192.0.2.10\n', 'cluster.yaml:1: apiservers: expected a list'],
    ['a node without a name', 'nodes:\n  - {name: node1, ip: 192.0.2.21}\n  - {ip: 192.0.2.22}\n', 'cluster.yaml:3: nodes[1].name: expected a node name'],
    ['a node with a bad address', 'nodes:\n  - name: node1\n    ip: node1.example\n', 'cluster.yaml:3: nodes[0].ip: "node1.example" is not an address'],
    ['a node that is a string', 'nodes: [node1]\n', 'cluster.yaml:1: nodes[0]: expected {name, ip}'],
    ['an unknown field (a typo)', 'apiserver: [192.0.2.10]\n', 'cluster.yaml:1: apiserver: unknown field (expected one of apiservers, apiserverPorts, kubernetesServiceIP, serviceCIDR, podCIDRs, nodes, etcd, kubeletPorts, ca)'],
    ['a list at the top', '- 192.0.2.10\n', 'cluster.yaml: expected a mapping of cluster fields (SPEC.md §2) or a kubectl List'],
    ['YAML that does not parse', 'apiservers: [192.0.2.10\nnodes: []\n', 'cluster.yaml:2: not valid YAML or JSON: Flow sequence in block collection must be sufficiently indented and end with a ]'],
    ['a missing ca file', 'ca:\n  - pki/missing.crt\n', 'cluster.yaml:2: ca[0]: cannot read pki/missing.crt (ENOENT)'],
    ['a ca file with no certificate', 'ca: [pki/key.pem]\n', 'cluster.yaml:1: ca: no PEM certificate (-----BEGIN CERTIFICATE-----) found'],
  ];
  const readCa = (file: string) => {
    if (file === 'pki/key.pem') return '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n';
    throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
  };

  it.each(cases)('%s', (_, text, message) => {
    let error: unknown;
    try {
      parseCluster(text, 'cluster.yaml', readCa);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(KwireError);
    expect(error).toMatchObject({ code: 'BAD_CLUSTER_FILE', message });
  });

  it('gives JSON mistakes their line too', () => {
    expect(() => parseCluster('{\n  "apiservers": [\n    "10.0.0.300"\n  ]\n}', 'cluster.json')).toThrow('cluster.json:3: apiservers[0]: "10.0.0.300" is not an address or CIDR');
  });

  it('names a file it cannot read', () => {
    expect(() => loadClusterFile('/nonexistent/cluster.yaml')).toThrow('/nonexistent/cluster.yaml: cannot read the cluster file (ENOENT)');
  });
});

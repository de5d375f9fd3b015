/**
 * The cluster file of SPEC.md §2 (YAML or JSON), or the List printed by
 * `kubectl get nodes,pods,services -A -o json`, read into address sets. Every mistake is a
 * KwireError `BAD_CLUSTER_FILE` whose one-line message names the file, the line and the field:
 * `cluster.yaml:3: apiservers[1]: "10.0.0.300" is not an address or CIDR`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { KwireError } from '../model/errors.js';
import { TrustAnchors } from '../pki/index.js';
import { addressKey, cidrContains, parseAddress, parseCidr, type Cidr } from './cidr.js';

/** Hosts (exact addresses) and blocks (CIDRs), each with a value; hosts first, then blocks in order. */
export class AddressSet<T> {
  private readonly hosts = new Map<string, T>();
  private readonly blocks: { cidr: Cidr; value: T }[] = [];

  add(cidr: Cidr, value: T): void {
    if (cidr.prefix < cidr.bits) this.blocks.push({ cidr, value });
    else if (!this.hosts.has(addressKey(cidr))) this.hosts.set(addressKey(cidr), value);
  }

  get(address: Cidr): T | undefined {
    return this.hosts.get(addressKey(address)) ?? this.blocks.find((block) => cidrContains(block.cidr, address))?.value;
  }

  get size(): number {
    return this.hosts.size + this.blocks.length;
  }
}

export interface ClusterInfo {
  /** The file's name as given, for messages. */
  source: string;
  apiservers: AddressSet<true>;
  apiserverPorts: number[];
  kubernetesServiceIP: Cidr | null;
  etcd: AddressSet<true>;
  /** Node addresses → node name. */
  nodes: AddressSet<string>;
  kubeletPorts: number[];
  /** Pod addresses → `namespace/name`, or null for a podCIDR (name unknown). hostNetwork pods are not here: their address is the node's. */
  pods: AddressSet<string | null>;
  /** Service cluster IPs → `namespace/name`, or null for the serviceCIDR. */
  services: AddressSet<string | null>;
  /** The `ca` files' trust anchors, null when the file names none. */
  anchors: TrustAnchors | null;
}

const DEFAULT_APISERVER_PORTS = [6443, 443];
export const DEFAULT_KUBELET_PORTS = [10250];

function emptyCluster(source: string): ClusterInfo {
  return {
    source,
    apiservers: new AddressSet(),
    apiserverPorts: DEFAULT_APISERVER_PORTS,
    kubernetesServiceIP: null,
    etcd: new AddressSet(),
    nodes: new AddressSet(),
    kubeletPorts: DEFAULT_KUBELET_PORTS,
    pods: new AddressSet(),
    services: new AddressSet(),
    anchors: null,
  };
}

/** Read a cluster file; `ca` paths are relative to it. */
export function loadClusterFile(file: string): ClusterInfo {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new KwireError('BAD_CLUSTER_FILE', `${file}: cannot read the cluster file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return parseCluster(text, file, (name) => readFileSync(path.resolve(path.dirname(file), name), 'utf8'));
}

type FieldPath = (string | number)[];

/** The parsed text and a way to find the line of a field, for messages. */
interface Source {
  name: string;
  lineOf(field: FieldPath): number | null;
}

class Fail extends KwireError {
  constructor(source: Source, field: FieldPath, problem: string) {
    const line = field.length > 0 ? source.lineOf(field) : null;
    const where = field.length > 0 ? `${formatField(field)}: ` : '';
    super('BAD_CLUSTER_FILE', `${source.name}${line === null ? '' : `:${line}`}: ${where}${problem}`);
  }
}

function formatField(field: FieldPath): string {
  return field.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`)).join('');
}

/**
 * Parse a cluster file's text. JSON is read by JSON.parse (a kubectl List can be megabytes);
 * anything else, and a JSON file with a mistake to point at, by the YAML parser, which knows lines.
 */
export function parseCluster(text: string, name: string, readCa: (file: string) => string = (file) => readFileSync(file, 'utf8')): ClusterInfo {
  let value: unknown;
  let doc: Document | null = null;
  const lines = new LineCounter();
  const yamlDocument = () => {
    if (!doc) {
      doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
    }
    return doc;
  };
  const source: Source = {
    name,
    lineOf(field) {
      // A missing field's line is its parent's.
      for (let depth = field.length; depth > 0; depth--) {
        const node = yamlDocument().getIn(field.slice(0, depth), true) as { range?: [number, number, number] } | undefined;
        if (node?.range) return lines.linePos(node.range[0]).line;
      }
      return null;
    },
  };
  try {
    value = JSON.parse(text);
  } catch {
    const parsed = yamlDocument();
    const error = parsed.errors[0];
    if (error) {
      throw new KwireError('BAD_CLUSTER_FILE', `${name}:${lines.linePos(error.pos[0]).line}: not valid YAML or JSON: ${error.message.split('\n')[0]}`);
    }
    value = parsed.toJS();
  }
  if (!isRecord(value)) throw new Fail(source, [], 'expected a mapping of cluster fields (SPEC.md §2) or a kubectl List');
  return value.kind === 'List' && Array.isArray(value.items) ? readList(value.items, source) : readClusterFile(value, source, readCa);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const FIELDS = ['apiservers', 'apiserverPorts', 'kubernetesServiceIP', 'serviceCIDR', 'podCIDRs', 'nodes', 'etcd', 'kubeletPorts', 'ca'];

function readClusterFile(file: Record<string, unknown>, source: Source, readCa: (file: string) => string): ClusterInfo {
  const cluster = emptyCluster(source.name);
  for (const key of Object.keys(file)) {
    if (!FIELDS.includes(key)) throw new Fail(source, [key], `unknown field (expected one of ${FIELDS.join(', ')})`);
  }
  const list = (key: string): [unknown, FieldPath][] => {
    const value = file[key];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) throw new Fail(source, [key], 'expected a list');
    return value.map((item, i) => [item, [key, i]]);
  };
  const cidr = (value: unknown, field: FieldPath, hostOnly = false): Cidr => {
    const parsed = typeof value === 'string' ? (hostOnly ? parseAddress(value) : parseCidr(value)) : null;
    if (!parsed) throw new Fail(source, field, `${JSON.stringify(value)} is not an address${hostOnly ? '' : ' or CIDR'}`);
    return parsed;
  };
  const ports = (key: string, fallback: number[]): number[] => {
    const items = list(key);
    if (items.length === 0) return fallback;
    return items.map(([value, field]) => {
      if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 65535) throw new Fail(source, field, `${JSON.stringify(value)} is not a port`);
      return value as number;
    });
  };

  for (const [value, field] of list('apiservers')) cluster.apiservers.add(cidr(value, field), true);
  cluster.apiserverPorts = ports('apiserverPorts', DEFAULT_APISERVER_PORTS);
  if (file.kubernetesServiceIP !== undefined) cluster.kubernetesServiceIP = cidr(file.kubernetesServiceIP, ['kubernetesServiceIP'], true);
  if (file.serviceCIDR !== undefined) cluster.services.add(cidr(file.serviceCIDR, ['serviceCIDR']), null);
  for (const [value, field] of list('podCIDRs')) cluster.pods.add(cidr(value, field), null);
  for (const [value, field] of list('nodes')) {
    if (!isRecord(value)) throw new Fail(source, field, 'expected {name, ip}');
    if (typeof value.name !== 'string' || value.name === '') throw new Fail(source, [...field, 'name'], 'expected a node name');
    cluster.nodes.add(cidr(value.ip, [...field, 'ip'], true), value.name);
  }
  for (const [value, field] of list('etcd')) cluster.etcd.add(cidr(value, field), true);
  cluster.kubeletPorts = ports('kubeletPorts', DEFAULT_KUBELET_PORTS);
  const pem = list('ca').map(([value, field]) => {
    if (typeof value !== 'string') throw new Fail(source, field, 'expected a file path');
    try {
      return readCa(value);
    } catch (error) {
      throw new Fail(source, field, `cannot read ${value} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  });
  if (pem.length > 0) {
    try {
      cluster.anchors = TrustAnchors.fromPem(pem.join('\n'));
    } catch (error) {
      throw new Fail(source, ['ca'], (error as Error).message);
    }
  }
  return cluster;
}

/** The parts of a kubectl List kwire reads; other kinds of item are skipped. */
function readList(items: unknown[], source: Source): ClusterInfo {
  const cluster = emptyCluster(source.name);
  const address = (value: unknown, field: FieldPath): Cidr => {
    const parsed = typeof value === 'string' ? parseAddress(value) : null;
    if (!parsed) throw new Fail(source, field, `${JSON.stringify(value)} is not an address`);
    return parsed;
  };
  const record = (value: unknown): Record<string, unknown> => (isRecord(value) ? value : {});
  items.forEach((item, i) => {
    const { kind, metadata, spec, status } = record(item);
    const { name, namespace, labels } = record(metadata);
    const at = (...field: FieldPath): FieldPath => ['items', i, ...field];
    if (typeof name !== 'string') {
      if (kind === 'Node' || kind === 'Pod' || kind === 'Service') throw new Fail(source, at('metadata', 'name'), 'expected a name');
      return;
    }
    const qualified = `${typeof namespace === 'string' ? namespace : 'default'}/${name}`;
    if (kind === 'Node') {
      const addresses = record(status).addresses;
      (Array.isArray(addresses) ? addresses : []).forEach((entry, j) => {
        const { type, address: value } = record(entry);
        if (type === 'InternalIP' || type === 'ExternalIP') cluster.nodes.add(address(value, at('status', 'addresses', j, 'address')), name);
      });
    } else if (kind === 'Pod') {
      const { podIP, podIPs } = record(status);
      const ips: [unknown, FieldPath][] = Array.isArray(podIPs)
        ? podIPs.map((entry, j) => [record(entry).ip, at('status', 'podIPs', j, 'ip')])
        : podIP === undefined ? [] : [[podIP, at('status', 'podIP')]];
      const component = record(labels).component;
      // Static control-plane pods run on the host network: their address tells where the apiserver and etcd are.
      const set = component === 'kube-apiserver' ? cluster.apiservers : component === 'etcd' ? cluster.etcd : null;
      for (const [value, field] of ips) {
        if (set) set.add(address(value, field), true);
        if (record(spec).hostNetwork !== true) cluster.pods.add(address(value, field), qualified);
      }
    } else if (kind === 'Service') {
      const { clusterIP, clusterIPs } = record(spec);
      const ips: [unknown, FieldPath][] = Array.isArray(clusterIPs)
        ? clusterIPs.map((value, j) => [value, at('spec', 'clusterIPs', j)])
        : clusterIP === undefined ? [] : [[clusterIP, at('spec', 'clusterIP')]];
      for (const [value, field] of ips) {
        if (value === 'None' || value === '') continue; // headless
        const ip = address(value, field);
        cluster.services.add(ip, qualified);
        if (qualified === 'default/kubernetes') cluster.kubernetesServiceIP ??= ip;
      }
    }
  });
  return cluster;
}

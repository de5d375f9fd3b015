/**
 * A small cluster in network namespaces joined by a bridge (addresses in 198.18.0.0/15 only, RFC
 * 2544's benchmarking range; nothing is routed out): the control plane (the apiserver and, as a
 * second address, the `kubernetes` service VIP), etcd, node1, a pod, a service, an outside client
 * and an unrelated host. Every address is a /15 on its namespace's eth0, so all are on-link and
 * ARP finds secondary addresses too. tcpdump records on the bridge (promiscuous, so it sees the
 * frames forwarded between ports). Offloads are off on both ends of every veth: the frames are
 * what a NIC would send (MTU-sized, checksums filled in).
 */
import { execFileSync } from 'node:child_process';
import { alive } from '../processes.js';

export const ADDR = {
  apiserver: '198.18.1.10',
  kubernetesVip: '198.18.128.1',
  etcd: '198.18.1.5',
  node1: '198.18.1.21',
  node2: '198.18.1.22',
  pod: '198.18.64.10',
  service: '198.18.128.20',
  outside: '198.18.1.99',
  other: '198.18.2.80',
} as const;

export type Host = 'cp' | 'etcd' | 'node1' | 'pod' | 'svc' | 'outside' | 'other';

const HOSTS: Record<Host, string[]> = {
  cp: [ADDR.apiserver, ADDR.kubernetesVip],
  etcd: [ADDR.etcd],
  node1: [ADDR.node1],
  pod: [ADDR.pod],
  svc: [ADDR.service],
  outside: [ADDR.outside],
  other: [ADDR.other],
};

const PREFIX = 'kwsc';

export interface Topology {
  /** The namespace of the bridge, where tcpdump runs on `br0`. */
  bridgeNs: string;
  /** A command line that runs `cmd` in `host`'s namespace. */
  inHost(host: Host, cmd: string, args: string[]): [string, string[]];
  destroy(): void;
}

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: 'pipe', timeout: 30_000 }).toString();

export function createTopology(): Topology {
  const ns = (host: string) => `${PREFIX}${process.pid}-${host}`;
  // Namespaces of runs that died before cleaning up go first.
  for (const line of run('ip', ['netns', 'list']).split('\n')) {
    const stale = new RegExp(`^(${PREFIX}(\\d+)-\\S+)`).exec(line);
    if (stale && !alive(Number(stale[2]))) {
      try {
        run('ip', ['netns', 'del', stale[1]]);
      } catch {
        // already gone
      }
    }
  }
  const created: string[] = [];
  const destroy = () => {
    for (const name of created.splice(0).reverse()) {
      try {
        run('ip', ['netns', 'del', name]);
      } catch {
        // already gone
      }
    }
  };
  const addNs = (name: string) => {
    run('ip', ['netns', 'add', name]);
    created.push(name);
    run('ip', ['netns', 'exec', name, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  };
  const realFrames = (name: string, iface: string) => {
    run('ip', ['-n', name, 'link', 'set', iface, 'gso_max_segs', '1']);
    run('ip', ['netns', 'exec', name, 'ethtool', '-K', iface, 'tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off']);
  };
  try {
    const bridgeNs = ns('br');
    addNs(bridgeNs);
    run('ip', ['-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge']);
    run('ip', ['-n', bridgeNs, 'link', 'set', 'br0', 'up']);
    for (const [host, addresses] of Object.entries(HOSTS)) {
      const name = ns(host);
      addNs(name);
      run('ip', ['-n', bridgeNs, 'link', 'add', `p-${host}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name]);
      run('ip', ['-n', bridgeNs, 'link', 'set', `p-${host}`, 'master', 'br0', 'up']);
      realFrames(bridgeNs, `p-${host}`);
      realFrames(name, 'eth0');
      for (const address of addresses) run('ip', ['-n', name, 'addr', 'add', `${address}/15`, 'dev', 'eth0']);
      run('ip', ['-n', name, 'link', 'set', 'eth0', 'up']);
    }
    return { bridgeNs, destroy, inHost: (host, cmd, args) => ['ip', ['netns', 'exec', ns(host), cmd, ...args]] };
  } catch (error) {
    destroy();
    throw error;
  }
}

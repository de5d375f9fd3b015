// Network namespaces for the benchmark traffic: one namespace per host, each with an `eth0` veth
// whose peer sits on a bridge in its own namespace. Nothing is routed out of these namespaces.
// Namespace names carry our pid ("kwb<pid>-<host>") so stale ones from a killed run can be found.
import { runSync, hasCommand } from './proc.mjs';

const PREFIX = 'kwb';

function ip(...args) {
  return runSync('ip', args);
}

function listNamespaces() {
  return runSync('ip', ['netns', 'list'], { allowFail: true })
    .split('\n').map((line) => line.split(' ')[0]).filter(Boolean);
}

function alive(pid) {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** Deletes namespaces left by earlier runs of this script whose process is gone. */
export function removeStaleNamespaces() {
  for (const name of listNamespaces()) {
    const match = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
    if (match && !alive(Number(match[1]))) runSync('ip', ['netns', 'del', name], { allowFail: true });
  }
}

/**
 * Builds the topology. `hosts` maps a host name to its addresses (CIDR). Returns the namespace
 * name of each host and a synchronous `destroy` that is safe to call more than once.
 */
export function createTopology(hosts) {
  const created = [];
  const nsName = (host) => `${PREFIX}${process.pid}-${host}`;
  const destroy = () => {
    for (const name of created.splice(0).reverse()) runSync('ip', ['netns', 'del', name], { allowFail: true });
  };
  // Without ethtool the kernel leaves checksums to "hardware" (wrong in the capture) but still
  // segments to the MTU because gso_max_segs is 1.
  const ethtool = hasCommand('ethtool');
  const addNamespace = (name) => {
    ip('netns', 'add', name);
    created.push(name);
    // No IPv6: keeps router solicitations and MLD reports out of the capture.
    runSync('ip', ['netns', 'exec', name, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    ip('-n', name, 'link', 'set', 'lo', 'up');
  };
  // Frames as a NIC without offloads would put them on the wire: MTU-sized, checksums filled in.
  const realFrames = (name, iface) => {
    ip('-n', name, 'link', 'set', iface, 'gso_max_segs', '1');
    if (ethtool) runSync('ip', ['netns', 'exec', name, 'ethtool', '-K', iface, 'tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off']);
  };
  try {
    const bridgeNs = nsName('br');
    addNamespace(bridgeNs);
    ip('-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', bridgeNs, 'link', 'set', 'br0', 'up');
    const namespaces = {};
    for (const [host, addresses] of Object.entries(hosts)) {
      const name = nsName(host);
      addNamespace(name);
      ip('-n', bridgeNs, 'link', 'add', `p-${host}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name);
      ip('-n', bridgeNs, 'link', 'set', `p-${host}`, 'master', 'br0', 'up');
      realFrames(bridgeNs, `p-${host}`);
      realFrames(name, 'eth0');
      for (const address of addresses) ip('-n', name, 'addr', 'add', address, 'dev', 'eth0');
      ip('-n', name, 'link', 'set', 'eth0', 'up');
      namespaces[host] = name;
    }
    return { namespaces, destroy, checksumsFilled: ethtool };
  } catch (error) {
    destroy();
    throw error;
  }
}

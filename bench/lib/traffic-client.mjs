// The Node clients of the benchmark traffic, run inside a client namespace. Speaks HTTP/1.1 by
// hand over net/tls sockets so that each connection's request count, keep-alive, TLS version,
// client certificate and session resumption are exactly what the plan says.
// Usage: node traffic-client.mjs CONFIG_JSON   (prints one JSON line of counts at the end)
import net from 'node:net';
import tls from 'node:tls';
import { createWriteStream, readFileSync } from 'node:fs';
import { pool } from './proc.mjs';

const config = JSON.parse(process.argv[2]);
const SOCKET_IDLE_MS = 15_000;
const ca = readFileSync(config.ca);
const clientKey = readFileSync(config.clientCert.key);
const clientCert = readFileSync(config.clientCert.cert);
const keylog = createWriteStream(config.keylog, { flags: 'a' });
const stats = { connections: 0, tlsConnections: 0, resumed: 0, clientCertificates: 0, requests: 0, failures: 0, bulkBytes: 0 };

// What each kind of peer asks for; chosen by index so every run sends the same sequence.
const REQUESTS = {
  apiserver: [
    ['GET', '/api/v1/namespaces/kube-system/pods?limit=500'],
    ['PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/kw-node-1?timeout=10s'],
    ['GET', '/api/v1/nodes/kw-node-1?resourceVersion=0&timeout=10s'],
    ['POST', '/api/v1/namespaces/default/events'],
    ['GET', '/version'],
  ],
  kubelet: [
    ['GET', '/healthz'],
    ['GET', '/pods'],
    ['GET', '/containerLogs/kube-system/coredns-5d78c9869d-x2x7q/coredns?tailLines=100'],
    ['GET', '/stats/summary'],
    ['GET', '/metrics/resource'],
  ],
  webhook: [
    ['POST', '/validate-pods?timeout=10s'],
    ['POST', '/mutate-deployments?timeout=10s'],
  ],
  insecure: [
    ['GET', '/healthz'],
    ['GET', '/metrics'],
    ['GET', '/api/v1/namespaces/default/configmaps'],
    ['GET', '/readyz?verbose'],
  ],
};

function requestText(job, index, close) {
  const [method, path] = REQUESTS[job.peer][index % REQUESTS[job.peer].length];
  const size = 200 + ((index * 7919) % 4000);
  const target = `${path}${path.includes('?') ? '&' : '?'}size=${size}`;
  const body = method === 'GET' ? '' : JSON.stringify({ kind: 'Event', apiVersion: 'v1', metadata: { name: `bench.${index}`, namespace: 'default' }, message: 'x'.repeat(index % 500) });
  const lines = [
    `${method} ${target} HTTP/1.1`,
    `Host: ${job.servername ?? job.host}:${job.port}`,
    `User-Agent: ${job.userAgent}`,
    'Accept: application/json, */*',
  ];
  if (body) lines.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`);
  if (close) lines.push('Connection: close');
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** Reads one Content-Length-framed response at a time; discards bodies, counting their bytes. */
class ResponseReader {
  constructor(socket) {
    this.header = '';
    this.bodyLeft = -1;
    this.bodyBytes = 0;
    this.waiter = null;
    socket.on('data', (chunk) => this.feed(chunk));
  }

  next() {
    return new Promise((resolve) => { this.waiter = resolve; });
  }

  feed(chunk) {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.bodyLeft < 0) {
        // Headers are small; decode them as latin1 text.
        const text = chunk.toString('latin1', offset);
        const end = (this.header + text).indexOf('\r\n\r\n');
        if (end < 0) { this.header += text; return; }
        const consumed = end + 4 - this.header.length;
        const match = /content-length:\s*(\d+)/i.exec(this.header + text.slice(0, consumed));
        this.bodyLeft = match ? Number(match[1]) : 0;
        this.header = '';
        offset += consumed;
      }
      const take = Math.min(this.bodyLeft, chunk.length - offset);
      this.bodyLeft -= take;
      this.bodyBytes += take;
      offset += take;
      if (this.bodyLeft === 0) {
        this.bodyLeft = -1;
        const waiter = this.waiter;
        this.waiter = null;
        waiter?.(this.bodyBytes);
        this.bodyBytes = 0;
      }
    }
  }
}

function connect(job, session) {
  return new Promise((resolve, reject) => {
    const options = { host: job.host, port: job.port };
    const socket = job.tls
      ? tls.connect({
        ...options, ca, servername: job.servername, session,
        minVersion: job.tls, maxVersion: job.tls,
        ...(job.clientCert ? { key: clientKey, cert: clientCert } : {}),
      })
      : net.connect(options);
    socket.setTimeout(SOCKET_IDLE_MS, () => socket.destroy(new Error('idle timeout')));
    socket.once('error', reject);
    if (job.tls) {
      socket.on('keylog', (line) => keylog.write(line));
      // For TLS 1.2 the session may be announced before 'secureConnect', so listen from the start.
      socket.on('session', (value) => { socket.latestSession = value; });
    }
    socket.once(job.tls ? 'secureConnect' : 'connect', () => resolve(socket));
  });
}

/** One connection: `requests` requests on keep-alive; returns the TLS session for resumption. */
async function connection(job, firstIndex, requests, session) {
  let socket;
  try {
    socket = await connect(job, session);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    stats.connections++;
    if (job.tls) {
      stats.tlsConnections++;
      if (socket.isSessionReused()) stats.resumed++;
      else if (job.clientCert) stats.clientCertificates++;
    }
    const reader = new ResponseReader(socket);
    // Half the connections end with "Connection: close" (server closes first), half with our FIN.
    const serverCloses = (firstIndex % 2) === 0;
    for (let i = 0; i < requests; i++) {
      const last = i === requests - 1;
      const response = reader.next();
      socket.write(job.bulkBytes
        ? `GET /bulk?bytes=${job.bulkBytes} HTTP/1.1\r\nHost: ${job.host}:${job.port}\r\nUser-Agent: ${job.userAgent}\r\n\r\n`
        : requestText(job, firstIndex + i, last && serverCloses));
      const bodyBytes = await response;
      stats.requests++;
      if (job.bulkBytes) stats.bulkBytes += bodyBytes;
    }
    if (!serverCloses || job.bulkBytes) socket.end();
    await closed;
    return socket.latestSession;
  } catch (error) {
    stats.failures++;
    if (stats.failures <= 5) process.stderr.write(`${job.name} #${firstIndex}: ${error.message}\n`);
    socket?.destroy();
    return undefined;
  }
}

async function probe(job) {
  try {
    const socket = await connect(job);
    stats.connections++;
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.resume();
    socket.end();
    await closed;
  } catch (error) {
    stats.failures++;
    if (stats.failures <= 5) process.stderr.write(`${job.name}: ${error.message}\n`);
  }
}

// A task is the unit the pool runs: one connection, or a full handshake followed by its resumption.
function tasksOf(job) {
  const tasks = [];
  if (job.kind === 'probe') {
    for (let i = 0; i < job.count; i++) tasks.push(() => probe(job));
    return tasks;
  }
  const requestsFor = (i) => job.requestsPerConnection ?? ((i % job.maxRequests) + 1);
  let index = 0;
  for (let i = 0; i < job.count; i++) {
    const first = index;
    index += requestsFor(i);
    if (job.resume && i + 1 < job.count) {
      const second = index;
      index += requestsFor(i + 1);
      i++;
      tasks.push(async () => {
        const session = await connection(job, first, requestsFor(i - 1));
        await connection(job, second, requestsFor(i), session);
      });
    } else {
      tasks.push(() => connection(job, first, requestsFor(i)));
    }
  }
  return tasks;
}

// Round-robin over the jobs so that the kinds of traffic are interleaved in time.
function interleave(lists) {
  const out = [];
  const longest = Math.max(0, ...lists.map((list) => list.length));
  for (let i = 0; i < longest; i++) for (const list of lists) if (i < list.length) out.push(list[i]);
  return out;
}

const bulkJobs = config.jobs.filter((job) => job.bulkBytes);
const tasks = interleave(config.jobs.filter((job) => !job.bulkBytes).map(tasksOf));
await Promise.all([
  ...bulkJobs.map((job) => connection(job, 0, 1)),
  pool(tasks.length, config.concurrency, (i) => tasks[i]()),
]);
await new Promise((resolve) => keylog.end(resolve));
process.stdout.write(JSON.stringify(stats) + '\n');

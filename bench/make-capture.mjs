#!/usr/bin/env node
// Builds a benchmark capture from real traffic between network namespaces (198.18.0.0/24 only):
// Node TLS/HTTP servers shaped like an apiserver, a webhook and a kubelet, driven by Node clients,
// curl and openssl s_client from two client namespaces, recorded by tcpdump on the server's
// interface. Also writes an NSS key log next to the capture so TLS payloads can be checked.
//
//   node bench/make-capture.mjs [--scale 1] [--out bench/out/bench.pcap] [--timeout 900]
//   node bench/make-capture.mjs --sample        (the committed captures/sample-tls-http.pcap)
import { mkdtempSync, rmSync, copyFileSync, mkdirSync, existsSync, statSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { start, run, runSync, waitForLine, waitExit, killAll, pool, hasCommand } from './lib/proc.mjs';
import { createTopology, removeStaleNamespaces } from './lib/netns.mjs';
import { makePki } from './lib/pki.mjs';
import { countCaptureCached } from './count-capture.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const APISERVER_IP = '198.18.0.1';
const KUBELET_IP = '198.18.0.2';
const CLIENT_IPS = { cli1: '198.18.0.11', cli2: '198.18.0.12' };
const CLIENT_CONCURRENCY = 6;
const TOOL_CONCURRENCY = 2;
const TOOL_RUN_MS = 15_000;

const { values: options } = parseArgs({
  options: {
    scale: { type: 'string', default: '1' },
    out: { type: 'string' },
    timeout: { type: 'string', default: '900' },
    sample: { type: 'boolean', default: false },
  },
});
const scale = Number(options.scale);
if (!(scale > 0 && scale <= 4)) throw new Error(`--scale must be in (0, 4], got ${options.scale}`);
const out = resolve(options.out ?? (options.sample ? join(HERE, '..', 'captures', 'sample-tls-http.pcap') : join(HERE, 'out', 'bench.pcap')));
const keylogOut = out.replace(/\.pcap$/, '') + '.keys';

// Node-client jobs at scale 1 (counts are connections). With curl and s_client below this makes
// 7,700 TCP connections, 5,400 TLS handshakes (2,000 resumed, 1,200+ with a client certificate)
// and about 10,000 HTTP requests; the four bulk transfers make up most of the bytes.
function scaledPlan(factor) {
  const n = (count) => Math.max(1, Math.round(count * factor));
  return {
    jobs: [
      { name: 'apiserver-mtls-1.2', peer: 'apiserver', host: APISERVER_IP, port: 6443, servername: 'kubernetes', tls: 'TLSv1.2', clientCert: true, count: n(600), requestsPerConnection: 2, userAgent: 'kubelet/v1.30.2 (linux/amd64) kubernetes/3968350' },
      { name: 'apiserver-mtls-1.3', peer: 'apiserver', host: APISERVER_IP, port: 6443, servername: 'kubernetes', tls: 'TLSv1.3', clientCert: true, count: n(600), requestsPerConnection: 2, userAgent: 'kube-proxy/v1.30.2 (linux/amd64) kubernetes/3968350' },
      { name: 'kubelet-1.2', peer: 'kubelet', host: KUBELET_IP, port: 10250, tls: 'TLSv1.2', count: n(2000), requestsPerConnection: 1, resume: true, userAgent: 'kube-apiserver/v1.30.2 (linux/amd64) kubernetes/3968350' },
      { name: 'webhook-1.3', peer: 'webhook', host: APISERVER_IP, port: 8443, servername: 'kubernetes.default.svc', tls: 'TLSv1.3', count: n(1998), requestsPerConnection: 1, resume: true, userAgent: 'kube-apiserver-admission' },
      { name: 'insecure-http', peer: 'insecure', host: APISERVER_IP, port: 8080, count: n(1070), maxRequests: 5, userAgent: 'Prometheus/2.51.0' },
      { name: 'probe', kind: 'probe', host: KUBELET_IP, port: 10256, count: n(1128) },
    ],
    bulk: { connections: 4, bytesEach: Math.round(104e6 * factor) },
    curlTls: n(100),
    curlPlain: n(100),
    sClient: n(100),
  };
}

// The committed sample: a handful of connections of each kind, no bulk.
function samplePlan() {
  const plan = scaledPlan(0);
  const only = { 'apiserver-mtls-1.2': 1, 'apiserver-mtls-1.3': 1, 'kubelet-1.2': 2, 'webhook-1.3': 2, 'insecure-http': 2, probe: 1 };
  plan.jobs = plan.jobs.map((job) => ({ ...job, count: only[job.name] }));
  plan.jobs.find((job) => job.name === 'insecure-http').requestsPerConnection = 3;
  return { ...plan, bulk: { connections: 0, bytesEach: 0 }, curlTls: 2, curlPlain: 1, sClient: 2 };
}

/** Splits a job between the two clients; resumption pairs stay on one client. */
function split(job) {
  const unit = job.resume ? 2 : 1;
  const units = Math.floor(job.count / unit);
  const first = Math.ceil(units / 2) * unit + (job.count % unit);
  return [{ ...job, count: first }, { ...job, count: job.count - first }];
}

function bulkJobs(bulk) {
  const kinds = [
    { host: APISERVER_IP, port: 8080 },
    { host: APISERVER_IP, port: 6443, servername: 'kubernetes', tls: 'TLSv1.3', clientCert: true },
    { host: APISERVER_IP, port: 8080 },
    { host: APISERVER_IP, port: 6443, servername: 'kubernetes', tls: 'TLSv1.2', clientCert: true },
  ];
  return Array.from({ length: bulk.connections }, (_, i) => ({
    name: `bulk-${i}`, peer: 'apiserver', ...kinds[i % kinds.length], bulkBytes: bulk.bytesEach, userAgent: 'etcdctl-snapshot/3.5',
  }));
}

// curl and openssl s_client give the capture other TLS stacks' ClientHellos (other extensions,
// cipher orders, ALPN) and curl's own keep-alive.
function curlArgs(i, files) {
  const common = ['-sS', '--http1.1', '--max-time', '10', '--cacert', files.ca];
  const withCert = ['--cert', files.cert, '--key', files.key, '--resolve', `kubernetes:6443:${APISERVER_IP}`];
  const variants = [
    ['--tlsv1.3', '-o', '/dev/null', `https://${APISERVER_IP}:8443/validate-pods?size=900`, '-X', 'POST', '-H', 'Content-Type: application/json', '-d', '{"kind":"AdmissionReview"}'],
    ['--tlsv1.2', '--tls-max', '1.2', '-o', '/dev/null', `https://${KUBELET_IP}:10250/healthz`],
    ['--tlsv1.3', ...withCert, '-o', '/dev/null', 'https://kubernetes:6443/api/v1/namespaces?size=1500'],
    ['--tlsv1.2', '--tls-max', '1.2', ...withCert, '-o', '/dev/null', 'https://kubernetes:6443/version'],
  ];
  return [...common, ...variants[i % variants.length]];
}

function sClientRun(i, files) {
  const variants = [
    { args: ['-connect', `${APISERVER_IP}:8443`, '-tls1_3', '-servername', 'kubernetes.default.svc'], host: 'kubernetes.default.svc:8443', path: '/validate-pods?size=700' },
    { args: ['-connect', `${KUBELET_IP}:10250`, '-tls1_2'], host: `${KUBELET_IP}:10250`, path: '/pods?size=2500' },
    { args: ['-connect', `${APISERVER_IP}:6443`, '-tls1_2', '-servername', 'kubernetes', '-cert', files.cert, '-key', files.key], host: 'kubernetes:6443', path: '/api?size=400' },
  ];
  const { args, host, path } = variants[i % variants.length];
  return {
    args: ['s_client', '-quiet', '-verify_return_error', '-CAfile', files.ca, '-keylogfile', files.keylog, ...args],
    input: `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: openssl-s_client\r\nConnection: close\r\n\r\n`,
  };
}

async function runTools(plan, namespaces, pki, keylog) {
  const clientFiles = [
    { ns: namespaces.cli1, ca: pki.ca.cert, cert: pki.nodeClient.cert, key: pki.nodeClient.key, keylog },
    { ns: namespaces.cli2, ca: pki.ca.cert, cert: pki.adminClient.cert, key: pki.adminClient.key, keylog },
  ];
  const env = { ...process.env, SSLKEYLOGFILE: keylog };
  const counts = { runs: 0, failures: 0 };
  const tally = (result) => {
    counts.runs++;
    if (result.code !== 0) {
      counts.failures++;
      if (counts.failures <= 5) process.stderr.write(`tool run failed (${result.code}): ${result.stderr.trim().slice(-300)}\n`);
    }
  };
  const total = plan.curlTls + plan.curlPlain + plan.sClient;
  await pool(total, TOOL_CONCURRENCY, async (i) => {
    const files = clientFiles[i % 2];
    if (i < plan.curlTls) {
      tally(await run('ip', ['netns', 'exec', files.ns, 'curl', ...curlArgs(i, files)], { timeoutMs: TOOL_RUN_MS, env, quiet: true }));
    } else if (i < plan.curlTls + plan.curlPlain) {
      // Two URLs in one curl run: two requests on one keep-alive connection.
      const base = `http://${APISERVER_IP}:8080`;
      tally(await run('ip', ['netns', 'exec', files.ns, 'curl', '-sS', '--http1.1', '--max-time', '10', '-o', '/dev/null', '-o', '/dev/null',
        `${base}/healthz?size=200`, `${base}/api/v1/pods?size=3000`], { timeoutMs: TOOL_RUN_MS, quiet: true }));
    } else {
      const { args, input } = sClientRun(i, files);
      tally(await run('ip', ['netns', 'exec', files.ns, 'openssl', ...args], { timeoutMs: TOOL_RUN_MS, input, quiet: true }));
    }
  });
  return counts;
}

function checkTools() {
  const missing = ['ip', 'tcpdump', 'openssl', 'curl'].filter((name) => !hasCommand(name));
  if (missing.length) throw new Error(`missing tools: ${missing.join(', ')}`);
  if (process.getuid?.() !== 0) throw new Error('network namespaces need root');
}

async function main() {
  checkTools();
  mkdirSync(dirname(out), { recursive: true });
  const freeBytes = statfsSync(dirname(out)).bavail * statfsSync(dirname(out)).bsize;
  const plan = options.sample ? samplePlan() : scaledPlan(scale);
  const expectedBytes = plan.bulk.connections * plan.bulk.bytesEach * 1.1 + 100e6 * scale;
  if (freeBytes < 2 * expectedBytes) throw new Error(`not enough disk space under ${dirname(out)}`);

  removeStaleNamespaces();
  const temp = mkdtempSync(join(tmpdir(), 'kwire-bench-'));
  let topology;
  process.on('exit', () => {
    killAll();
    topology?.destroy();
    rmSync(temp, { recursive: true, force: true });
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

  const keylog = join(temp, 'tls.keys');
  const pki = makePki(temp, { apiserverIp: APISERVER_IP, kubeletIp: KUBELET_IP });
  topology = createTopology({
    srv: [`${APISERVER_IP}/24`, `${KUBELET_IP}/24`],
    cli1: [`${CLIENT_IPS.cli1}/24`],
    cli2: [`${CLIENT_IPS.cli2}/24`],
  });
  const { namespaces } = topology;
  if (!topology.checksumsFilled) console.warn('ethtool not found: TCP checksums of the capture are left to "offload" (wrong)');

  const server = start('ip', ['netns', 'exec', namespaces.srv, process.execPath, join(HERE, 'lib', 'traffic-server.mjs'),
    JSON.stringify({ pki, apiserverIp: APISERVER_IP, kubeletIp: KUBELET_IP })]);
  server.stderr.pipe(process.stderr);
  await waitForLine(server, server.stdout, /ready/, 20_000);

  rmSync(out, { force: true });
  // -U: write each packet as it comes; --immediate-mode: else what is still in the kernel's ring
  // when tcpdump stops is lost; -B: a large kernel buffer so bursts are not dropped;
  // -Z root: keep the right to write `out` (tcpdump drops privileges otherwise).
  const tcpdump = start('ip', ['netns', 'exec', namespaces.srv, 'tcpdump', '-i', 'eth0', '--immediate-mode', '-U', '-s', '0', '-B', '131072', '-Z', 'root', '-w', out]);
  await waitForLine(tcpdump, tcpdump.stderr, /listening on/, 20_000);
  let tcpdumpLog = '';
  tcpdump.stderr.on('data', (chunk) => { tcpdumpLog += chunk; });

  const started = Date.now();
  const clients = ['cli1', 'cli2'].map((host, index) => {
    const certs = index === 0 ? pki.nodeClient : pki.adminClient;
    const jobs = [...plan.jobs.map((job) => split(job)[index]), ...bulkJobs(plan.bulk).filter((_, i) => i % 2 === index)]
      .filter((job) => job.count !== 0);
    const client = start('ip', ['netns', 'exec', namespaces[host], process.execPath, join(HERE, 'lib', 'traffic-client.mjs'),
      JSON.stringify({ ca: pki.ca.cert, clientCert: certs, keylog, concurrency: CLIENT_CONCURRENCY, jobs })]);
    client.stderr.pipe(process.stderr);
    let output = '';
    client.stdout.on('data', (chunk) => { output += chunk; });
    return waitExit(client, Number(options.timeout) * 1000).then((code) => {
      if (code !== 0) throw new Error(`client in ${host} exited with ${code}`);
      return JSON.parse(output);
    });
  });
  const [tools, ...clientStats] = await Promise.all([runTools(plan, namespaces, pki, keylog), ...clients]);
  const seconds = (Date.now() - started) / 1000;

  // Let the last FIN/ACKs reach the wire, then stop tcpdump so it flushes and prints its counts.
  await new Promise((done) => setTimeout(done, 1000));
  tcpdump.kill('SIGINT');
  await waitExit(tcpdump, 30_000);
  server.kill('SIGTERM');
  await waitExit(server, 10_000);
  topology.destroy();
  if (existsSync(keylog)) copyFileSync(keylog, keylogOut);

  const totals = {};
  for (const stats of clientStats) for (const [key, value] of Object.entries(stats)) totals[key] = (totals[key] ?? 0) + value;
  console.log(`traffic: ${seconds.toFixed(1)} s; node clients ${JSON.stringify(totals)}; curl/s_client runs ${tools.runs} (failed ${tools.failures})`);
  console.log(tcpdumpLog.split('\n').filter((line) => /packets/.test(line)).map((line) => `tcpdump: ${line}`).join('\n'));
  console.log(`capture: ${out} (${(statSync(out).size / 1e6).toFixed(1)} MB), key log: ${keylogOut}`);
  console.log(hasCommand('capinfos')
    ? runSync('capinfos', ['-c', '-s', '-d', '-u', '-y', '-x', out])
    : runSync('tshark', ['-r', out, '-q', '-z', 'conv,tcp']).split('\n').slice(-8).join('\n'));
  if (hasCommand('tshark')) console.log(`as tshark reads it: ${JSON.stringify(await countCaptureCached(out, keylogOut))}`);
  if (totals.failures || tools.failures) process.exitCode = 1;
}

const timeout = setTimeout(() => {
  console.error(`make-capture: overall timeout of ${options.timeout} s; stopping everything`);
  process.exit(1);
}, Number(options.timeout) * 1000);
main().then(() => clearTimeout(timeout), (error) => {
  console.error(`make-capture: ${error.message}`);
  process.exit(1);
});

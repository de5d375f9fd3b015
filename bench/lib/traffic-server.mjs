// The servers of the benchmark traffic, run inside the server namespace:
//   apiserver  APISERVER_IP:6443  HTTPS, TLS 1.2 and 1.3, client certificate required
//   insecure   APISERVER_IP:8080  plain HTTP/1.1 keep-alive
//   webhook    APISERVER_IP:8443  HTTPS, TLS 1.3 only
//   kubelet    KUBELET_IP:10250   HTTPS, TLS 1.2 only (session tickets give resumption)
//   probe      KUBELET_IP:10256   TCP accept-and-close, like a tcpSocket liveness probe target
// Every HTTP server also answers /bulk?bytes=N with N deterministic, incompressible bytes.
// Usage: node traffic-server.mjs CONFIG_JSON   (prints "ready" once all listen)
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { readFileSync } from 'node:fs';

const config = JSON.parse(process.argv[2]);
const read = (path) => readFileSync(path);

// 1 MiB of xorshift output: looks random to any compressor, identical on every run.
const BULK_BLOCK = (() => {
  const block = Buffer.alloc(1 << 20);
  let x = 0x2545f491;
  for (let i = 0; i < block.length; i += 4) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    block.writeUInt32LE(x >>> 0, i);
  }
  return block;
})();

function sendBulk(res, total) {
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': total });
  let sent = 0;
  const pump = () => {
    while (sent < total) {
      const size = Math.min(64 * 1024, total - sent);
      const offset = sent % BULK_BLOCK.length;
      const chunk = BULK_BLOCK.subarray(offset, Math.min(offset + size, BULK_BLOCK.length));
      sent += chunk.length;
      if (!res.write(chunk)) { res.once('drain', pump); return; }
    }
    res.end();
  };
  pump();
}

// A Kubernetes-looking JSON body padded to the size the client asked for, so response sizes vary.
function apiBody(path, size) {
  const head = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { path } };
  const text = JSON.stringify({ ...head, padding: '' });
  return JSON.stringify({ ...head, padding: 'x'.repeat(Math.max(0, size - text.length)) });
}

function handle(req, res) {
  const url = new URL(req.url, 'http://bench');
  req.resume();
  req.on('end', () => {
    if (url.pathname === '/bulk') {
      sendBulk(res, Number(url.searchParams.get('bytes') ?? 0));
      return;
    }
    const body = apiBody(url.pathname, Number(url.searchParams.get('size') ?? 256));
    res.writeHead(req.method === 'POST' ? 201 : 200, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      'Audit-Id': `bench-${url.pathname.length}-${body.length}`,
    });
    res.end(body);
  });
}

const { pki, apiserverIp, kubeletIp } = config;
const servers = [
  [https.createServer({ key: read(pki.apiserver.key), cert: read(pki.apiserver.cert), ca: read(pki.ca.cert),
    requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' }, handle), 6443, apiserverIp],
  [http.createServer({ keepAliveTimeout: 30_000 }, handle), 8080, apiserverIp],
  [https.createServer({ key: read(pki.apiserver.key), cert: read(pki.apiserver.cert), minVersion: 'TLSv1.3' }, handle), 8443, apiserverIp],
  [https.createServer({ key: read(pki.kubelet.key), cert: read(pki.kubelet.cert), minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' }, handle), 10250, kubeletIp],
  [net.createServer((socket) => {
    socket.on('error', () => {});
    socket.on('end', () => socket.end());
    socket.resume();
  }), 10256, kubeletIp],
];

await Promise.all(servers.map(([server, port, host]) => new Promise((resolve, reject) => {
  server.on('error', reject);
  server.listen(port, host, resolve);
})));
for (const [server] of servers) {
  server.on('tlsClientError', () => {});
  server.on('clientError', (_error, socket) => socket.destroy());
}
process.stdout.write('ready\n');
process.on('SIGTERM', () => process.exit(0));

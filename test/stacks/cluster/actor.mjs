// A Kubernetes endpoint or client made of node:http/node:https, for the scenario captures
// (test/stacks/cluster/scenarios.ts). Run inside a network namespace:
//   node actor.mjs server '{"host","port","tls"?:{cert,key,ca?,requestCert?,rejectUnauthorized?,minVersion?,maxVersion?,ciphers?,alpn?}}'
//     answers as an apiserver, a kubelet or a pod would: GET /pods 200 (a PodList), /containerLogs/… 200,
//     /metrics 200, any other GET 200 JSON, POST 201; an `Upgrade: SPDY/3.1` (exec, attach,
//     port-forward) 101 with X-Stream-Protocol-Version, then a SPDY SYN_REPLY frame. Prints "ready".
//   node actor.mjs client '{"url","method"?,"headers"?,"body"?,"tls"?:{ca?,cert?,key?,servername?,verify?,minVersion?,maxVersion?,ciphers?},"upgrade"?:bool}'
//     one request, then exit. Exits 0 whatever the server did: rejections are scenarios too.
// Every run is bounded: a server exits after 60 s, a client after 10 s.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

const [mode, json] = process.argv.slice(2);
const o = JSON.parse(json);
const read = (file) => (file ? readFileSync(file) : undefined);

const POD_LIST = JSON.stringify({
  kind: 'PodList', apiVersion: 'v1', metadata: {},
  items: [{ metadata: { name: 'web', namespace: 'default', uid: '5f1c0b5e-8a52-4cfb-9d43-3c1c3d0f2a11' },
    spec: { nodeName: 'node1', containers: [{ name: 'nginx', image: 'nginx:1.27' }] }, status: { phase: 'Running', podIP: '198.18.64.10' } }],
});

// A SPDY/3 control frame header (version 3): SYN_STREAM (type 1) or SYN_REPLY (type 2), and a
// stream id; the compressed header block is left empty (length 4 = the stream id alone for SYN_REPLY).
function spdyFrame(type, streamId) {
  const body = type === 1 ? Buffer.alloc(10) : Buffer.alloc(4);
  body.writeUInt32BE(streamId, 0);
  const head = Buffer.from([0x80, 0x03, 0x00, type, 0x00, 0x00, 0x00, body.length]);
  return Buffer.concat([head, body]);
}

if (mode === 'server') {
  const handler = (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '/';
      let status = 200;
      let type = 'application/json';
      let body = '{"kind":"Status","apiVersion":"v1","status":"Success"}';
      if (url.startsWith('/pods') || url.startsWith('/api/v1/namespaces/default/pods')) body = POD_LIST;
      else if (url.startsWith('/containerLogs/')) { type = 'text/plain'; body = '2026/11/28 10:00:00 [notice] 1#1: nginx/1.27.0 started\n'; }
      else if (url.startsWith('/metrics')) { type = 'text/plain; version=0.0.4'; body = '# TYPE up gauge\nup 1\n'; }
      else if (url.startsWith('/version')) body = '{"major":"1","minor":"32","gitVersion":"v1.32.0"}';
      if (req.method === 'POST') status = 201;
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    });
  };
  const t = o.tls;
  const server = t
    ? https.createServer({
      cert: read(t.cert), key: read(t.key), ca: read(t.ca), requestCert: !!t.requestCert, rejectUnauthorized: !!t.rejectUnauthorized,
      minVersion: t.minVersion ?? 'TLSv1.2', maxVersion: t.maxVersion ?? 'TLSv1.3', ciphers: t.ciphers, ALPNProtocols: t.alpn,
      sessionTimeout: 0, ticketKeys: undefined,
    }, handler)
    : http.createServer(handler);
  server.keepAliveTimeout = 1000;
  server.on('tlsClientError', () => {});
  server.on('clientError', (_e, socket) => socket.destroy());
  server.on('upgrade', (req, socket) => {
    const proto = req.headers['x-stream-protocol-version']?.split(',')[0].trim() ?? 'v4.channel.k8s.io';
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${req.headers.upgrade}\r\nX-Stream-Protocol-Version: ${proto}\r\n\r\n`);
    socket.on('data', () => socket.write(spdyFrame(2, 1)));
    socket.on('error', () => {});
    socket.on('end', () => socket.end());
  });
  server.listen(o.port, o.host, () => console.log('ready'));
  setTimeout(() => process.exit(0), 60_000).unref();
  process.on('SIGTERM', () => { server.closeAllConnections?.(); server.close(() => process.exit(0)); setTimeout(() => process.exit(0), 1000).unref(); });
} else {
  setTimeout(() => process.exit(0), 10_000).unref();
  const url = new URL(o.url);
  const t = o.tls ?? {};
  const mod = url.protocol === 'https:' ? https : http;
  const headers = { ...(o.headers ?? {}) };
  if (o.body) headers['Content-Length'] = Buffer.byteLength(o.body);
  const req = mod.request(url, {
    method: o.method ?? 'GET', headers, agent: false,
    ca: read(t.ca), cert: read(t.cert), key: read(t.key), servername: t.servername, rejectUnauthorized: t.verify !== false,
    minVersion: t.minVersion, maxVersion: t.maxVersion, ciphers: t.ciphers, localAddress: o.localAddress,
  });
  req.on('error', () => process.exit(0));
  req.on('response', (res) => { res.on('data', () => {}); res.on('end', () => process.exit(0)); });
  req.on('upgrade', (_res, socket) => {
    // The client's SYN_STREAM (stream 1 = the error stream of exec), then the server's reply, then close.
    socket.write(spdyFrame(1, 1));
    socket.once('data', () => socket.end());
    socket.on('close', () => process.exit(0));
    socket.on('error', () => process.exit(0));
  });
  req.end(o.body);
}

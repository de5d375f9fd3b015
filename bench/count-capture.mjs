#!/usr/bin/env node
// Counts what a capture made by make-capture.mjs holds, as tshark reads it (one pass, with the key
// log so TLS 1.3 handshakes and HTTP inside TLS are visible): TCP connections, TLS handshakes by
// version, resumed handshakes, client certificates, HTTP requests.
//   node bench/count-capture.mjs FILE [--keys FILE.keys] [--json]
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { start } from './lib/proc.mjs';

// Decrypting a full-size capture takes tshark minutes, so results are kept per file (path, size, mtime).
const CACHE = join(dirname(fileURLToPath(import.meta.url)), 'out', 'count-cache.json');
const SERVER_IPS = new Set(['198.18.0.1', '198.18.0.2']);
const TLS_PORTS = [6443, 8443, 10250];
const FIELDS = ['tcp.stream', 'ip.src', 'tcp.flags.syn', 'tcp.flags.ack', 'tls.handshake.type', 'tls.handshake.extensions.supported_version', 'http.request.method'];

/** Resolves with the counts; `keys` defaults to FILE with .keys for .pcap when that exists. */
export function countCapture(file, keys = file.replace(/\.pcap$/, '') + '.keys') {
  const args = ['-r', file, '-n', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,',
    ...TLS_PORTS.flatMap((port) => ['-d', `tcp.port==${port},tls`, '-d', `tls.port==${port},http`]),
    ...(existsSync(keys) ? ['-o', `tls.keylog_file:${keys}`] : []),
    '-Y', '(tcp.flags.syn==1 && tcp.flags.ack==0) || tls.handshake.type || http.request',
    ...FIELDS.flatMap((field) => ['-e', field])];
  const counts = {
    tcpConnections: 0, tlsClientHellos: 0, tls12: 0, tls13: 0, resumed: 0,
    certificateRequests: 0, clientCertificates: 0, httpRequests: 0, httpRequestsInTls: 0,
  };
  const synStreams = new Set();
  const tlsStreams = new Set();
  const streamsWithServerCert = new Set();
  const serverHelloStreams = new Set();
  return new Promise((resolve, reject) => {
    // Tracked, so make-capture's timeout stops it too.
    const tshark = start('tshark', args, { stdio: ['ignore', 'pipe', 'ignore'] });
    tshark.on('error', reject);
    createInterface({ input: tshark.stdout }).on('line', (line) => {
      const [stream, source, syn, ack, types, versions, methods] = line.split('\t');
      const fromServer = SERVER_IPS.has(source);
      if (syn === '1' && ack === '0') synStreams.add(stream);
      for (const type of types ? types.split(',') : []) {
        if (type === '1') { counts.tlsClientHellos++; tlsStreams.add(stream); }
        if (type === '2' && fromServer) {
          serverHelloStreams.add(stream);
          if (versions.split(',').includes('0x0304')) counts.tls13++;
          else counts.tls12++;
        }
        if (type === '13') counts.certificateRequests++;
        if (type === '11' && fromServer) streamsWithServerCert.add(stream);
        if (type === '11' && !fromServer) counts.clientCertificates++;
      }
      if (methods) {
        const requests = methods.split(',').length;
        counts.httpRequests += requests;
        if (tlsStreams.has(stream)) counts.httpRequestsInTls += requests;
      }
    });
    tshark.on('close', (code) => {
      if (code !== 0) { reject(new Error(`tshark exited with ${code}`)); return; }
      counts.tcpConnections = synStreams.size;
      for (const stream of serverHelloStreams) if (!streamsWithServerCert.has(stream)) counts.resumed++;
      resolve(counts);
    });
  });
}

/** countCapture, remembered in bench/out/count-cache.json until the file changes. */
export async function countCaptureCached(file, keys) {
  const path = resolve(file);
  const { size, mtimeMs } = statSync(path);
  const cache = existsSync(CACHE) ? JSON.parse(readFileSync(CACHE, 'utf8')) : {};
  const hit = cache[path];
  if (hit && hit.size === size && hit.mtimeMs === mtimeMs) return hit.counts;
  const counts = await countCapture(path, keys);
  cache[path] = { size, mtimeMs, counts };
  mkdirSync(dirname(CACHE), { recursive: true });
  writeFileSync(CACHE, JSON.stringify(cache, null, 2) + '\n');
  return counts;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { keys: { type: 'string' }, json: { type: 'boolean', default: false } } });
  if (positionals.length !== 1) {
    console.error('usage: node bench/count-capture.mjs FILE [--keys FILE.keys] [--json]');
    process.exit(2);
  }
  const counts = await countCaptureCached(positionals[0], values.keys);
  if (values.json) console.log(JSON.stringify(counts));
  else for (const [name, value] of Object.entries(counts)) console.log(`${name.padEnd(20)} ${value}`);
}

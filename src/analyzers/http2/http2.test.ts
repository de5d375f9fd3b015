/**
 * HPACK against RFC 7541 Appendix C (its header blocks, decoded in sequence through one dynamic
 * table), and the HTTP/2 analyzer against a real stack: Node's http2 (nghttp2) in clear, relayed
 * through a recording proxy, its bytes fed to the analyzer whole and in random pieces.
 */
import http2 from 'node:http2';
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { recordingProxy, type RecordedChunk } from '../../../test/helpers/recording-proxy.js';
import { makeJwt } from '../http1/testing.js';
import { newHttpInfo } from '../http1/index.js';
import { HpackDecoder } from './hpack.js';
import { huffmanDecode } from './huffman.js';
import { Http2Analyzer } from './http2.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('HPACK (RFC 7541 Appendix C)', () => {
  it('C.3: requests without Huffman coding, one dynamic table across them', () => {
    const decoder = new HpackDecoder();
    expect(decoder.decode(hex('828684410f7777772e6578616d706c652e636f6d'))).toEqual([
      [':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'],
    ]);
    expect(decoder.decode(hex('828684be58086e6f2d6361636865'))).toEqual([
      [':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'], ['cache-control', 'no-cache'],
    ]);
    expect(decoder.decode(hex('828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565'))).toEqual([
      [':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value'],
    ]);
  });

  it('C.4: the same requests with Huffman coding', () => {
    const decoder = new HpackDecoder();
    expect(decoder.decode(hex('828684418cf1e3c2e5f23a6ba0ab90f4ff'))).toEqual([
      [':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'],
    ]);
    expect(decoder.decode(hex('828684be5886a8eb10649cbf'))?.[4]).toEqual(['cache-control', 'no-cache']);
    expect(decoder.decode(hex('828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf'))?.[4]).toEqual(['custom-key', 'custom-value']);
  });

  it('rejects what is not HPACK: a bad index, an EOS or over-long padding in a Huffman string', () => {
    expect(new HpackDecoder().decode(hex('ff7f'))).toBeNull(); // index 188: no such entry
    expect(huffmanDecode(hex('ffffffff'))).toBeNull(); // EOS
    expect(huffmanDecode(hex('1fff'))).toBeNull(); // 'a' then 11 bits of padding
    expect(huffmanDecode(hex('1f'))).toBe('a');
  });

  it('never throws on random blocks', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => void new HpackDecoder().decode(Buffer.from(bytes))));
  });
});

describe('Http2Analyzer on Node http2 (nghttp2)', () => {
  let chunks: RecordedChunk[] = [];
  let authority = '';
  const token = makeJwt({ iss: 'kubernetes/serviceaccount', sub: 'system:serviceaccount:default:reader', aud: ['https://kubernetes.default.svc'], exp: 2000000000 });

  beforeAll(async () => {
    const server = http2.createServer((req, res) => {
      res.writeHead(req.url?.startsWith('/exec') ? 403 : 200, { 'content-type': 'text/plain' });
      res.end('x'.repeat(100));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = await recordingProxy((server.address() as { port: number }).port);
    const session = http2.connect(`http://127.0.0.1:${proxy.port}`);
    const request = (headers: http2.OutgoingHttpHeaders) =>
      new Promise<void>((resolve) => {
        const stream = session.request(headers);
        stream.on('response', () => {});
        stream.resume();
        stream.on('close', () => resolve());
        stream.end();
      });
    // Three requests one after another: the dynamic table carries :authority and authorization over.
    await request({ ':path': '/api/v1/namespaces/default/pods/web/proxy/metrics', authorization: `Bearer ${token}` });
    await request({ ':path': '/exec/default/web/ctr?command=ls', authorization: `Bearer ${token}` });
    await request({ ':method': 'POST', ':path': '/apis/apps/v1/namespaces/kube-system/deployments' });
    session.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await proxy.close();
    server.close();
    chunks = proxy.connections[0];
    authority = `127.0.0.1:${proxy.port}`;
  });

  const run = (cut?: number) => {
    const info = newHttpInfo();
    const analyzer = new Http2Analyzer(info);
    chunks.forEach(({ dir, bytes }, k) => {
      for (let at = 0; at < bytes.length; at += cut ?? bytes.length) analyzer.onData(dir, Buffer.from(bytes.subarray(at, at + (cut ?? bytes.length))), 1000 + k, k + 1);
    });
    analyzer.onEnd('fin');
    return info;
  };

  it('decodes the requests, their credentials reduced and their Kubernetes shapes, and pairs the responses', () => {
    const info = run();
    expect(info.stopped).toBeNull();
    expect(info.version).toBe('2');
    expect(info.h2?.preface).toBe(true);
    expect(info.requests.map((r) => [r.method, r.host, r.target, r.status, r.auth, r.k8s?.kind ?? null])).toEqual([
      ['GET', authority, '/api/v1/namespaces/default/pods/web/proxy/metrics', 200, 'bearer', 'apiserver-proxy-pod'],
      ['GET', authority, '/exec/default/web/ctr?command=ls', 403, 'bearer', 'kubelet-exec'],
      ['POST', authority, '/apis/apps/v1/namespaces/kube-system/deployments', 200, 'none', 'apiserver-api'],
    ]);
    const credential = info.requests[1].credentials[0];
    expect(credential.kind).toBe('bearer-jwt');
    expect(credential.jwt?.sub).toBe('system:serviceaccount:default:reader');
    expect(JSON.stringify(info)).not.toContain(token);
    // Each request cites the packet that completed its HEADERS, the response its own.
    for (const r of info.requests) expect(r.responsePacket).toBeGreaterThan(r.packet);
  });

  it('reads the same whatever the chunking', () => {
    const whole = JSON.stringify(run());
    for (const cut of [1, 7, 100]) expect(JSON.stringify(run(cut))).toBe(whole);
  });
});

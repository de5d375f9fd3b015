import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Http1Analyzer, newHttpInfo } from './http1.js';
import { feed, makeJwt } from './testing.js';
import type { HttpInfo } from '../../model/protocol.js';

const prefix = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 12);

const saClaims = {
  iss: 'https://kubernetes.default.svc.cluster.local',
  sub: 'system:serviceaccount:default:web',
  aud: ['https://kubernetes.default.svc.cluster.local', 'k3s'],
  exp: 1735689600,
  iat: 1735686000,
  'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'web', uid: '5f0c…' } },
};
const saJwt = makeJwt(saClaims);
const cookieJwt = makeJwt({ iss: 'dex', sub: 'alice', aud: 'kubernetes', exp: 1 });
const bootstrap = '07401b.f395accd246ae52d';
const basic = Buffer.from('admin:s3cr3t-password').toString('base64');
const queryJwt = makeJwt({ iss: 'query', sub: 'q' });
const wsJwt = makeJwt({ iss: 'ws', sub: 'kubectl' });

function request(headers: string, target = '/api/v1/namespaces/default/pods'): HttpInfo {
  const info = newHttpInfo();
  feed(new Http1Analyzer(info), [[0, `GET ${target} HTTP/1.1\r\nHost: 10.96.0.1\r\n${headers}\r\n`]]);
  return info;
}

describe('credentials', () => {
  it('reduces a service-account JWT to its kind, hash prefix and claims', () => {
    const [req] = request(`Authorization: Bearer ${saJwt}\r\n`).requests;
    expect(req.auth).toBe('bearer');
    expect(req.credentials).toEqual([
      {
        kind: 'bearer-jwt',
        sha256Prefix: prefix(saJwt),
        jwt: { iss: saClaims.iss, sub: saClaims.sub, aud: saClaims.aud, exp: saClaims.exp },
        header: 'authorization',
      },
    ]);
  });

  it('turns a single aud string into an array', () => {
    const [req] = request(`Cookie: session=${cookieJwt}; theme=dark\r\n`).requests;
    expect(req.auth).toBe('none');
    expect(req.credentials).toEqual([
      { kind: 'bearer-jwt', sha256Prefix: prefix(cookieJwt), jwt: { iss: 'dex', sub: 'alice', aud: ['kubernetes'], exp: 1 }, header: 'cookie' },
    ]);
  });

  it('recognises Basic, other schemes, Proxy-Authorization and bootstrap tokens', () => {
    expect(request(`Authorization: Basic ${basic}\r\n`).requests[0]).toMatchObject({
      auth: 'basic',
      credentials: [{ kind: 'basic', sha256Prefix: prefix(basic), jwt: null, header: 'authorization' }],
    });
    expect(request('Authorization: Negotiate YIIabc\r\n').requests[0]).toMatchObject({ auth: 'other', credentials: [{ kind: 'other' }] });
    expect(request(`Authorization: Bearer ${bootstrap}\r\n`).requests[0]).toMatchObject({
      auth: 'bearer',
      credentials: [{ kind: 'bootstrap-token', sha256Prefix: prefix(bootstrap), jwt: null }],
    });
    expect(request(`Proxy-Authorization: Basic ${basic}\r\nX-Token: ${bootstrap}\r\n`).requests[0]).toMatchObject({
      auth: 'none',
      credentials: [
        { kind: 'basic', header: 'proxy-authorization' },
        { kind: 'bootstrap-token', header: 'x-token' },
      ],
    });
    expect(request('Authorization: Bearer opaque-token-123\r\n').requests[0].credentials[0].kind).toBe('bearer');
  });

  it("reads kubectl's WebSocket bearer protocol entry", () => {
    const entry = `base64url.bearer.authorization.k8s.io.${Buffer.from(wsJwt).toString('base64url')}`;
    const [req] = request(`Upgrade: websocket\r\nSec-WebSocket-Protocol: ${entry}, v5.channel.k8s.io\r\n`).requests;
    expect(req.auth).toBe('bearer');
    expect(req.streamProtocol).toBe('v5.channel.k8s.io');
    expect(req.credentials).toMatchObject([{ kind: 'bearer-jwt', sha256Prefix: prefix(wsJwt), jwt: { iss: 'ws' }, header: 'sec-websocket-protocol' }]);
  });

  it('redacts tokens in the kept target and X-Forwarded-Uri', () => {
    const [req] = request(
      `X-Forwarded-Uri: /api/v1/namespaces/a/services/b/proxy/?token=${bootstrap}\r\n`,
      `http://user:pw@backend/login?access_token=${queryJwt}`,
    ).requests;
    expect(req.target).toBe('http://[redacted]@backend/login?access_token=[redacted]');
    expect(req.k8s?.forwardedUri).toBe('/api/v1/namespaces/a/services/b/proxy/?token=[redacted]');
    expect(req.credentials.map((c) => `${c.header} ${c.kind}`).sort()).toEqual([
      ':target basic',
      ':target bearer-jwt',
      'x-forwarded-uri bootstrap-token',
    ]);
  });

  it('never stores a planted token, nor any of its base64 parts', () => {
    const entry = `base64url.bearer.authorization.k8s.io.${Buffer.from(wsJwt).toString('base64url')}`;
    const info = request(
      `Authorization: Bearer ${saJwt}\r\nProxy-Authorization: Basic ${basic}\r\nCookie: a=${cookieJwt}\r\n` +
        `X-Bootstrap: ${bootstrap}\r\nSec-WebSocket-Protocol: ${entry}\r\nX-Forwarded-Uri: /x?t=${bootstrap}\r\n`,
      `/api/v1/namespaces/default/pods?access_token=${queryJwt}`,
    );
    const json = JSON.stringify(info);
    expect(info.requests[0].credentials).toHaveLength(7);
    const secrets = [saJwt, cookieJwt, queryJwt, wsJwt].flatMap((t) => [t, ...t.split('.')]);
    secrets.push(basic, bootstrap, bootstrap.split('.')[1], entry.split('.').pop()!, 's3cr3t-password');
    for (const secret of secrets) expect(json).not.toContain(secret);
  });

  it('leaves ordinary headers alone', () => {
    const [req] = request('User-Agent: kubectl/v1.30.0 (linux/amd64) kubernetes/7c48c2b\r\nAccept: application/json\r\n').requests;
    expect(req).toMatchObject({ auth: 'none', credentials: [], host: '10.96.0.1' });
  });
});

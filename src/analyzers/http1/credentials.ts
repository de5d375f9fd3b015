/**
 * Credentials in HTTP headers, reduced at once to what SPEC.md §4 allows: kind, a SHA-256 prefix
 * and, for a JWT, its iss/sub/aud/exp. Callers never keep the header value; `redact` returns the
 * text with every token replaced, for the few fields (target, X-Forwarded-Uri) that are kept.
 */
import { createHash } from 'node:crypto';
import type { CredentialInfo, HttpRequestInfo } from '../../model/protocol.js';

export type AuthKind = HttpRequestInfo['auth'];

/** Credentials kept per request: a request with more is hostile or broken. */
const MAX_CREDENTIALS = 16;

/** Three base64url parts, the first an encoded `{"`. */
const JWT_RE = /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g;
/** Bootstrap token `[a-z0-9]{6}.[a-z0-9]{16}` (token id . secret), standing alone. */
const BOOTSTRAP_RE = /(?<![A-Za-z0-9._-])[a-z0-9]{6}\.[a-z0-9]{16}(?![A-Za-z0-9._-])/g;
const BOOTSTRAP_ONLY_RE = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;
/** `scheme://user:password@host` in an absolute URL. */
const USERINFO_RE = /(?<=:\/\/)[^/@\s]+(?=@)/g;
/** kubectl's WebSocket bearer token, carried as a Sec-WebSocket-Protocol entry. */
const WS_BEARER_PREFIX = 'base64url.bearer.authorization.k8s.io.';
const WS_BEARER_RE = /base64url\.bearer\.authorization\.k8s\.io\.[A-Za-z0-9_=-]*/g;

const REDACTED = '[redacted]';

function sha256Prefix(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 12);
}

function jsonPart(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The identifying claims of a JWT, decoded without verifying; null when it is not a JWT. */
function jwtClaims(token: string): CredentialInfo['jwt'] {
  const parts = token.split('.');
  if (parts.length !== 3 || jsonPart(parts[0]) === null) return null;
  const claims = jsonPart(parts[1]);
  if (claims === null) return null;
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const aud = claims.aud;
  return {
    iss: str(claims.iss),
    sub: str(claims.sub),
    aud: typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : null,
    exp: typeof claims.exp === 'number' ? claims.exp : null,
  };
}

function push(out: CredentialInfo[], credential: CredentialInfo): void {
  if (out.length < MAX_CREDENTIALS) out.push(credential);
}

/** A bearer token's kind: a JWT, a bootstrap token or opaque. */
function bearer(token: string, header: string, out: CredentialInfo[]): void {
  const jwt = jwtClaims(token);
  const kind = jwt ? 'bearer-jwt' : BOOTSTRAP_ONLY_RE.test(token) ? 'bootstrap-token' : 'bearer';
  push(out, { kind, sha256Prefix: sha256Prefix(token), jwt, header });
}

/** `Authorization` / `Proxy-Authorization`: the scheme decides the kind. */
export function authorizationCredential(header: string, value: string, out: CredentialInfo[]): AuthKind {
  const m = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:\s+(.*?))?\s*$/.exec(value);
  const scheme = m?.[1].toLowerCase() ?? '';
  const token = m?.[2] ?? value;
  if (scheme === 'bearer') {
    bearer(token, header, out);
    return 'bearer';
  }
  push(out, { kind: scheme === 'basic' ? 'basic' : 'other', sha256Prefix: sha256Prefix(token), jwt: null, header });
  return scheme === 'basic' ? 'basic' : 'other';
}

/**
 * Any other header (cookies, X-Auth-…, Sec-WebSocket-Protocol): JWTs, bootstrap tokens and
 * kubectl's WebSocket bearer entry. Returns 'bearer' when the value authenticates as a bearer
 * token would (the WebSocket entry), else null.
 */
export function scanCredentials(header: string, value: string, out: CredentialInfo[]): AuthKind | null {
  let auth: AuthKind | null = null;
  let rest = value;
  if (value.includes(WS_BEARER_PREFIX)) {
    for (const m of value.matchAll(WS_BEARER_RE)) {
      const token = Buffer.from(m[0].slice(WS_BEARER_PREFIX.length), 'base64url').toString('utf8');
      bearer(token, header, out);
      auth = 'bearer';
    }
    rest = value.replace(WS_BEARER_RE, '');
  }
  // A JWT is a bearer token wherever it travels; `eyJ…` text that does not decode is not one.
  if (rest.includes('eyJ')) {
    for (const m of rest.matchAll(JWT_RE)) {
      const jwt = jwtClaims(m[0]);
      if (jwt) push(out, { kind: 'bearer-jwt', sha256Prefix: sha256Prefix(m[0]), jwt, header });
    }
  }
  for (const m of rest.matchAll(BOOTSTRAP_RE)) {
    push(out, { kind: 'bootstrap-token', sha256Prefix: sha256Prefix(m[0]), jwt: null, header });
  }
  return auth;
}

/**
 * Text that is kept (a request target, X-Forwarded-Uri) with its tokens replaced by REDACTED and
 * reported as credentials of `header`.
 */
export function redact(header: string, value: string, out: CredentialInfo[]): string {
  if (!/eyJ|@|\.|base64url/.test(value)) return value;
  scanCredentials(header, value, out);
  let result = value.replace(WS_BEARER_RE, REDACTED).replace(JWT_RE, REDACTED).replace(BOOTSTRAP_RE, REDACTED);
  result = result.replace(USERINFO_RE, (userinfo) => {
    // user:password in a URL is Basic authentication by another road.
    push(out, { kind: 'basic', sha256Prefix: sha256Prefix(userinfo), jwt: null, header });
    return REDACTED;
  });
  return result;
}

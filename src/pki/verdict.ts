/**
 * The server chain verdict (SPEC.md §5 `serverCertVerdict`, KW003): could a client holding these
 * trust anchors have verified this chain at the capture time, for this name?
 *
 * Precedence, in the order a verifying client fails:
 * 1. `unknown`: no certificate was seen.
 * 2. `untrusted` / `self-signed`: no path from the leaf to an anchor. Built the way Go and OpenSSL
 *    build it: at each step an anchor whose subject is the issuer and whose key verifies the
 *    signature wins, else a presented certificate that does (in any order); a presented issuer must
 *    be a CA (basicConstraints). A path that stops at a self-signed certificate is `self-signed`
 *    (the kubelet's `<host>@<ts>` leaf with its `<host>-ca@<ts>`), any other stop `untrusted`; so is
 *    a certificate that does not parse, and a leaf whose extended key usage excludes serverAuth.
 * 3. `expired`: a certificate on that path (the anchor included) is not valid at the capture time.
 *    Presented certificates off the path (a stale cross-sign) do not count: clients ignore them.
 * 4. `name-mismatch`: the leaf's SANs do not cover the SNI, or without SNI the server address.
 *    The subject CN is not consulted (Go has ignored it since 1.15), wildcards cover one whole label.
 * 5. `trusted`.
 *
 * Path building and the name check do not depend on the time: they are cached by chain, anchor set
 * and name; the validity comparison is redone per call.
 */
import { isIP } from 'node:net';
import type { CertVerdict } from '../model/protocol.js';
import type { TrustAnchors } from './anchors.js';
import { loadCertificate, verifies } from './certificate.js';
import type { ParsedCertificate } from './certificate.js';
import { LruCache } from './lru.js';

export interface ChainVerdictOptions {
  anchors: TrustAnchors;
  /** The SNI the client sent, null when it sent none. */
  serverName: string | null;
  /** The server's IP address: the name a client without SNI verified. */
  serverAddress: string;
  /** Capture time. */
  at: Date;
}

export interface ChainVerdict {
  verdict: CertVerdict;
  /** One short line naming the certificates involved. */
  reason: string;
}

/** What does not depend on the time. */
type Evaluation =
  | { kind: 'broken'; verdict: 'untrusted' | 'self-signed'; reason: string }
  | { kind: 'anchored'; path: readonly ParsedCertificate[]; anchor: string; nameMatches: boolean };

const VERDICT_CACHE_SIZE = 10_000;

const cache = new LruCache<string, Evaluation>(VERDICT_CACHE_SIZE);

export function chainVerdict(chain: readonly Buffer[], options: ChainVerdictOptions): ChainVerdict {
  if (chain.length === 0) return { verdict: 'unknown', reason: 'no server certificate seen' };
  const certificates: ParsedCertificate[] = [];
  for (const [index, der] of chain.entries()) {
    const certificate = loadCertificate(der);
    if (!certificate) return { verdict: 'untrusted', reason: `${index === 0 ? 'the leaf' : `chain certificate ${index}`} is not a valid X.509 certificate` };
    certificates.push(certificate);
  }

  // An empty SNI is no SNI.
  const name = options.serverName || options.serverAddress;
  const key = `${certificates.map((certificate) => certificate.info.sha256).join(',')}|${options.anchors.id}|${name}`;
  let evaluation = cache.get(key);
  if (!evaluation) {
    evaluation = evaluate(certificates, options.anchors, name);
    cache.set(key, evaluation);
  }
  if (evaluation.kind === 'broken') return { verdict: evaluation.verdict, reason: evaluation.reason };

  const at = options.at.getTime();
  for (const certificate of evaluation.path) {
    const { subject, notBefore, notAfter } = certificate.info;
    if (at < certificate.notBefore) return { verdict: 'expired', reason: `${subject} is not yet valid (notBefore ${notBefore})` };
    if (at > certificate.notAfter) return { verdict: 'expired', reason: `${subject} expired (notAfter ${notAfter})` };
  }
  const leaf = evaluation.path[0].info;
  if (!evaluation.nameMatches) {
    const sans = leaf.san.length === 0 ? 'no SANs' : `SANs ${leaf.san.slice(0, 6).join(', ')}${leaf.san.length > 6 ? ', …' : ''}`;
    return { verdict: 'name-mismatch', reason: `${leaf.subject} is not valid for ${name} (${sans})` };
  }
  return { verdict: 'trusted', reason: `${leaf.subject} chains to anchor ${evaluation.anchor} and is valid for ${name}` };
}

function evaluate(chain: readonly ParsedCertificate[], anchors: TrustAnchors, name: string): Evaluation {
  const leaf = chain[0];
  const path = [leaf];
  const unused = chain.slice(1);
  for (let current = leaf; ; ) {
    const { subject, issuer } = current.info;
    if (anchors.has(current.info.sha256)) return anchored(path, subject, name);
    const anchor = anchors.withSubject(issuer).find((candidate) => signedBy(current, candidate));
    if (anchor) return anchored([...path, anchor], anchor.info.subject, name);
    if (current.info.selfSigned) {
      const reason = current === leaf ? `${subject} is self-signed and not a trust anchor` : `issuer ${subject} is self-signed and not a trust anchor`;
      return { kind: 'broken', verdict: 'self-signed', reason };
    }
    const named = unused.filter((candidate) => candidate.info.subject === issuer);
    const next = named.find((candidate) => signedBy(current, candidate));
    if (!next) {
      const reason =
        named.length > 0 || anchors.withSubject(issuer).length > 0
          ? `signature of ${subject} does not verify with the key of ${issuer}`
          : `issuer ${issuer} of ${subject} is not a trust anchor and not in the chain`;
      return { kind: 'broken', verdict: 'untrusted', reason };
    }
    if (!next.info.isCA) return { kind: 'broken', verdict: 'untrusted', reason: `intermediate ${next.info.subject} is not a CA (basicConstraints)` };
    unused.splice(unused.indexOf(next), 1);
    path.push(next);
    current = next;
  }
}

function anchored(path: readonly ParsedCertificate[], anchor: string, name: string): Evaluation {
  const leaf = path[0];
  const usages = leaf.info.extKeyUsage;
  // Go and OpenSSL clients reject a server leaf whose EKU list leaves out serverAuth.
  if (usages.length > 0 && !usages.includes('serverAuth') && !usages.includes('anyExtendedKeyUsage')) {
    return { kind: 'broken', verdict: 'untrusted', reason: `${leaf.info.subject} is not for serverAuth (EKU ${usages.join(', ')})` };
  }
  return { kind: 'anchored', path, anchor, nameMatches: validFor(leaf, name) };
}

function signedBy(child: ParsedCertificate, issuer: ParsedCertificate): boolean {
  return issuer.publicKey !== null && verifies(child.x509, issuer.publicKey);
}

function validFor(leaf: ParsedCertificate, name: string): boolean {
  try {
    if (isIP(name)) return leaf.x509.checkIP(name) !== undefined;
    return leaf.x509.checkHost(name, { subject: 'never', partialWildcards: false }) !== undefined;
  } catch {
    // checkHost and checkIP throw on names OpenSSL cannot parse: such a name matches nothing.
    return false;
  }
}

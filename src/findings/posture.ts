/**
 * How a connection was secured, as the path matrix counts it (the summary of `kwire read`, the
 * store's `flows.posture`, the dashboard's overview).
 */
import type { FlowJson } from '../model/document.js';
import type { Finding } from '../model/finding.js';

/**
 * `mutual`: the server's chain verified and the client presented a certificate; `server-only`:
 * verified, no client certificate; `unverified`: a finding says the client went on with a server
 * it cannot have verified (KW003, KW006); `unjudged`: TLS the packets cannot judge (TLS 1.3 without
 * keys, no trust anchors, a resumed or unfinished handshake); `plaintext`: HTTP or h2c; `other`.
 */
export type Posture = 'mutual' | 'server-only' | 'unverified' | 'unjudged' | 'plaintext' | 'other';

export const POSTURES: readonly Posture[] = ['mutual', 'server-only', 'unverified', 'unjudged', 'plaintext', 'other'];

/** Column titles. */
export const POSTURE_TITLES: Record<Posture, string> = {
  mutual: 'mTLS', 'server-only': 'server-only', unverified: 'unverified', unjudged: 'tls ?', plaintext: 'plaintext', other: 'other',
};

export function postureOf(flow: FlowJson, findings: readonly Pick<Finding, 'rule'>[]): Posture {
  if (flow.protocol === 'http' || flow.protocol === 'h2c') return 'plaintext';
  const tls = flow.tls;
  if (!tls) return 'other';
  if (findings.some((finding) => finding.rule === 'KW003' || finding.rule === 'KW006')) return 'unverified';
  if (tls.serverCertVerdict !== 'trusted' || !tls.established) return 'unjudged';
  return tls.clientCertPresented === true ? 'mutual' : 'server-only';
}

/**
 * A finding of SPEC.md §4: one rule of the catalogue (src/findings/) that fired on one flow, with
 * what was seen, why it matters, the fix and the evidence. Secrets never appear here: the evidence
 * names credentials by kind and hash prefix only.
 */
import type { CommPath } from './document.js';

export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';

/** Least to most severe: `--fail-on` compares by position. */
export const SEVERITIES: readonly Severity[] = ['info', 'low', 'medium', 'high', 'critical'];

export type RuleId =
  | 'KW001' | 'KW002' | 'KW003' | 'KW004' | 'KW005' | 'KW006' | 'KW007'
  | 'KW008' | 'KW009' | 'KW010' | 'KW011' | 'KW012' | 'KW013';

/** How the fact behind a finding is known: seen in clear, seen after decryption, or inferred (TLS 1.3 record sizes). */
export type EvidenceBasis = 'observed' | 'decrypted' | 'inferred';

export interface FindingEvidence {
  basis: EvidenceBasis;
  /** Packet numbers (tshark's `frame.number`) that show the fact, first the flow's first packet. */
  packets: number[];
  /** SHA-256 fingerprints (lower-case hex) of the certificates involved. */
  certificates: string[];
  /** What was seen, in words: `server certificate CN=node1@1700000000 is self-signed`, `GET /pods → 200`. */
  facts: string[];
}

export interface Finding {
  rule: RuleId;
  /** The rule's stable name, e.g. `plaintext-http` (an addition to SPEC.md §4's fields). */
  name: string;
  severity: Severity;
  flowId: number;
  path: CommPath;
  title: string;
  detail: string;
  remediation: string;
  references: string[];
  evidence: FindingEvidence;
}

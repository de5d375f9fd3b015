/**
 * Trust anchors: the CA certificates a client would verify servers against (`--ca` files, the
 * cluster file's `ca`). An anchor set has a content id, so that two sets read from the same
 * bundle share verdict cache entries.
 */
import { createHash } from 'node:crypto';
import { KwireError } from '../model/errors.js';
import { loadCertificate } from './certificate.js';
import type { ParsedCertificate } from './certificate.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

export class TrustAnchors {
  private readonly bySha256: ReadonlyMap<string, ParsedCertificate>;
  private readonly bySubjectName = new Map<string, ParsedCertificate[]>();

  private constructor(
    /** Same certificates, same id. */
    readonly id: string,
    certificates: readonly ParsedCertificate[],
  ) {
    this.bySha256 = new Map(certificates.map((certificate) => [certificate.info.sha256, certificate]));
    for (const certificate of this.bySha256.values()) {
      const list = this.bySubjectName.get(certificate.info.subject) ?? [];
      list.push(certificate);
      this.bySubjectName.set(certificate.info.subject, list);
    }
  }

  static empty(): TrustAnchors {
    return new TrustAnchors('empty', []);
  }

  /**
   * The CERTIFICATE blocks of a PEM bundle (other blocks, such as keys, are skipped). A bundle with
   * no certificate, or a block that is not one, is a configuration error: KwireError `BAD_CA`.
   */
  static fromPem(text: string): TrustAnchors {
    const certificates: ParsedCertificate[] = [];
    let index = 0;
    for (const match of text.matchAll(PEM_CERTIFICATE)) {
      index++;
      const certificate = loadCertificate(Buffer.from(match[1].replace(/\s+/g, ''), 'base64'));
      if (!certificate) throw new KwireError('BAD_CA', `PEM certificate ${index} is not a valid X.509 certificate`);
      certificates.push(certificate);
    }
    if (certificates.length === 0) throw new KwireError('BAD_CA', 'no PEM certificate (-----BEGIN CERTIFICATE-----) found');
    return TrustAnchors.of(certificates);
  }

  /** The anchors of several sets (`--ca` files and the cluster file's `ca`) as one. */
  static union(sets: readonly TrustAnchors[]): TrustAnchors {
    if (sets.length === 1) return sets[0];
    const certificates = sets.flatMap((set) => [...set.bySha256.values()]);
    return certificates.length === 0 ? TrustAnchors.empty() : TrustAnchors.of(certificates);
  }

  private static of(certificates: readonly ParsedCertificate[]): TrustAnchors {
    const fingerprints = [...new Set(certificates.map((certificate) => certificate.info.sha256))].sort();
    return new TrustAnchors(createHash('sha256').update(fingerprints.join(',')).digest('hex'), certificates);
  }

  get size(): number {
    return this.bySha256.size;
  }

  /** Whether this very certificate is an anchor. */
  has(sha256: string): boolean {
    return this.bySha256.has(sha256);
  }

  /** Anchors whose subject is `name` (RFC 4514, as CertificateInfo prints it). */
  withSubject(name: string): readonly ParsedCertificate[] {
    return this.bySubjectName.get(name) ?? [];
  }
}

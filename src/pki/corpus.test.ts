/**
 * The real certificates of the third-party captures: every one tshark extracts parses, its subject
 * is what the manifest (python-cryptography) says, and without anchors no chain is trusted.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { corpusFacts, corpusPath } from '../../test/helpers/corpus.js';
import { TrustAnchors, chainVerdict, parseCertificate } from './index.js';

/** The manifest's stand-in for a certificate that does not parse. */
const UNPARSABLE = 'unparsable';

/** Each Certificate message's chain (DER, leaf first), as tshark extracts them per frame; TLS 1.3 ones need the key log. */
function tsharkChains(capture: string, keylog: string | null): Buffer[][] {
  const keys = keylog ? ['-o', `tls.keylog_file:${corpusPath(keylog)}`] : [];
  const run = spawnSync('tshark', ['-r', capture, ...keys, '-Y', 'tls.handshake.certificate', '-T', 'fields', '-e', 'tls.handshake.certificate'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.error) throw new Error(`tshark is required for the corpus tests: ${run.error.message}`);
  return run.stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.trim().split(',').map((hex) => Buffer.from(hex, 'hex')));
}

const captures = Object.entries(corpusFacts())
  .map(([file, facts]) => ({
    file,
    keylog: facts.keylog,
    subjects: [...((facts.server_cert_subjects as string[] | undefined) ?? []), ...((facts.client_cert_subjects as string[] | undefined) ?? [])].filter(
      (subject) => subject !== '(empty Certificate)',
    ),
  }))
  .filter(({ subjects }) => subjects.length > 0);

describe('certificates of the third-party captures', () => {
  it('has captures with certificates to check', () => {
    expect(captures.length).toBeGreaterThan(25);
  });

  for (const { file, keylog, subjects } of captures) {
    it(`${file}: leaf subjects as the manifest says, never trusted without anchors`, () => {
      const chains = tsharkChains(corpusPath(file), keylog);
      const leaves = chains.map((chain) => parseCertificate(chain[0]));
      const expected = new Set(subjects);
      expect(new Set(leaves.map((leaf) => leaf?.subject ?? UNPARSABLE))).toEqual(expected);
      if (!expected.has(UNPARSABLE)) {
        for (const der of chains.flat()) expect(parseCertificate(der)).not.toBeNull();
      }
      for (const chain of chains) {
        const { verdict } = chainVerdict(chain, { anchors: TrustAnchors.empty(), serverName: null, serverAddress: '192.0.2.1', at: new Date() });
        expect(['untrusted', 'self-signed']).toContain(verdict);
        expect(verdict === 'self-signed').toBe(chain.some((der) => parseCertificate(der)?.selfSigned));
      }
    });
  }

  it('finds the self-signed chains: a lone self-signed client certificate, chains that carry their root', () => {
    const verdicts = (file: string) =>
      tsharkChains(corpusPath(file), null).map((chain) => {
        const { verdict, reason } = chainVerdict(chain, { anchors: TrustAnchors.empty(), serverName: null, serverAddress: '192.0.2.1', at: new Date() });
        return `${verdict}: ${reason}`;
      });
    expect(verdicts('ndpi/tls_client_certificate_with_missing_server_one.pcapng')).toContain('self-signed: CN=AnyDesk Client is self-signed and not a trust anchor');
    expect(verdicts('suricata-verify/tls-store-02_tls-client-auth.pcap')).toContain(
      'self-signed: issuer CN=SampleRoot,O=TLSClientAuthSampleCA,L=Budapest,ST=Budapest,C=HU is self-signed and not a trust anchor',
    );
  });
});

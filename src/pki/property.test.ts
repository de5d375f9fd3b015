/** Whatever bytes a capture hands over, parsing and verdicts answer and never throw. */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertVerdict } from '../model/protocol.js';
import { TrustAnchors, chainVerdict, parseCertificate } from './index.js';
import { CA_EXTENSIONS, TestPki, serverExtensions } from './testing.js';

const VERDICTS: readonly CertVerdict[] = ['trusted', 'untrusted', 'self-signed', 'expired', 'name-mismatch', 'unknown'];

let pki: TestPki;
let anchors: TrustAnchors;
let originals: Buffer[];

beforeAll(() => {
  pki = new TestPki();
  pki.issue('ca', { subject: '/CN=kubernetes', key: 'rsa2048', days: 3650, extensions: CA_EXTENSIONS });
  pki.issue('p256', { subject: '/O=system:nodes/CN=system:node:node1', key: 'p256', issuer: 'ca', extensions: serverExtensions('DNS:node1,IP:198.18.0.21') });
  pki.issue('ed25519', { subject: '/CN=ed', key: 'ed25519', extensions: serverExtensions('DNS:ed,URI:spiffe://x/y,email:a@b') });
  anchors = TrustAnchors.fromPem(pki.get('ca').pem);
  originals = pki.chain('p256', 'ca', 'ed25519');
});

afterAll(() => pki.cleanup());

/** One certificate, changed: bytes overwritten, then cut or grown. */
const mutated = fc
  .record({
    which: fc.nat(),
    edits: fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 8 }),
    cut: fc.option(fc.nat(), { nil: undefined }),
    tail: fc.uint8Array({ maxLength: 4 }),
  })
  .map(({ which, edits, cut, tail }) => {
    const der = Buffer.from(originals[which % originals.length]);
    for (const { at, byte } of edits) der[at % der.length] = byte;
    const kept = cut === undefined ? der : der.subarray(0, cut % der.length);
    return Buffer.concat([kept, tail]);
  });

function verdictNeverThrows(chain: Buffer[]): void {
  const { verdict, reason } = chainVerdict(chain, { anchors, serverName: null, serverAddress: '198.18.0.21', at: new Date() });
  expect(VERDICTS).toContain(verdict);
  expect(reason).not.toBe('');
}

describe('pki on arbitrary bytes', () => {
  it('random bytes are no certificate, and no chain', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        expect(parseCertificate(Buffer.from(bytes))).toBeNull();
        verdictNeverThrows([Buffer.from(bytes)]);
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes behind a DER SEQUENCE header never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const der = Buffer.concat([Buffer.from([0x30, 0x82, bytes.length >> 8, bytes.length & 0xff]), bytes]);
        expect(parseCertificate(der)).toBeNull();
      }),
      { numRuns: 300 },
    );
  });

  it('mutated real certificates parse or not, and chains of them get a verdict, without throwing', () => {
    fc.assert(
      fc.property(fc.array(mutated, { minLength: 1, maxLength: 3 }), (chain) => {
        for (const der of chain) {
          const info = parseCertificate(der);
          if (info) expect(info.sha256).toMatch(/^[0-9a-f]{64}$/);
        }
        verdictNeverThrows([...chain, ...originals.slice(0, 2)]);
      }),
      { numRuns: 400 },
    );
  });
});

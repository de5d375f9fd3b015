/**
 * inferTls13ClientAuth on record sequences measured on real stacks (test/stacks, captures/tls13/;
 * the table in captures/README.md), then on edge cases. A sequence is written as the measurement
 * printed it: `S`/`C` for the server/client, the outer content type when it is not 23, the length.
 */
import { describe, expect, it } from 'vitest';
import type { EncryptedRecord, Tls13ClientAuthInference } from './encrypted-records.js';
import { inferTls13ClientAuth } from './tls13-inference.js';

/** `S20:1 S23 S96 C856` → records one millisecond and one packet apart, in that order. */
function records(sequence: string): EncryptedRecord[] {
  return sequence.split(/\s+/).filter(Boolean).map((token, i) => {
    const match = /^([SC])(?:(\d+):)?(\d+)$/.exec(token);
    if (!match) throw new Error(`bad token ${token}`);
    return { from: match[1] === 'S' ? 'server' : 'client', contentType: Number(match[2] ?? 23), length: Number(match[3]), ts: i / 1000, packet: i + 1 };
  });
}

type Outcome = [requested: boolean | null, presented: boolean | null, rejectedBy: 'client' | 'server' | null];
const AES128 = 'TLS_AES_128_GCM_SHA256';
const AES256 = 'TLS_AES_256_GCM_SHA384';
const CHACHA = 'TLS_CHACHA20_POLY1305_SHA256';

function outcome(result: Tls13ClientAuthInference): Outcome {
  expect(result.rejected).toBe(result.rejectedBy !== null);
  return [result.clientCertRequested, result.clientCertPresented, result.rejectedBy];
}

const MEASURED: [scenario: string, cipher: string, sequence: string, expected: Outcome][] = [
  ['openssl s_client → s_server, no -verify', AES256, 'S20:1 S23 S854 S96 S69 C20:1 C69 C59 S250 S250 S4487 S19 C19', [false, false, null]],
  ['openssl s_client -cert → s_server -verify 1', AES256, 'S20:1 S23 S96 S854 S97 S69 C20:1 C856 C96 C69 S682 S682 C59 S6748 S19 C19', [true, true, null]],
  ['openssl s_client (no cert) → s_server -verify 1, ChaCha20', CHACHA, 'S20:1 S23 S96 S854 S97 S53 C20:1 C25 C53 S234 S234 C59 S4393 S19 C19', [true, false, null]],
  ['openssl s_client -cert (other CA) → s_server -verify 1 -verify_return_error', AES256, 'S20:1 S23 S96 S854 S95 S69 C20:1 C447 C96 C69 C59 S19', [true, true, 'server']],
  ['openssl s_client (no cert) → s_server -Verify 1', AES256, 'S20:1 S23 S96 S854 S95 S69 C20:1 C25 C69 S19', [true, false, 'server']],
  ['curl (no cert) → s_server -Verify 1: request after the alert', AES256, 'S20:1 S23 S96 S854 S96 S69 C20:1 C25 C69 S19 C103', [true, false, 'server']],
  ['openssl s_client distrusting the server: alert in clear', AES256, 'S20:1 S23 S854 S95 S69 C21:2', [false, null, 'client']],
  ['curl --cert → s_server -Verify 1, AES-128', AES128, 'S20:1 S23 S96 S854 S97 S53 C20:1 C856 C97 C53 C59 S666 S666 S6617 S19 C19', [true, true, null]],
  ['Go → Go NoClientCert', AES128, 'S20:1 S23 S456 S96 S53 C20:1 C53 C142 S204 S19 C19', [false, false, null]],
  ['Go with cert → Go RequireAndVerifyClientCert', AES128, 'S20:1 S23 S96 S456 S96 S53 C20:1 C458 C96 C53 C142 S204 C19 S19', [true, true, null]],
  ['Go without cert → Go RequireAndVerifyClientCert', AES128, 'S20:1 S23 S96 S456 S97 S53 C20:1 C25 C53 S19 C19', [true, false, 'server']],
  ['Go with a cert of another CA → Go RequestClientCert: Go filters by the CA names, sends none', AES128, 'S20:1 S23 S96 S456 S97 S53 C20:1 C25 C53 C142 S204 C19 S19', [true, false, null]],
  ['Go distrusting the server: encrypted alert', AES128, 'S20:1 S23 S96 S456 S96 S53 C20:1 C19', [true, null, 'client']],
  ['Node → Go NoClientCert: Go\'s NewSessionTicket before the client\'s flight', AES128, 'S20:1 S23 S456 S97 S53 S147 C20:1 C53 C78 S204 S19 C19', [false, false, null]],
  ['Node with cert → Go RequestClientCert: ticket after the client\'s flight', AES128, 'S20:1 S23 S96 S456 S95 S53 C20:1 C856 C97 C53 C78 S978 S204 S19 C19', [true, true, null]],
  ['openssl s_client distrusting a Go server', AES128, 'S20:1 S23 S96 S456 S97 S53 C21:2 S19', [true, null, 'client']],
  ['kubectl with client-certificate-data → Go RequireAndVerifyClientCert', AES128, 'S20:1 S23 S96 S456 S95 S53 C20:1 C458 C96 C53 C213 S185 C280 S185 S19', [true, true, null]],
  ['kubectl → Node without requestCert (EncryptedExtensions with ALPN)', AES256, 'S20:1 S38 S854 S95 S69 C20:1 C69 S282 S282 C213 S204 C19 S19', [false, false, null]],
  ['Node → Node requestCert, rejectUnauthorized, cert of another CA: closed without alert', AES256, 'S20:1 S23 S96 S854 S96 S69 C20:1 C447 C96 C69 C78 C19', [true, true, null]],
  ['Node → Node requestCert, rejectUnauthorized, no cert', AES256, 'S20:1 S23 S96 S854 S95 S69 C20:1 C25 C69 C78 S19', [true, false, 'server']],
  ['Node distrusting the server: closes without a record', AES256, 'S20:1 S23 S96 S854 S95 S69', [true, null, null]],
  ['Node distrusting an s_server: the server\'s alert after the silent client', AES256, 'S20:1 S23 S96 S854 S97 S69 S19', [true, null, null]],
  ['Node → Node, ChaCha20, no cert', CHACHA, 'S20:1 S23 S96 S853 S97 S53 C20:1 C25 C53 C78 S266 S266 S204 S19 C19', [true, false, null]],
  ['Node → Node resumed (PSK)', AES256, 'S20:1 S23 S69 C20:1 C69 C78 S204 S19 C19', [null, null, null]],
  ['Node → Go resumed (PSK), ticket in the server\'s flight', AES128, 'S20:1 S23 S53 S978 C20:1 C53 C78 S204 S19 C19', [null, null, null]],
];

describe('inferTls13ClientAuth on measured stacks', () => {
  it.each(MEASURED)('%s', (_scenario, cipher, sequence, expected) => {
    const result = inferTls13ClientAuth(records(sequence), cipher);
    expect(outcome(result)).toEqual(expected);
    expect(result.reasoning).toMatch(/^[A-Z].+\.$/);
  });

  // Rows where the client sent its Finished (it answered, or the handshake was resumed).
  it.each(MEASURED.filter(([, , , [requested, presented]]) => presented !== null || requested === null))(
    'unknown suite, Finished matched between the sides: %s',
    (_scenario, cipher, sequence) => {
      expect(outcome(inferTls13ClientAuth(records(sequence), null))).toEqual(outcome(inferTls13ClientAuth(records(sequence), cipher)));
    },
  );

  it('says which records led to the answer', () => {
    expect(inferTls13ClientAuth(records('S20:1 S23 S96 S854 S95 S69 C20:1 C447 C96 C69 C59 S19'), AES256).reasoning).toBe(
      'Server flight of 5 records (23/96/854/95/69 bytes): EncryptedExtensions, CertificateRequest (96 bytes), Certificate, CertificateVerify, Finished; ' +
        'the client sent a Certificate (447 bytes) and a CertificateVerify (96) before its Finished (69); ' +
        'the server then sent only an alert (19 bytes encrypted): it rejected the client\'s flight.',
    );
  });
});

describe('inferTls13ClientAuth edge cases', () => {
  const cases: [name: string, cipher: string | null, sequence: string, expected: Outcome][] = [
    ['nothing after the ServerHello', AES128, '', [null, null, null]],
    ['only ChangeCipherSpec records', AES128, 'S20:1 C20:1', [null, null, null]],
    ['the capture ends inside the server\'s flight', AES128, 'S20:1 S23 S96', [null, null, null]],
    ['the server\'s flight without the client\'s answer yet', AES128, 'S23 S96 S456 S96 S53', [true, null, null]],
    ['a client flight cut after its Certificate', AES128, 'S23 S96 S456 S96 S53 C458', [true, null, null]],
    ['a server coalescing EncryptedExtensions to CertificateVerify in one record', AES128, 'S1100 S53 C458 C96 C53', [null, true, null]],
    ['a server coalescing Certificate and CertificateVerify after a CertificateRequest', AES128, 'S23 S96 S550 S53 C458 C96 C53', [null, true, null]],
    ['a Certificate split over two records: the client\'s lone Finished still tells', AES128, 'S23 S96 S16401 S2100 S96 S53 C53', [null, false, null]],
    ['a client record that is neither shape (padding?)', AES128, 'S23 S96 S456 S96 S53 C100 C53', [true, null, null]],
    ['a client Certificate without CertificateRequest contradicts the server', AES128, 'S23 S456 S96 S53 C458 C96 C53', [null, null, null]],
    ['a CertificateRequest answered by a Finished alone contradicts the client', AES128, 'S23 S96 S456 S96 S53 C53', [null, null, null]],
    ['the client\'s close_notify before the server\'s is no rejection', AES128, 'S23 S456 S96 S53 C53 C19 S19', [false, false, null]],
    ['CCM_8: 8-byte tags (Finished 45, empty Certificate 17)', 'TLS_AES_128_CCM_8_SHA256', 'S23 S96 S456 S96 S45 C17 C45 C100', [true, false, null]],
    ['a suite given by number is an unknown suite', '0x1301', 'S23 S96 S456 S96 S53 C25 C53 S19', [true, false, 'server']],
    ['an unknown suite and no client Finished: the server\'s Finished cannot be told', null, 'S23 S96 S456 S96 S53 C19', [null, null, 'client']],
  ];
  it.each(cases)('%s', (_name, cipher, sequence, expected) => {
    expect(outcome(inferTls13ClientAuth(records(sequence), cipher))).toEqual(expected);
  });

  it('orders the two sides by time, whatever the order of the array', () => {
    const measured = records('S20:1 S23 S96 S854 S95 S69 C20:1 C447 C96 C69 C59 S19');
    const bySide = [...measured.filter((r) => r.from === 'client'), ...measured.filter((r) => r.from === 'server')];
    expect(inferTls13ClientAuth(bySide, AES256)).toEqual(inferTls13ClientAuth(measured, AES256));
  });

  it('remembers a conclusion by the records\' shape: the same sides, types and lengths in order, whatever their times', () => {
    const shape = 'S20:1 S23 S96 S854 S95 S69 C20:1 C447 C96 C69 C59 S19 C19';
    const first = inferTls13ClientAuth(records(shape), AES256);
    const later = records(shape).map((r) => ({ ...r, ts: r.ts + 100, packet: r.packet + 1000 }));
    expect(inferTls13ClientAuth(later, AES256)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(outcome(first)).toEqual([true, true, 'server']);
    // One length, the suite, or the order of the last two records apart: concluded afresh.
    expect(inferTls13ClientAuth(records(shape.replace('C447', 'C448')), AES256)).not.toBe(first);
    expect(inferTls13ClientAuth(records(shape), AES128)).not.toBe(first);
    expect(outcome(inferTls13ClientAuth(records(shape.replace('S19 C19', 'C19 S19')), AES256))).toEqual([true, true, null]);
  });

  it('leaves its input alone', () => {
    const input = records('C69 S23 S854 S96 S69');
    const copy = structuredClone(input);
    inferTls13ClientAuth(input, AES256);
    expect(input).toEqual(copy);
  });
});

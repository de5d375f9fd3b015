/**
 * Decryption golden test: every third-party capture that comes with TLS secrets (a key log file
 * beside it, or a pcapng Decryption Secrets Block) decrypts to what tshark shows with the same
 * secrets — the certificates of both sides (by SHA-256), whether a CertificateRequest was sent,
 * the HTTP/1.x request targets and the HTTP/2 :paths inside TLS. tshark is run now, with
 * `-o tls.keylog_file:…`; the test is skipped, saying why, where tshark is not installed.
 */
import { describe, expect, it } from 'vitest';
import { corpusFacts, corpusPath } from './helpers/corpus.js';
import { analyzeWithKeys, keyLogFile, keyLogOfDsb, kwireSees, tsharkSees } from './helpers/decrypt.js';
import { hasTool } from './stacks/stacks.js';

const TSHARK = hasTool('tshark');

/** Captures with secrets: [capture, key log file or null for the DSB inside]. */
const WITH_SECRETS: Array<[string, string | null]> = [
  ...Object.entries(corpusFacts())
    .filter(([, facts]) => facts.keylog !== null)
    .map(([file, facts]): [string, string | null] => [file, facts.keylog]),
  ['derived/hotplace-http2-with-dsb.pcapng', null],
  ['derived/snet-mTLS1_3_RSA-with-dsb.pcapng', null],
];

/** CBC suites are not decrypted (decisions.md): their sessions say so, and show what is in clear. */
const CBC_SESSIONS: Record<string, number> = {
  'illustrated-tls12/capture.pcap': 1,
  'hotplace/linux/ubuntu20.pcap': 1,
  'snet/mTLS1_2_RSA.pcap': 1,
};

/** Facts that only decryption shows, so that agreeing is not agreeing on nothing. */
const NOT_EMPTY: Record<string, Array<'certificates' | 'http1Targets' | 'http2Paths'>> = {
  'hotplace/http/http2.pcapng': ['certificates', 'http2Paths'],
  'derived/hotplace-http2-with-dsb.pcapng': ['certificates', 'http2Paths'],
  'hotplace/http/http1.pcapng': ['certificates', 'http1Targets'],
  'zeek/tls/tls-1.2-stream-keylog.pcap': ['http1Targets'],
  'snet/mTLS1_3_RSA.pcap': ['certificates'],
};

describe.skipIf(!TSHARK)(`decryption of the corpus captures with secrets, against tshark with the same secrets${TSHARK ? '' : ' (skipped: tshark is not installed)'}`, () => {
  it.each(WITH_SECRETS.map(([file, keylog]) => ({ file, keylog, secrets: keylog ?? 'its Decryption Secrets Block' })))('$file with $secrets', async ({ file, keylog }) => {
    const capture = corpusPath(file);
    const keyLog = keylog === null ? keyLogOfDsb(capture) : keyLogFile(corpusPath(keylog));
    expect(keyLog.badLines).toBe(0);
    const flows = await analyzeWithKeys(capture, keyLog);
    const seen = kwireSees(flows);
    expect(seen).toEqual(tsharkSees(capture, keylog === null ? null : corpusPath(keylog)));
    if (NOT_EMPTY[file]) for (const fact of NOT_EMPTY[file]) expect(seen[fact], fact).not.toHaveLength(0);
    // Every session with application data decrypted it, but those of a CBC suite.
    const sessions = flows.map((f) => f.analysis.tls).filter((t) => t?.decrypted !== undefined && t.version !== null);
    const cbc = sessions.filter((t) => t!.decrypted!.failure?.includes('is not decrypted (AEAD suites only)'));
    expect(cbc.length).toBe(CBC_SESSIONS[file] ?? 0);
    for (const t of sessions) if (!cbc.includes(t)) expect(t!.decrypted!.handshake).toBe(true);
  });
});

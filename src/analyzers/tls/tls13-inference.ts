/**
 * TLS 1.3 client authentication seen without keys (issue 3): the CertificateRequest and the
 * client's Certificate are encrypted, but every stack measured (OpenSSL 3.0 s_server/s_client,
 * curl, Node's node:tls, Go 1.19 crypto/tls, kubectl 1.32; captures/README.md, `captures/tls13/`)
 * sends one record per handshake message, so their count and sizes tell:
 *
 *   server: EncryptedExtensions, [CertificateRequest], Certificate, CertificateVerify, Finished
 *           (a resumption by PSK: EncryptedExtensions, Finished — no certificates at all)
 *   client: [Certificate, CertificateVerify | empty Certificate], Finished
 *
 * A Finished is 4 + hash + 1 + tag bytes (53 for the SHA-256 suites, 69 for SHA-384), the same on
 * both sides; an empty client Certificate is 8 + 1 + tag (25); an alert 2 + 1 + tag (19). Go's
 * server may send a NewSessionTicket right after its Finished, before the client's flight; the
 * ChangeCipherSpec records (type 20) carry nothing. Anything that does not fit these shapes
 * (records coalesced by another stack, padding, a Certificate split over records) answers null.
 */
import type { EncryptedRecord, Tls13ClientAuthInference } from './encrypted-records.js';
import type { Side } from '../../model/protocol.js';

// ChangeCipherSpec (20) records carry nothing in TLS 1.3 and are skipped, as are handshake (22) records in clear.
const ALERT = 21;
const APPLICATION_DATA = 23;

/**
 * A lone record before the server's Finished no larger than this is EncryptedExtensions (23 to 38
 * bytes measured) and the handshake a resumption; a larger one holds a certificate too (coalesced).
 */
const MAX_ENCRYPTED_EXTENSIONS = 200;

/** The most records a server sends before its Finished: EncryptedExtensions, CertificateRequest, Certificate, CertificateVerify. */
const MAX_MESSAGES_BEFORE_FINISHED = 4;

interface SuiteSizes {
  /** Record length of a Finished, null when the suite is unknown. */
  finished: number | null;
  /** Record length of an encrypted alert. */
  alert: number;
  /** Record length of an empty client Certificate (an empty request context and no certificate). */
  emptyCertificate: number;
}

/** Sizes from the IANA suite name; AEAD tags are 16 bytes except for CCM_8. */
function suiteSizes(cipher: string | null): SuiteSizes {
  const tag = cipher?.includes('CCM_8') ? 8 : 16;
  const hash = cipher?.endsWith('_SHA384') ? 48 : cipher?.endsWith('_SHA256') ? 32 : null;
  return { finished: hash === null ? null : 4 + hash + 1 + tag, alert: 2 + 1 + tag, emptyCertificate: 8 + 1 + tag };
}

/** Finished record lengths of every TLS 1.3 suite: SHA-256 or SHA-384, with a 16- or 8-byte tag (CCM_8). */
const FINISHED_LENGTHS = [53, 69, 45, 61];

interface Flights {
  /** The server's records up to its Finished (inclusive), or null when no Finished was found. */
  server: EncryptedRecord[] | null;
  /** The client's records up to its Finished (inclusive), or null when none was found. */
  client: EncryptedRecord[] | null;
}

/**
 * The connections of one client and server repeat the same records: conclusions are remembered by
 * the suite and the records' sides, types and lengths in capture order, all the inference reads
 * (bounded: the memory is cleared when full).
 */
const REMEMBERED_LIMIT = 4096;
const remembered = new Map<string, Tls13ClientAuthInference>();

export function inferTls13ClientAuth(records: EncryptedRecord[], cipher: string | null): Tls13ClientAuthInference {
  // Both sides interleaved in capture order (sort is stable: each side keeps its order on equal times).
  const ordered = records.filter((r) => r.contentType === APPLICATION_DATA || r.contentType === ALERT).sort((a, b) => a.ts - b.ts);
  let key = cipher ?? '';
  for (const r of ordered) key += `,${r.from === 'client' ? 'c' : 's'}${r.contentType}:${r.length}`;
  let inference = remembered.get(key);
  if (inference === undefined) {
    if (remembered.size >= REMEMBERED_LIMIT) remembered.clear();
    inference = Object.freeze(infer(ordered, cipher));
    remembered.set(key, inference);
  }
  return inference;
}

function infer(ordered: EncryptedRecord[], cipher: string | null): Tls13ClientAuthInference {
  const sizes = suiteSizes(cipher);
  const isAlert = (r: EncryptedRecord) => r.contentType === ALERT || (r.contentType === APPLICATION_DATA && r.length === sizes.alert);
  const server = ordered.filter((r) => r.from === 'server');
  const client = ordered.filter((r) => r.from === 'client');

  if (server.length === 0) {
    return { clientCertRequested: null, clientCertPresented: null, rejected: false, rejectedBy: null, reasoning: 'No encrypted record from the server after its ServerHello.' };
  }
  const flights = findFlights(server, client, sizes.finished);
  const lengths = (rs: EncryptedRecord[]) => rs.map((r) => r.length).join('/');
  const parts: string[] = [];

  // --- the server's flight: was there a CertificateRequest? ---
  let requested: boolean | null = null;
  let resumed = false;
  if (flights.server === null) {
    parts.push(`no server Finished among the first ${MAX_MESSAGES_BEFORE_FINISHED + 1} server records (${lengths(server.slice(0, MAX_MESSAGES_BEFORE_FINISHED + 1))} bytes): messages coalesced or split, sizes cannot tell`);
  } else {
    const before = flights.server.slice(0, -1).map((r) => r.length);
    const shape = `server flight of ${flights.server.length} records (${lengths(flights.server)} bytes)`;
    if (before.length === 1 && before[0] <= MAX_ENCRYPTED_EXTENSIONS) {
      resumed = true;
      parts.push(`${shape}: EncryptedExtensions and Finished only, a resumption (PSK) with no certificates; client authentication, if any, belongs to the session it resumes`);
    } else if ((before.length === 3 || before.length === 4) && before[before.length - 2] > before[before.length - 1]) {
      // The two before the Finished are Certificate and CertificateVerify (a certificate outweighs a
      // signature); what precedes them is EncryptedExtensions, and a CertificateRequest when there are two.
      requested = before.length === 4;
      parts.push(requested
        ? `${shape}: EncryptedExtensions, CertificateRequest (${before[1]} bytes), Certificate, CertificateVerify, Finished`
        : `${shape}: EncryptedExtensions, Certificate, CertificateVerify, Finished — no CertificateRequest`);
    } else {
      parts.push(`${shape} does not split into one record per message`);
    }
  }

  // --- the client's answer ---
  let presented: boolean | null = null;
  let rejectedBy: Side | null = null;
  const firstClient = client[0];
  if (firstClient === undefined) {
    parts.push('the client sent no record after the server\'s flight: the handshake did not complete');
  } else if (flights.client === null && isAlert(firstClient) && client.length === 1) {
    rejectedBy = 'client';
    parts.push(`the client answered with an alert (${describe(firstClient)}) and nothing else: it rejected the server's flight`);
  } else if (flights.client === null) {
    parts.push(`no client Finished among its first records (${lengths(client.slice(0, 3))} bytes)`);
  } else {
    const answer = flights.client.slice(0, -1).map((r) => r.length);
    const fin = flights.client[flights.client.length - 1].length;
    if (resumed) {
      parts.push(`the client sent its Finished (${fin} bytes)`);
    } else if (answer.length === 0) {
      presented = false;
      parts.push(`the client sent its Finished (${fin} bytes) alone: no Certificate`);
    } else if (answer.length === 1 && answer[0] === sizes.emptyCertificate) {
      presented = false;
      parts.push(`the client sent an empty Certificate (${answer[0]} bytes) before its Finished (${fin})`);
    } else if (answer.length === 2 && answer[0] > sizes.emptyCertificate) {
      presented = true;
      parts.push(`the client sent a Certificate (${answer[0]} bytes) and a CertificateVerify (${answer[1]}) before its Finished (${fin})`);
    } else {
      parts.push(`the client's records before its Finished (${answer.join('/')} bytes) are not a Certificate and CertificateVerify`);
    }
    // A client answers a CertificateRequest with a Certificate, even an empty one, and sends none unasked (RFC 8446 §4.4.2).
    if ((requested === true && answer.length === 0) || (requested === false && answer.length > 0)) {
      requested = null;
      presented = null;
      parts.push('which contradicts the server\'s flight, so neither is claimed');
    }
    const serverAfter = ordered.slice(ordered.indexOf(flights.client[flights.client.length - 1]) + 1).filter((r) => r.from === 'server');
    const clientAlertFirst = ordered.find((r) => r.from === 'client' && isAlert(r));
    const alert = serverAfter[0];
    if (alert !== undefined && serverAfter.length === 1 && isAlert(alert) && (clientAlertFirst === undefined || ordered.indexOf(clientAlertFirst) > ordered.indexOf(alert))) {
      rejectedBy = 'server';
      parts.push(`the server then sent only an alert (${describe(alert)}): it rejected the client's flight`);
    }
  }

  const reasoning = `${parts.join('; ')}.`;
  return { clientCertRequested: requested, clientCertPresented: presented, rejected: rejectedBy !== null, rejectedBy, reasoning: reasoning[0].toUpperCase() + reasoning.slice(1) };
}

function describe(record: EncryptedRecord): string {
  return record.contentType === ALERT ? `in clear, ${record.length} bytes` : `${record.length} bytes encrypted`;
}

/**
 * Finds the Finished of each side. With a known suite its length is known; without one, it is the
 * first server record after EncryptedExtensions with a Finished's length (of any suite) that the
 * client's flight ends with too: both sides' Finished carry a MAC of the suite's hash length.
 */
function findFlights(server: EncryptedRecord[], client: EncryptedRecord[], finished: number | null): Flights {
  const candidates = server.slice(1, MAX_MESSAGES_BEFORE_FINISHED + 2);
  const clientEnd = (length: number) => client.slice(0, 3).findIndex((r) => r.length === length && r.contentType === APPLICATION_DATA);
  const length = finished ?? candidates.find((r) => FINISHED_LENGTHS.includes(r.length) && clientEnd(r.length) >= 0)?.length;
  if (length === undefined) return { server: null, client: null };
  const s = candidates.findIndex((r) => r.length === length && r.contentType === APPLICATION_DATA);
  const c = clientEnd(length);
  return { server: s < 0 ? null : server.slice(0, s + 2), client: c < 0 ? null : client.slice(0, c + 1) };
}

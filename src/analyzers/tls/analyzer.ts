/**
 * TLS over one TCP connection, without keys: the record layer of each direction, the handshake
 * messages sent in clear, and from the first encrypted record on only the records' types and
 * lengths. Fills a TlsInfo (SPEC.md §5) as bytes arrive; certificates are kept as DER for pki/.
 *
 * Buffering is bounded: no record is ever buffered (a record's bytes stream into the handshake
 * reassembler, or are skipped), and one handshake message of at most 256 KiB per direction is.
 *
 * Packet numbers: a ladder step or an encrypted record cites the packet that completed its record,
 * as tshark reassembles a record before dissecting what it holds (a handshake message that ends
 * early in a record split over segments is shown in the record's last segment).
 *
 * `established` (both sides sent application data after the handshake):
 * - TLS ≤ 1.2: each side sent an application_data record (they only follow its ChangeCipherSpec).
 * - TLS 1.3 without keys: the client's Finished is the first client record after the ServerHello
 *   whose length is that of a Finished for the suite (53 bytes, 69 for SHA-384 suites: OpenSSL,
 *   Go and Node send it alone and unpadded); established when the client sent a record after it
 *   and the server sent one after it (server records then are data or NewSessionTickets). Records
 *   of an alert's size (19 bytes: close_notify) do not count as data. When no record has a
 *   Finished's length (a stack that packs or pads its flight), the client's first encrypted record
 *   is taken as its whole flight: established when the client sent another record and the server
 *   sent one after the client's first. Checked on the Go, kubectl, OpenSSL, curl and Node
 *   captures of captures/tls13/ (stacks.test.ts).
 * - A connection picked up after its handshake: each side sent an application_data record.
 */
import type { Direction, EndReason, StreamHandler } from '../../model/flow.js';
import type { Evidence, HandshakeStep, Side, TlsAlert, TlsInfo } from '../../model/protocol.js';
import type { EncryptedRecord, Tls13ClientAuthInference } from './encrypted-records.js';
import type { KeyLog } from './keylog.js';
import type { OpenedRecord } from './record-crypto.js';
import { formatDistinguishedName } from '../../pki/index.js';
import { newDecryptionInfo, TlsDecryption } from './decryption.js';
import { parseClientHello, parseEncryptedExtensions, parseServerHello, parseSslv2ClientHello, Reader, type ClientHelloInfo, type ServerHelloInfo } from './hello.js';
import { ja4 } from './ja4.js';
import { alertName, cipherName, handshakeName, isTls13, tls13RecordSizes, versionName } from './names.js';
import { inferTls13ClientAuth } from './tls13-inference.js';

const CONTENT = { changeCipherSpec: 20, alert: 21, handshake: 22, applicationData: 23, heartbeat: 24 } as const;
const HS = {
  clientHello: 1,
  serverHello: 2,
  certificate: 11,
  certificateRequest: 13,
  serverHelloDone: 14,
  clientKeyExchange: 16,
  encryptedExtensions: 8,
  finished: 20,
  keyUpdate: 24,
} as const;
/** TLS 1.3 CertificateRequest extensions (RFC 8446 §4.2). */
const EXT_SIGNATURE_ALGORITHMS = 13;
const EXT_CERTIFICATE_AUTHORITIES = 47;

/** RFC 5246 §6.2.3: a TLSCiphertext fragment is at most 2^14 + 2048 bytes; RFC 8446 §5.2: 2^14 + 256 in TLS 1.3. */
const MAX_RECORD = 16384 + 2048;
const MAX_RECORD_TLS13 = 16384 + 256;
/** DESIGN.md budget for one handshake message; a larger one is skipped (counted in the ladder, not parsed). */
const MAX_MESSAGE = 256 * 1024;
const MAX_CHAIN_CERTS = 10;
const MAX_CHAIN_BYTES = 256 * 1024;
const MAX_LADDER = 64;
/** Encrypted records kept per direction for the TLS 1.3 inference. */
const MAX_ENCRYPTED_RECORDS = 32;
/** Encrypted records shown per direction in the ladder. */
const MAX_LADDER_ENCRYPTED = 8;

const sideOf = (dir: Direction): Side => (dir === 0 ? 'client' : 'server');

/**
 * Copies a record or message header (4–5 bytes) by hand: Buffer.copy of part of a buffer makes a
 * view of that part first, an allocation for every record of a bulk transfer.
 */
function copyHeaderBytes(source: Buffer, from: number, count: number, target: Buffer, at: number): void {
  for (let i = 0; i < count; i++) target[at + i] = source[from + i];
}

export function newTlsInfo(): TlsInfo {
  return {
    version: null,
    clientVersion: null,
    sni: null,
    alpnOffered: [],
    alpn: null,
    cipher: null,
    established: false,
    resumed: false,
    helloRetryRequest: false,
    clientCertRequested: null,
    clientCertPresented: null,
    clientAuthEvidence: 'unknown',
    requestedCAs: [],
    serverChain: [],
    clientChain: [],
    serverCertVerdict: 'unknown',
    serverCertReason: null,
    alert: null,
    ja4: null,
    handshake: [],
    stopped: null,
  };
}

/** Decryption of a connection's records (analyzers/index.ts passes them when a key log was given). */
export interface TlsAnalyzerOptions {
  /** Secrets by client random; without it records stay opaque. */
  keyLog?: KeyLog;
  /** Where decrypted application data goes: called once, at the first decrypted application data record. */
  openPlaintext?: () => StreamHandler | null;
}

/** The parts of a CertificateRequest that TlsInfo does not hold (the CA names go to `requestedCAs`). */
export interface CertificateRequestInfo {
  certificateTypes: number[];
  /** TLS 1.2 only; empty before. */
  signatureAlgorithms: number[];
}

/** Parse state of one direction. */
class DirectionState {
  stopped = false;
  /** Records from now on are opaque (after this side's ChangeCipherSpec, or the TLS 1.3 ServerHello). */
  encrypted = false;
  records = 0;
  /** Record header being read (5 bytes; 2 for an SSLv2 hello), then the handshake message header: one allocation. */
  private readonly headers = Buffer.alloc(9);
  readonly header = this.headers.subarray(0, 5);
  headerLength = 0;
  recordType = 0;
  recordLeft = 0;
  recordOpaque = false;
  /** SSLv2-compatible hello being collected. */
  sslv2: Buffer | null = null;
  sslv2Fill = 0;
  /** First byte of an alert split across chunks, else -1. */
  alertByte = -1;
  /** Handshake message being reassembled. */
  readonly messageHeader = this.headers.subarray(5, 9);
  messageHeaderLength = 0;
  messageType = 0;
  messageLength = 0;
  messageBody: Buffer | null = null;
  messageFill = 0;
  messageTs = 0;
  encryptedListed = 0;
  encryptedInLadder = 0;
  applicationData = 0;
  /** Ladder steps and encrypted records from the record being read: they take the packet that completes it. */
  readonly awaitingRecordEnd: Array<{ packet: number }> = [];
  /** The protected record being read is gathered whole for decryption (one buffer per direction, reused). */
  collecting = false;
  recordBody: Buffer | null = null;
  recordFill = 0;
  recordTs = 0;

  resetMessage(): void {
    this.messageHeaderLength = 0;
    this.messageBody = null;
    this.messageFill = 0;
  }
}

export class TlsAnalyzer implements StreamHandler {
  readonly serverChainDer: Buffer[] = [];
  readonly clientChainDer: Buffer[] = [];
  /** A TLS 1.3 connection's encrypted records, for the client-authentication inference (TLS 1.2 needs none). */
  readonly encryptedRecords: EncryptedRecord[] = [];
  /** The client random (the key log's index), once a ClientHello was seen. */
  clientRandom: Buffer | null = null;
  clientHello: ClientHelloInfo | null = null;
  /** The ServerHello that fixed the version (a HelloRetryRequest only when no ServerHello followed). */
  serverHello: ServerHelloInfo | null = null;
  certificateRequest: CertificateRequestInfo | null = null;
  /** The TLS 1.3 inference's conclusion, when it was asked. */
  inference: Tls13ClientAuthInference | null = null;

  private readonly dirs: [DirectionState, DirectionState] = [new DirectionState(), new DirectionState()];
  /** Number of the packet that delivered the bytes being read. */
  private packet = 0;
  private tls13 = false;
  /** The record lengths of a TLS 1.3 Finished and alert under the chosen suite (null when unknown). */
  private sizes13: ReturnType<typeof tls13RecordSizes> = null;
  private serverCertificateSeen = false;
  private serverFlightDone = false;
  /** TLS 1.3 `established` bookkeeping (see the file comment). */
  private clientRecords13 = 0;
  private clientDataAfterFirst13 = 0;
  private clientFinished13 = false;
  private clientAfterFinished13 = 0;
  private serverAfterClientFinished13 = 0;
  private serverAfterClientFirst13 = 0;
  private decryption: TlsDecryption | null = null;
  /** The HTTP analyzer of the decrypted application data, once some came. */
  private plaintext: StreamHandler | null = null;
  private plaintextOpened = false;
  /** Application data records decrypted per direction. */
  private readonly decryptedData: [number, number] = [0, 0];
  /** Handling the content of a decrypted record: its messages are parsed although the direction is encrypted. */
  private inDecrypted = false;

  constructor(
    readonly info: TlsInfo,
    private readonly options: TlsAnalyzerOptions = {},
  ) {}

  onData(dir: Direction, chunk: Buffer, ts: number, packet: number): void {
    this.packet = packet;
    const d = this.dirs[dir];
    let pos = 0;
    while (pos < chunk.length && !d.stopped) {
      if (d.sslv2) {
        const take = Math.min(d.sslv2.length - d.sslv2Fill, chunk.length - pos);
        chunk.copy(d.sslv2, d.sslv2Fill, pos, pos + take);
        d.sslv2Fill += take;
        pos += take;
        if (d.sslv2Fill === d.sslv2.length) this.sslv2Message(dir, d.sslv2, ts);
      } else if (d.recordLeft === 0) {
        pos = this.readHeader(dir, chunk, pos, ts);
      } else {
        const take = Math.min(d.recordLeft, chunk.length - pos);
        if (!d.recordOpaque) this.recordBytes(dir, chunk, pos, take, ts);
        else if (d.collecting) d.recordFill += chunk.copy(d.recordBody!, d.recordFill, pos, pos + take);
        pos += take;
        d.recordLeft -= take;
        if (d.recordLeft === 0) this.endRecord(dir, d);
      }
    }
  }

  onGap(dir: Direction, bytes: number): void {
    const d = this.dirs[dir];
    if (d.stopped) return;
    d.stopped = true;
    this.info.stopped ??= `gap in ${sideOf(dir)} stream`;
    // Record boundaries are lost with the bytes: decryption of that side cannot go on either.
    this.decryption?.stop(dir, null);
    this.plaintext?.onGap(dir, bytes);
  }

  onEnd(reason: EndReason): void {
    this.decryption?.end();
    this.dirs[0].recordBody = this.dirs[1].recordBody = null;
    if (this.options.keyLog && !this.info.decrypted && (this.dirs[0].applicationData > 0 || this.dirs[1].applicationData > 0)) {
      this.info.decrypted = { ...newDecryptionInfo(), failure: 'no handshake seen: nothing to find the session by' };
    }
    this.plaintext?.onEnd(reason);
    // Decided at the end: the TLS 1.3 rule needs to know whether a Finished-sized record came.
    this.info.established = this.isEstablished();
    if (this.serverHello && isTls13(this.serverHello.version) && this.info.clientAuthEvidence === 'unknown') {
      const inference = inferTls13ClientAuth(this.encryptedRecords, this.info.cipher);
      this.inference = inference;
      this.info.clientCertRequested = inference.clientCertRequested;
      this.info.clientCertPresented = inference.clientCertPresented;
      if (inference.clientCertRequested !== null || inference.clientCertPresented !== null) this.info.clientAuthEvidence = 'inferred';
      const alertRecord = inference.rejectedBy === null ? undefined : this.lastRecordFrom(inference.rejectedBy);
      if (alertRecord) {
        this.setAlert({ from: alertRecord.from, level: 'fatal', description: 'encrypted alert (inferred)', inClear: false, packet: alertRecord.packet });
      }
    }
  }

  // Record layer.

  private readHeader(dir: Direction, chunk: Buffer, pos: number, ts: number): number {
    const d = this.dirs[dir];
    const take = Math.min(5 - d.headerLength, chunk.length - pos);
    copyHeaderBytes(chunk, pos, take, d.header, d.headerLength);
    d.headerLength += take;
    pos += take;
    // An SSLv2-compatible hello: the first record of the stream has the high bit of its first byte set.
    if (d.records === 0 && d.headerLength >= 2 && d.header[0] & 0x80) {
      const length = ((d.header[0] & 0x7f) << 8) | d.header[1];
      if (length < 3) {
        this.stopAll('not TLS');
        return pos;
      }
      d.sslv2 = Buffer.alloc(length);
      d.sslv2Fill = Math.min(d.headerLength - 2, length);
      d.header.copy(d.sslv2, 0, 2, 2 + d.sslv2Fill);
      d.records++;
      d.headerLength = 0;
      if (d.sslv2Fill === length) this.sslv2Message(dir, d.sslv2, ts);
      return pos;
    }
    if (d.headerLength < 5) return pos;
    const type = d.header[0];
    const length = d.header.readUInt16BE(3);
    if (type < CONTENT.changeCipherSpec || type > CONTENT.heartbeat || d.header[1] !== 3) {
      this.stopAll(d.records === 0 ? 'not TLS' : 'bad record header');
      return pos;
    }
    if (length > (this.tls13 && d.encrypted ? MAX_RECORD_TLS13 : MAX_RECORD)) {
      this.stopAll('record too large');
      return pos;
    }
    d.records++;
    d.recordType = type;
    d.recordLeft = length;
    this.startRecord(dir, type, length, ts);
    if (length === 0) this.endRecord(dir, d);
    return pos;
  }

  private startRecord(dir: Direction, type: number, length: number, ts: number): void {
    const d = this.dirs[dir];
    // TLS 1.3 encrypts alerts under the outer type 23, so its type 21 records are clear; a clear
    // alert is 2 bytes, and a longer one is encrypted (a capture that starts mid-connection).
    d.recordOpaque =
      type === CONTENT.applicationData ||
      (type === CONTENT.handshake && d.encrypted) ||
      (type === CONTENT.alert && ((d.encrypted && !this.tls13) || length !== 2));
    if (d.recordOpaque) {
      d.collecting = d.encrypted && this.decryption !== null && this.decryption.wants(dir);
      if (d.collecting) {
        // Grown to the largest record seen, not the largest allowed: most connections' records are small.
        if (d.recordBody === null || d.recordBody.length < length) d.recordBody = Buffer.allocUnsafe(Math.max(length, 1024));
        d.recordFill = 0;
        d.recordTs = ts;
      } else d.resetMessage(); // decrypted messages may span records; opaque ones are not read at all
      this.opaqueRecord(dir, type, length, ts);
    } else if (type === CONTENT.changeCipherSpec) {
      this.step(dir, 'ChangeCipherSpec', length, ts);
      this.changeCipherSpec(dir);
    }
  }

  private endRecord(dir: Direction, d: DirectionState): void {
    for (const entry of d.awaitingRecordEnd) entry.packet = this.packet;
    d.awaitingRecordEnd.length = 0;
    if (d.collecting) {
      d.collecting = false;
      this.decryptRecord(dir, d.header, d.recordBody!.subarray(0, d.recordFill), d.recordTs);
    }
    d.headerLength = 0;
    d.recordType = 0;
    d.alertByte = -1;
  }

  private recordBytes(dir: Direction, chunk: Buffer, pos: number, length: number, ts: number): void {
    const d = this.dirs[dir];
    if (d.recordType === CONTENT.handshake) this.handshakeBytes(dir, chunk, pos, length, ts);
    else if (d.recordType === CONTENT.alert) {
      for (let i = pos; i < pos + length; i++) {
        if (d.alertByte < 0) d.alertByte = chunk[i];
        else {
          this.alert(dir, d.alertByte, chunk[i], ts, true);
          d.alertByte = -1;
        }
      }
    }
    // ChangeCipherSpec's single byte and heartbeats carry nothing for us.
  }

  private changeCipherSpec(dir: Direction): void {
    // In TLS 1.3 a ChangeCipherSpec is only middlebox camouflage (RFC 8446 D.4): the ServerHello
    // switched both sides already, and a client's CCS after a HelloRetryRequest precedes a clear hello.
    if (this.tls13) return;
    const d = this.dirs[dir];
    d.encrypted = true;
    d.resetMessage();
    if (dir === 1 && this.serverHello && !this.serverCertificateSeen && !this.serverFlightDone) this.info.resumed = true;
  }

  private opaqueRecord(dir: Direction, type: number, length: number, ts: number): void {
    const d = this.dirs[dir];
    if (type === CONTENT.applicationData) d.applicationData++;
    if (!d.encrypted) return;
    if (this.tls13 && d.encryptedListed < MAX_ENCRYPTED_RECORDS) {
      d.encryptedListed++;
      const record: EncryptedRecord = { from: sideOf(dir), contentType: type, length, ts, packet: this.packet };
      this.encryptedRecords.push(record);
      this.completesWithRecord(d, record);
    }
    if (d.encryptedInLadder < MAX_LADDER_ENCRYPTED) {
      d.encryptedInLadder++;
      this.step(dir, 'EncryptedRecord', length, ts);
    }
    if (this.tls13) this.countTls13(dir, length);
  }

  private countTls13(dir: Direction, length: number): void {
    const sizes = this.sizes13;
    // A record of an alert's size after the handshake is taken for an alert (close_notify), not data.
    const data = length !== sizes?.alert;
    if (dir === 0) {
      if (this.clientRecords13 > 0 && data) this.clientDataAfterFirst13++;
      this.clientRecords13++;
      if (this.clientFinished13) this.clientAfterFinished13 += data ? 1 : 0;
      else if (length === sizes?.finished) this.clientFinished13 = true;
    } else {
      if (this.clientFinished13 && data) this.serverAfterClientFinished13++;
      if (this.clientRecords13 > 0 && data) this.serverAfterClientFirst13++;
    }
  }

  private isEstablished(): boolean {
    if (!this.tls13) return this.dirs[0].applicationData > 0 && this.dirs[1].applicationData > 0;
    // Decrypted, the records say what they are: no need for the size rule.
    if (this.info.decrypted?.handshake && this.info.decrypted.failure === null) return this.decryptedData[0] > 0 && this.decryptedData[1] > 0;
    if (this.clientFinished13) return this.clientAfterFinished13 > 0 && this.serverAfterClientFinished13 > 0;
    return this.clientDataAfterFirst13 > 0 && this.serverAfterClientFirst13 > 0;
  }

  private alert(dir: Direction, level: number, description: number, ts: number, inClear: boolean): void {
    this.step(dir, 'Alert', 2, ts);
    this.setAlert({
      from: sideOf(dir),
      level: level === 1 ? 'warning' : level === 2 ? 'fatal' : 'unknown',
      description: alertName(description),
      inClear,
      ...(this.inDecrypted ? { decrypted: true } : {}),
      // The description is the last byte of its 2-byte record.
      packet: this.packet,
    });
  }

  /**
   * The record an inferred rejection was read from: the inference takes one only from an alert-sized
   * record after which its sender sent nothing (of the records it is given: data and alerts).
   */
  private lastRecordFrom(side: Side): EncryptedRecord | undefined {
    return this.encryptedRecords.findLast((r) => r.from === side && (r.contentType === CONTENT.applicationData || r.contentType === CONTENT.alert));
  }

  /** The first alert is kept, unless a fatal one follows a warning. */
  private setAlert(alert: TlsAlert): void {
    const current = this.info.alert;
    if (current === null || (current.level !== 'fatal' && alert.level === 'fatal')) this.info.alert = alert;
  }

  private stopAll(reason: string): void {
    this.info.stopped ??= reason;
    this.dirs[0].stopped = true;
    this.dirs[1].stopped = true;
  }

  private step(dir: Direction, message: string, length: number, ts: number): void {
    const ladder: HandshakeStep[] = this.info.handshake;
    if (ladder.length >= MAX_LADDER) return;
    const step: HandshakeStep = { from: sideOf(dir), message, length, ts, packet: this.packet };
    ladder.push(step);
    this.completesWithRecord(this.dirs[dir], step);
  }

  /**
   * Until the record being read ends, `entry` has the packet at hand; then the one that ended it (an
   * SSLv2 hello has no record left). Decrypted content is read once its record is whole: its packet is known.
   */
  private completesWithRecord(d: DirectionState, entry: { packet: number }): void {
    if (d.recordLeft > 0 && !this.inDecrypted) d.awaitingRecordEnd.push(entry);
  }

  // Decryption.

  private startDecryption(serverRandom: Buffer, cipher: number): void {
    const keyLog = this.options.keyLog;
    if (!keyLog || this.decryption) return;
    this.info.decrypted = newDecryptionInfo();
    this.decryption = new TlsDecryption(keyLog, this.info.decrypted, this.clientRandom, serverRandom, cipher, this.tls13, (dir, record, ts, packet) =>
      this.decrypted(dir, record, ts, packet),
    );
  }

  private decryptRecord(dir: Direction, header: Buffer, body: Buffer, ts: number): void {
    const decryption = this.decryption!;
    decryption.record(dir, header, body, ts, this.packet);
    // A record that failed authentication ends what the HTTP analyzer gets from that side.
    if (!decryption.wants(dir)) this.plaintext?.onGap(dir, body.length);
  }

  /** The content of a decrypted record, read as its real content type says. */
  private decrypted(dir: Direction, record: OpenedRecord, ts: number, packet: number): void {
    const saved = this.packet;
    this.packet = packet;
    this.inDecrypted = true;
    const content = record.content;
    switch (record.type) {
      case CONTENT.handshake:
        this.handshakeBytes(dir, content, 0, content.length, ts);
        break;
      case CONTENT.alert:
        for (let i = 0; i + 1 < content.length; i += 2) this.alert(dir, content[i], content[i + 1], ts, false);
        break;
      case CONTENT.applicationData:
        this.applicationData(dir, content, ts, packet);
        break;
      case CONTENT.changeCipherSpec:
        // An encrypted ChangeCipherSpec ends a TLS 1.2 renegotiation: its new keys are not derived here.
        this.decryption!.stop(dir, `${sideOf(dir)} renegotiated: records after the new ChangeCipherSpec are not decrypted`);
        break;
    }
    this.inDecrypted = false;
    this.packet = saved;
  }

  private applicationData(dir: Direction, content: Buffer, ts: number, packet: number): void {
    this.info.decrypted!.applicationData = true;
    this.decryptedData[dir]++;
    if (!this.plaintextOpened) {
      this.plaintextOpened = true;
      this.plaintext = this.options.openPlaintext?.() ?? null;
    }
    if (content.length > 0) this.plaintext?.onData(dir, content, ts, packet);
  }

  // Handshake messages.

  private handshakeBytes(dir: Direction, chunk: Buffer, pos: number, length: number, ts: number): void {
    const d = this.dirs[dir];
    const end = pos + length;
    while (pos < end && !d.stopped && (!d.encrypted || this.inDecrypted)) {
      if (d.messageHeaderLength < 4) {
        if (d.messageHeaderLength === 0) d.messageTs = ts;
        const take = Math.min(4 - d.messageHeaderLength, end - pos);
        copyHeaderBytes(chunk, pos, take, d.messageHeader, d.messageHeaderLength);
        d.messageHeaderLength += take;
        pos += take;
        if (d.messageHeaderLength < 4) break;
        d.messageType = d.messageHeader[0];
        d.messageLength = d.messageHeader.readUIntBE(1, 3);
        d.messageFill = 0;
        if (d.messageLength <= end - pos) {
          // The whole message is in this chunk: parse it in place (handlers copy what they keep).
          this.message(dir, d.messageType, chunk.subarray(pos, pos + d.messageLength), d.messageTs);
          pos += d.messageLength;
          d.resetMessage();
        } else if (d.messageLength <= MAX_MESSAGE) d.messageBody = Buffer.allocUnsafe(d.messageLength);
        continue;
      }
      const take = Math.min(d.messageLength - d.messageFill, end - pos);
      if (d.messageBody) chunk.copy(d.messageBody, d.messageFill, pos, pos + take);
      d.messageFill += take;
      pos += take;
      if (d.messageFill === d.messageLength) {
        if (d.messageBody) this.message(dir, d.messageType, d.messageBody, d.messageTs);
        else this.skippedMessage(dir, d.messageType, d.messageLength, d.messageTs);
        d.resetMessage();
      }
    }
  }

  private message(dir: Direction, type: number, body: Buffer, ts: number): void {
    if (this.inDecrypted) return this.decryptedMessage(dir, type, body, ts);
    if (type === HS.serverHello && dir === 1) return this.onServerHello(body, ts);
    this.step(dir, handshakeName(type), body.length, ts);
    if (dir === 0) {
      if (type === HS.clientHello) this.onClientHello(parseClientHello(body));
      else if (type === HS.certificate) this.onClientCertificate(body, 'observed');
      else if (type === HS.clientKeyExchange && this.info.clientCertRequested && this.info.clientCertPresented === null) {
        // Asked for a certificate, the client went on without one (SSLv3 clients send no empty Certificate).
        this.info.clientCertPresented = false;
      }
      return;
    }
    if (type === HS.certificate) {
      this.serverCertificateSeen = true;
      if (this.serverChainDer.length === 0) this.collectChain(body, this.serverChainDer);
    } else if (type === HS.certificateRequest) this.onCertificateRequest(body, 'observed');
    else if (type === HS.serverHelloDone) {
      this.serverFlightDone = true;
      if (this.info.clientCertRequested === null) {
        this.info.clientCertRequested = false;
        this.info.clientCertPresented = false;
        this.info.clientAuthEvidence = 'observed';
      }
    }
  }

  /**
   * A handshake message read from a decrypted record: TLS 1.3's encrypted flight (its Certificate and
   * CertificateRequest formats differ from TLS 1.2's), a TLS 1.2 Finished, post-handshake messages.
   * Hellos inside the channel (a TLS 1.2 renegotiation) are only listed.
   */
  private decryptedMessage(dir: Direction, type: number, body: Buffer, ts: number): void {
    this.step(dir, handshakeName(type), body.length, ts);
    this.info.decrypted!.handshake = true;
    const decryption = this.decryption!;
    switch (type) {
      case HS.encryptedExtensions:
        // TLS 1.3 moved the server's ALPN choice here; it decides how the application data is read.
        if (dir === 1) this.info.alpn ??= parseEncryptedExtensions(body).alpn;
        break;
      case HS.certificate:
        if (dir === 0) this.onClientCertificate(body, 'decrypted');
        else {
          this.serverCertificateSeen = true;
          if (this.serverChainDer.length === 0) this.collectChain(body, this.serverChainDer);
        }
        break;
      case HS.certificateRequest:
        if (dir === 1) this.onCertificateRequest(body, 'decrypted');
        break;
      case HS.finished:
        if (!this.tls13) break;
        // TLS 1.3: a server that wants a certificate asks before its Finished, and a client asked answers
        // before its own (RFC 8446 §4.4.2). A resumption (PSK) cannot ask: its client authentication is
        // the resumed session's, which this connection does not show.
        if (dir === 1 && this.info.clientCertRequested === null && !this.info.resumed) this.clientAuth(false, false, 'decrypted');
        if (dir === 0 && this.info.clientCertRequested && this.info.clientCertPresented === null) this.clientAuth(true, false, 'decrypted');
        decryption.finished(dir);
        break;
      case HS.keyUpdate:
        decryption.keyUpdate(dir);
        break;
    }
  }

  private clientAuth(requested: boolean, presented: boolean | null, evidence: Evidence): void {
    this.info.clientCertRequested = requested;
    this.info.clientCertPresented = presented;
    this.info.clientAuthEvidence = evidence;
  }

  /** A message over the budget: in the ladder, and what its type alone tells (a certificate too large to keep is still one). */
  private skippedMessage(dir: Direction, type: number, length: number, ts: number): void {
    this.step(dir, handshakeName(type), length, ts);
    if (type !== HS.certificate) return;
    if (dir === 1) this.serverCertificateSeen = true;
    else {
      this.info.clientCertPresented = true;
      this.info.clientAuthEvidence = 'observed';
    }
  }

  private onClientHello(hello: ClientHelloInfo | null): void {
    if (!hello || this.clientHello) return;
    this.clientHello = hello;
    this.clientRandom = hello.random;
    this.info.clientVersion = versionName(hello.highestVersion);
    this.info.sni = hello.sni;
    this.info.alpnOffered = hello.alpn.map((p) => p.toString('utf8'));
    if (!hello.sslv2) this.info.ja4 = ja4(hello);
  }

  private onServerHello(body: Buffer, ts: number): void {
    const hello = parseServerHello(body);
    this.step(1, hello?.helloRetryRequest ? 'HelloRetryRequest' : 'ServerHello', body.length, ts);
    if (!hello) return;
    this.info.version = versionName(hello.version);
    this.info.cipher = cipherName(hello.cipher);
    this.tls13 = isTls13(hello.version);
    if (hello.helloRetryRequest) {
      this.info.helloRetryRequest = true;
      this.serverHello ??= hello;
      return;
    }
    this.serverHello = hello;
    this.sizes13 = tls13RecordSizes(hello.cipher);
    this.info.alpn = hello.alpn;
    this.startDecryption(hello.random, hello.cipher);
    if (this.tls13) {
      this.info.resumed = hello.preSharedKey;
      // Everything after the TLS 1.3 ServerHello is encrypted, in both directions.
      this.dirs[0].encrypted = true;
      this.dirs[1].encrypted = true;
      this.dirs[0].resetMessage();
    } else {
      const offered = this.clientHello?.sessionId;
      if (offered && offered.length > 0 && offered.equals(hello.sessionId)) this.info.resumed = true;
    }
  }

  private onClientCertificate(body: Buffer, evidence: Evidence): void {
    const listed = this.clientChainDer.length === 0 ? this.collectChain(body, this.clientChainDer) : 0;
    this.info.clientCertPresented = listed > 0 || this.clientChainDer.length > 0;
    this.info.clientAuthEvidence = evidence;
  }

  /**
   * Keeps the DER certificates of a Certificate message, within budget; returns the length of its
   * list. TLS 1.3 adds a request context before the list and extensions after each certificate.
   */
  private collectChain(body: Buffer, into: Buffer[]): number {
    const r = new Reader(body, 0, body.length);
    if (this.tls13) r.bytes(r.u8());
    const listed = r.u24();
    const list = r.sub(listed);
    let bytes = 0;
    while (list.left >= 3 && into.length < MAX_CHAIN_CERTS) {
      const der = list.bytes(list.u24());
      if (this.tls13) list.bytes(list.u16());
      if (list.bad || der.length === 0 || bytes + der.length > MAX_CHAIN_BYTES) break;
      bytes += der.length;
      into.push(Buffer.from(der));
    }
    return listed;
  }

  private onCertificateRequest(body: Buffer, evidence: Evidence): void {
    this.info.clientCertRequested = true;
    this.info.clientAuthEvidence = evidence;
    const r = new Reader(body, 0, body.length);
    const signatureAlgorithms: number[] = [];
    const readAlgorithms = (from: Reader) => {
      const algs = from.sub(from.u16());
      while (algs.left >= 2) signatureAlgorithms.push(algs.u16());
    };
    if (this.tls13) {
      // TLS 1.3 (§4.3.2): a request context, then extensions carrying what TLS 1.2 had as fields.
      r.bytes(r.u8());
      const extensions = r.sub(r.u16());
      while (extensions.left >= 4) {
        const type = extensions.u16();
        const data = extensions.sub(extensions.u16());
        if (type === EXT_SIGNATURE_ALGORITHMS) readAlgorithms(data);
        else if (type === EXT_CERTIFICATE_AUTHORITIES) this.readCaNames(data);
      }
      this.certificateRequest = { certificateTypes: [], signatureAlgorithms };
      return;
    }
    const certificateTypes = [...r.bytes(r.u8())];
    if (this.serverHello?.version === 0x0303) readAlgorithms(r);
    this.certificateRequest = { certificateTypes, signatureAlgorithms };
    this.readCaNames(r);
  }

  /** A list of distinguished names (certificate_authorities) into `requestedCAs`. */
  private readCaNames(r: Reader): void {
    const names = r.sub(r.u16());
    while (names.left >= 2) {
      const der = names.bytes(names.u16());
      const name = names.bad ? null : formatDistinguishedName(der);
      if (name !== null) this.info.requestedCAs.push(name);
    }
  }

  private sslv2Message(dir: Direction, msg: Buffer, ts: number): void {
    this.dirs[dir].sslv2 = null;
    this.step(dir, dir === 0 ? 'ClientHello' : 'SSLv2', msg.length, ts);
    if (dir === 0) {
      const hello = parseSslv2ClientHello(msg);
      if (!hello) return this.stopAll('not TLS');
      this.onClientHello(hello);
    } else {
      // A server that answers in SSLv2: nothing further is parsed.
      this.info.version = 'SSLv2';
      this.stopAll('SSLv2');
    }
  }
}

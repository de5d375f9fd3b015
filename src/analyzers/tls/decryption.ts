/**
 * Decryption of one TLS connection's protected records with secrets from a key log.
 *
 * The TLS analyzer hands over every protected record of a direction (TLS 1.3: all after the
 * ServerHello; TLS ≤ 1.2: after that side's ChangeCipherSpec) and gets back each opened record,
 * in order, through `deliver`. What it reads there drives the key schedule: a TLS 1.3 Finished
 * switches its sender to the application traffic secret, a KeyUpdate to the next one.
 *
 * Keys that come late (a live capture reads the key log while the client is still writing it):
 * records are held, in arrival order, until the session's secrets are in the key log — looked up
 * again at every record and at the flow's end — at most HOLD_BYTES per flow. Past that, or at the
 * end, the flow gives up with a failure that says so, and its records stay opaque.
 *
 * A record that does not authenticate stops its direction for good: the sequence numbers are
 * lost, and nothing after it is guessed (the other direction goes on).
 */
import type { Direction } from '../../model/flow.js';
import type { TlsDecryptionInfo } from '../../model/protocol.js';
import type { KeyLog, SessionSecrets } from './keylog.js';
import { cipherName } from './names.js';
import { cipherSpec, nextTrafficSecret, openRecord, tls12TrafficKeys, tls13TrafficKey, type CipherSpec, type OpenedRecord, type TrafficKey } from './record-crypto.js';

/** Bytes of records held per flow while its secrets are not in the key log (handshake and first requests fit). */
export const HOLD_BYTES = 128 * 1024;

const sideName = (dir: Direction): string => (dir === 0 ? 'client' : 'server');

export function newDecryptionInfo(): TlsDecryptionInfo {
  return { handshake: false, applicationData: false, failure: null };
}

interface HeldRecord {
  dir: Direction;
  header: Buffer;
  body: Buffer;
  ts: number;
  packet: number;
}

export type DeliverRecord = (dir: Direction, record: OpenedRecord, ts: number, packet: number) => void;

export class TlsDecryption {
  private readonly spec: CipherSpec | null;
  private session: SessionSecrets | undefined;
  private readonly keys: [TrafficKey | null, TrafficKey | null] = [null, null];
  /** TLS 1.3: the traffic secret each direction's key came from (a KeyUpdate derives the next). */
  private readonly secrets: [Buffer | null, Buffer | null] = [null, null];
  private readonly stopped: [boolean, boolean] = [false, false];
  private readonly recordsOpened: [number, number] = [0, 0];
  private held: HeldRecord[] = [];
  private heldBytes = 0;
  private gaveUp = false;

  constructor(
    private readonly keyLog: KeyLog,
    readonly status: TlsDecryptionInfo,
    private readonly clientRandom: Buffer | null,
    private readonly serverRandom: Buffer,
    cipher: number,
    private readonly tls13: boolean,
    private readonly deliver: DeliverRecord,
  ) {
    this.spec = cipherSpec(cipher);
    if (clientRandom === null) this.giveUp('no ClientHello seen: the client random that indexes the key log is unknown');
    else if (this.spec === null) this.giveUp(`cipher suite ${cipherName(cipher)} is not decrypted (AEAD suites only)`);
  }

  /** Whether records of `dir` are still worth gathering (not given up, not stopped). */
  wants(dir: Direction): boolean {
    return !this.gaveUp && !this.stopped[dir];
  }

  /** A protected record of `dir`; `header` and `body` may point into reused buffers. */
  record(dir: Direction, header: Buffer, body: Buffer, ts: number, packet: number): void {
    if (this.gaveUp || this.stopped[dir]) return;
    if (this.keys[0] === null && this.keys[1] === null && !this.findKeys()) {
      this.hold({ dir, header: Buffer.from(header), body: Buffer.from(body), ts, packet });
      return;
    }
    this.open(dir, header, body, ts, packet);
  }

  /** TLS 1.3: `dir` sent its Finished; what follows is protected by its application traffic secret. */
  finished(dir: Direction): void {
    if (!this.tls13 || this.spec === null || this.stopped[dir]) return;
    const secret = dir === 0 ? this.session?.clientTrafficSecret0 : this.session?.serverTrafficSecret0;
    if (!secret) return this.stop(dir, `no ${dir === 0 ? 'CLIENT' : 'SERVER'}_TRAFFIC_SECRET_0 in the key log: ${sideName(dir)} application data not decrypted`);
    this.useSecret(dir, secret);
  }

  /** TLS 1.3: `dir` sent a KeyUpdate; its next records use the next traffic secret. */
  keyUpdate(dir: Direction): void {
    const secret = this.secrets[dir];
    if (!this.tls13 || this.spec === null || secret === null || this.stopped[dir]) return;
    this.useSecret(dir, nextTrafficSecret(this.spec, secret));
  }

  /** A direction's records can no longer be followed (a gap, a renegotiation): decryption of it stops. */
  stop(dir: Direction, reason: string | null): void {
    if (this.stopped[dir]) return;
    this.stopped[dir] = true;
    if (reason !== null) this.status.failure ??= reason;
  }

  /** The flow ended: one last look in the key log, for records still held or a session never found. */
  end(): void {
    if (this.gaveUp || this.keys[0] !== null || this.keys[1] !== null) return;
    if (!this.findKeys()) this.giveUp('no secrets for this client random in the key log');
  }

  private open(dir: Direction, header: Buffer, body: Buffer, ts: number, packet: number): void {
    const key = this.keys[dir];
    if (key === null) return;
    const opened = openRecord(key, header, body);
    if (opened === null) {
      return this.stop(dir, `${sideName(dir)} record ${this.recordsOpened[dir] + 1} (packet ${packet}) failed authentication: ${sideName(dir)} decryption stopped`);
    }
    this.recordsOpened[dir]++;
    this.deliver(dir, opened, ts, packet);
  }

  /** Looks the session up (again); on success derives the first keys and opens what was held. */
  private findKeys(): boolean {
    if (this.gaveUp || this.clientRandom === null || this.spec === null) return false;
    const session = this.keyLog.lookup(this.clientRandom);
    if (!session) return false;
    if (this.tls13) {
      if (!session.clientHandshakeTrafficSecret || !session.serverHandshakeTrafficSecret) return false;
      this.session = session;
      this.useSecret(0, session.clientHandshakeTrafficSecret);
      this.useSecret(1, session.serverHandshakeTrafficSecret);
    } else {
      if (!session.masterSecret) return false;
      this.session = session;
      [this.keys[0], this.keys[1]] = tls12TrafficKeys(this.spec, session.masterSecret, this.clientRandom, this.serverRandom);
    }
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const r of held) if (!this.stopped[r.dir]) this.open(r.dir, r.header, r.body, r.ts, r.packet);
    return true;
  }

  private useSecret(dir: Direction, secret: Buffer): void {
    this.secrets[dir] = secret;
    this.keys[dir] = tls13TrafficKey(this.spec!, secret);
  }

  private hold(record: HeldRecord): void {
    this.heldBytes += record.body.length + record.header.length;
    if (this.heldBytes > HOLD_BYTES) return this.giveUp(`no secrets for this client random in the key log within ${HOLD_BYTES / 1024} KiB of records`);
    this.held.push(record);
  }

  private giveUp(reason: string): void {
    this.gaveUp = true;
    this.held = [];
    this.heldBytes = 0;
    this.status.failure ??= reason;
  }
}

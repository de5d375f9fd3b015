/**
 * The NSS key log (SSLKEYLOGFILE, as curl, Firefox, Node's `keylog` event and Go's KeyLogWriter
 * write it): one secret per line, `LABEL <client random hex> <secret hex>`, indexed by client
 * random. TLS ≤ 1.2 sessions log `CLIENT_RANDOM` (the 48-byte master secret); TLS 1.3 sessions log
 * their traffic secrets.
 *
 * The store grows while it is read: `addKeyLog` takes whole text, `feed` takes appended bytes of a
 * file another process is still writing (a line is used once its newline arrives), and
 * `addSecrets` takes a pcapng Decryption Secrets Block. Flows look their session up by client
 * random whenever they need it, so secrets that come late still serve (see TlsDecryption).
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { KwireError } from '../../model/errors.js';

/** pcapng Decryption Secrets Block type of a TLS key log ('TLSK'). */
export const TLS_KEY_LOG_SECRETS = 0x544c534b;

/** The secrets of one session, as far as the key log has told them. */
export interface SessionSecrets {
  /** TLS ≤ 1.2: the master secret (CLIENT_RANDOM). */
  masterSecret: Buffer | null;
  clientHandshakeTrafficSecret: Buffer | null;
  serverHandshakeTrafficSecret: Buffer | null;
  clientTrafficSecret0: Buffer | null;
  serverTrafficSecret0: Buffer | null;
}

const LABELS: Record<string, keyof SessionSecrets> = {
  CLIENT_RANDOM: 'masterSecret',
  CLIENT_HANDSHAKE_TRAFFIC_SECRET: 'clientHandshakeTrafficSecret',
  SERVER_HANDSHAKE_TRAFFIC_SECRET: 'serverHandshakeTrafficSecret',
  CLIENT_TRAFFIC_SECRET_0: 'clientTrafficSecret0',
  SERVER_TRAFFIC_SECRET_0: 'serverTrafficSecret0',
};
/** Labels of the format that decryption has no use for (0-RTT data and exporters): accepted, not counted as bad. */
const UNUSED_LABELS = new Set(['CLIENT_EARLY_TRAFFIC_SECRET', 'EARLY_EXPORTER_SECRET', 'EXPORTER_SECRET', 'RSA']);

const HEX = /^[0-9a-fA-F]+$/;
/** A line longer than this is not a key log line (the longest is 7 + 64 + 96 hex digits and two spaces). */
const MAX_LINE = 1024;

export class KeyLog {
  /** Lines that gave a secret. */
  secrets = 0;
  /** Lines that are not key log lines (wrong field count, bad hex, wrong lengths): skipped. */
  badLines = 0;
  private readonly sessions = new Map<string, SessionSecrets>();
  /** The unfinished last line of what `feed` was given. */
  private partial = '';
  /**
   * A key log was named (`--keylog`): flows try decryption and report why it failed even while the
   * store is empty (a live key log not yet written). Without it, an empty store (a capture without
   * secrets) leaves TLS flows as they are.
   */
  expectSecrets = false;

  /** Sessions known. */
  get size(): number {
    return this.sessions.size;
  }

  /** Whether flows should try to decrypt. */
  get active(): boolean {
    return this.expectSecrets || this.sessions.size > 0;
  }

  /** Whole key log text: every line, the last one even without a newline. */
  addKeyLog(text: string): void {
    for (const line of text.split('\n')) this.addLine(line);
  }

  /** Bytes appended to a key log being written: complete lines now, the rest when its newline comes. */
  feed(bytes: Buffer): void {
    const text = this.partial + bytes.toString('latin1');
    const end = text.lastIndexOf('\n');
    if (end < 0) {
      this.partial = text.length > MAX_LINE ? '' : text;
      if (text.length > MAX_LINE) this.badLines++;
      return;
    }
    this.partial = text.slice(end + 1);
    this.addKeyLog(text.slice(0, end));
  }

  /** A pcapng Decryption Secrets Block; returns whether it was a TLS key log. */
  addSecrets(type: number, data: Buffer): boolean {
    if (type !== TLS_KEY_LOG_SECRETS) return false;
    this.addKeyLog(data.toString('latin1'));
    return true;
  }

  /** What the key log holds for the session of this client random, if anything. */
  lookup(clientRandom: Buffer): SessionSecrets | undefined {
    return this.sessions.get(clientRandom.toString('hex'));
  }

  private addLine(raw: string): void {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    if (fields.length !== 3 || line.length > MAX_LINE) {
      this.badLines++;
      return;
    }
    const [label, random, secret] = fields;
    const field = LABELS[label];
    if (field === undefined) {
      if (!UNUSED_LABELS.has(label)) this.badLines++;
      return;
    }
    // Master secrets are 48 bytes; traffic secrets the suite hash's 32 or 48.
    const lengthOk = field === 'masterSecret' ? secret.length === 96 : secret.length === 64 || secret.length === 96;
    if (random.length !== 64 || !HEX.test(random) || !lengthOk || !HEX.test(secret)) {
      this.badLines++;
      return;
    }
    const key = random.toLowerCase();
    let session = this.sessions.get(key);
    if (!session) {
      session = { masterSecret: null, clientHandshakeTrafficSecret: null, serverHandshakeTrafficSecret: null, clientTrafficSecret0: null, serverTrafficSecret0: null };
      this.sessions.set(key, session);
    }
    session[field] = Buffer.from(secret, 'hex');
    this.secrets++;
  }
}

/** Reads a key log file whole into `into` (a new store by default); a missing or unreadable file is a KwireError naming it. */
export function loadKeyLogFile(path: string, into: KeyLog = new KeyLog()): KeyLog {
  const follower = new KeyLogFile(path, into);
  follower.readNew();
  follower.finish();
  return into;
}

/**
 * A key log file that another process may still be writing (live capture): `readNew` reads what
 * was appended since the last call and feeds it to the store; a file that shrank was rewritten,
 * and is read again from its start.
 */
export class KeyLogFile {
  private offset = 0;

  constructor(
    readonly path: string,
    readonly keyLog: KeyLog,
  ) {
    keyLog.expectSecrets = true;
  }

  /** Reads the bytes appended since the last call; returns how many. Throws a KwireError naming the file if it cannot be read. */
  readNew(): number {
    let fd: number;
    try {
      if (statSync(this.path).isDirectory()) throw new KwireError('KEYLOG_UNREADABLE', `${this.path}: is a directory, not a key log file`);
      fd = openSync(this.path, 'r');
    } catch (error) {
      if (error instanceof KwireError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new KwireError('KEYLOG_NOT_FOUND', `${this.path}: key log file not found`);
      throw new KwireError('KEYLOG_UNREADABLE', `${this.path}: cannot read key log file (${code ?? String(error)})`);
    }
    try {
      const size = statSync(this.path).size;
      if (size < this.offset) this.offset = 0;
      let total = 0;
      const buffer = Buffer.allocUnsafe(64 * 1024);
      for (;;) {
        const n = readSync(fd, buffer, 0, buffer.length, this.offset);
        if (n <= 0) break;
        this.keyLog.feed(buffer.subarray(0, n));
        this.offset += n;
        total += n;
      }
      return total;
    } finally {
      closeSync(fd);
    }
  }

  /** The file is complete: a last line without its newline is used too. */
  finish(): void {
    this.keyLog.feed(Buffer.from('\n'));
  }
}

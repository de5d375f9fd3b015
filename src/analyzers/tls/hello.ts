/**
 * ClientHello and ServerHello bodies (the handshake message without its 4-byte header), and the
 * SSLv2-compatible ClientHello. Pure functions over a buffer; a malformed hello gives null.
 */
import { createHash } from 'node:crypto';
import { isGrease, versionRank } from './names.js';

/** Bounds-checked big-endian reads: a read past the end sets `bad` and returns 0, so parsers never throw. */
export class Reader {
  bad = false;
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
  ) {}

  private take(n: number): number {
    if (this.pos + n > this.end) {
      this.bad = true;
      this.pos = this.end;
      return -1;
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }
  u8(): number {
    const at = this.take(1);
    return at < 0 ? 0 : this.buf[at];
  }
  u16(): number {
    const at = this.take(2);
    return at < 0 ? 0 : this.buf.readUInt16BE(at);
  }
  u24(): number {
    const at = this.take(3);
    return at < 0 ? 0 : this.buf.readUIntBE(at, 3);
  }
  bytes(n: number): Buffer {
    const at = this.take(n);
    return at < 0 ? this.buf.subarray(0, 0) : this.buf.subarray(at, at + n);
  }
  /** A sub-reader over the next `n` bytes (a length-prefixed vector), skipping them here. */
  sub(n: number): Reader {
    const at = this.take(n);
    return at < 0 ? new Reader(this.buf, 0, 0) : new Reader(this.buf, at, at + n);
  }
  get left(): number {
    return this.end - this.pos;
  }
}

export const EXT = {
  serverName: 0,
  supportedGroups: 10,
  signatureAlgorithms: 13,
  alpn: 16,
  sessionTicket: 35,
  keyShareDraft: 40,
  preSharedKey: 41,
  earlyData: 42,
  supportedVersions: 43,
  keyShare: 51,
} as const;

export interface ClientHelloInfo {
  /** `legacy_version` (or the SSLv2 hello's version). */
  legacyVersion: number;
  /** The highest version offered (supported_versions, else legacy_version). */
  highestVersion: number;
  random: Buffer;
  sessionId: Buffer;
  /** In order, GREASE included (JA4 filters it). SSLv2 specs that map to TLS suites only. */
  ciphers: number[];
  compression: number[];
  /** Extension types in order, GREASE included. */
  extensions: number[];
  sni: string | null;
  /** ALPN protocol names as raw bytes (JA4 reads the first one's bytes). */
  alpn: Buffer[];
  supportedVersions: number[];
  signatureAlgorithms: number[];
  supportedGroups: number[];
  keyShareGroups: number[];
  preSharedKey: boolean;
  earlyData: boolean;
  /** session_ticket present and non-empty: the client offers a ticket for resumption. */
  sessionTicket: boolean;
  /** SSLv2-compatible hello (RFC 5246 appendix E.2). */
  sslv2: boolean;
}

export interface ServerHelloInfo {
  legacyVersion: number;
  /** The negotiated version: supported_versions when present, else legacy_version. */
  version: number;
  random: Buffer;
  sessionId: Buffer;
  cipher: number;
  extensions: number[];
  alpn: string | null;
  preSharedKey: boolean;
  helloRetryRequest: boolean;
}

/** SHA-256("HelloRetryRequest"): the random of a HelloRetryRequest (RFC 8446 §4.1.3). */
const HRR_RANDOM = createHash('sha256').update('HelloRetryRequest').digest();

function u16List(r: Reader, lengthBytes: 1 | 2): number[] {
  const v = r.sub(lengthBytes === 1 ? r.u8() : r.u16());
  const out: number[] = [];
  while (v.left >= 2) out.push(v.u16());
  return out;
}

function copy(b: Buffer): Buffer {
  return Buffer.from(b);
}

export function parseClientHello(body: Buffer): ClientHelloInfo | null {
  const r = new Reader(body, 0, body.length);
  const legacyVersion = r.u16();
  const random = copy(r.bytes(32));
  const sessionId = copy(r.bytes(r.u8()));
  const ciphers = u16List(r, 2);
  const compression = [...r.bytes(r.u8())];
  if (r.bad) return null;
  const hello = newClientHello(legacyVersion, random, sessionId, ciphers, compression, false);
  readExtensions(r, hello.extensions, (type, data) => readClientExtension(hello, type, data));
  hello.highestVersion = highest(hello.supportedVersions) ?? legacyVersion;
  return hello;
}

function readClientExtension(hello: ClientHelloInfo, type: number, data: Reader): void {
  switch (type) {
    case EXT.serverName: {
      const list = data.sub(data.u16());
      while (list.left >= 3 && hello.sni === null) {
        const kind = list.u8();
        const name = list.bytes(list.u16());
        if (kind === 0 && !list.bad) hello.sni = name.toString('utf8');
      }
      break;
    }
    case EXT.alpn: {
      const list = data.sub(data.u16());
      while (list.left >= 1) {
        const proto = list.bytes(list.u8());
        if (!list.bad) hello.alpn.push(copy(proto));
      }
      break;
    }
    case EXT.supportedVersions:
      hello.supportedVersions = u16List(data, 1);
      break;
    case EXT.signatureAlgorithms:
      hello.signatureAlgorithms = u16List(data, 2);
      break;
    case EXT.supportedGroups:
      hello.supportedGroups = u16List(data, 2);
      break;
    case EXT.keyShare:
    case EXT.keyShareDraft: {
      const list = data.sub(data.u16());
      while (list.left >= 4) {
        hello.keyShareGroups.push(list.u16());
        list.bytes(list.u16());
      }
      break;
    }
    case EXT.preSharedKey:
      hello.preSharedKey = true;
      break;
    case EXT.earlyData:
      hello.earlyData = true;
      break;
    case EXT.sessionTicket:
      hello.sessionTicket = data.left > 0;
      break;
  }
}

function highest(versions: number[]): number | null {
  let best: number | null = null;
  for (const v of versions) {
    if (isGrease(v)) continue;
    if (best === null || versionRank(v) > versionRank(best)) best = v;
  }
  return best;
}

/**
 * SSLv2-compatible ClientHello (RFC 5246 E.2), given the message after its 2-byte record header:
 * msg_type 1, version, cipher_spec_length, session_id_length, challenge_length, then the specs
 * (3 bytes each; those of the form 00 xx yy are TLS suites), session id and challenge.
 */
export function parseSslv2ClientHello(msg: Buffer): ClientHelloInfo | null {
  const r = new Reader(msg, 0, msg.length);
  if (r.u8() !== 1) return null;
  const legacyVersion = r.u16();
  const specLength = r.u16();
  const sessionIdLength = r.u16();
  const challengeLength = r.u16();
  const specs = r.sub(specLength);
  const sessionId = copy(r.bytes(sessionIdLength));
  const challenge = r.bytes(challengeLength);
  if (r.bad || specLength % 3 !== 0 || challengeLength < 16 || challengeLength > 32) return null;
  const ciphers: number[] = [];
  while (specs.left >= 3) {
    const high = specs.u8();
    const code = specs.u16();
    if (high === 0) ciphers.push(code);
  }
  // The TLS client random is the challenge right-aligned in 32 bytes (E.2).
  const random = Buffer.alloc(32);
  challenge.copy(random, 32 - challenge.length);
  return newClientHello(legacyVersion, random, sessionId, ciphers, [0], true);
}

/** A ClientHello before its extensions are read (an SSLv2-compatible hello has none). */
function newClientHello(legacyVersion: number, random: Buffer, sessionId: Buffer, ciphers: number[], compression: number[], sslv2: boolean): ClientHelloInfo {
  return {
    legacyVersion,
    highestVersion: legacyVersion,
    random,
    sessionId,
    ciphers,
    compression,
    extensions: [],
    sni: null,
    alpn: [],
    supportedVersions: [],
    signatureAlgorithms: [],
    supportedGroups: [],
    keyShareGroups: [],
    preSharedKey: false,
    earlyData: false,
    sessionTicket: false,
    sslv2,
  };
}

export function parseServerHello(body: Buffer): ServerHelloInfo | null {
  const r = new Reader(body, 0, body.length);
  const legacyVersion = r.u16();
  const random = copy(r.bytes(32));
  // TLS 1.3 drafts before 22 had no session id and no compression method in the ServerHello.
  const draftLayout = legacyVersion >> 8 === 0x7f && (legacyVersion & 0xff) < 22;
  const sessionId = draftLayout ? Buffer.alloc(0) : copy(r.bytes(r.u8()));
  const cipher = r.u16();
  if (!draftLayout) r.u8();
  if (r.bad) return null;
  const hello: ServerHelloInfo = {
    legacyVersion,
    version: legacyVersion,
    random,
    sessionId,
    cipher,
    extensions: [],
    alpn: null,
    preSharedKey: false,
    helloRetryRequest: random.equals(HRR_RANDOM),
  };
  readExtensions(r, hello.extensions, (type, data) => {
    if (type === EXT.supportedVersions && data.left >= 2) hello.version = data.u16();
    else if (type === EXT.preSharedKey) hello.preSharedKey = true;
    else if (type === EXT.alpn) hello.alpn = chosenProtocol(data);
  });
  return hello;
}

/** The protocol a server chose: an ALPN list of one (RFC 7301 §3.1). */
function chosenProtocol(data: Reader): string | null {
  const list = data.sub(data.u16());
  const proto = list.bytes(list.u8());
  return list.bad ? null : proto.toString('utf8');
}

/** A TLS 1.3 EncryptedExtensions body (RFC 8446 §4.3.1): where the server's ALPN choice travels. */
export function parseEncryptedExtensions(body: Buffer): { alpn: string | null } {
  const result: { alpn: string | null } = { alpn: null };
  readExtensions(new Reader(body, 0, body.length), [], (type, data) => {
    if (type === EXT.alpn) result.alpn = chosenProtocol(data);
  });
  return result;
}

/** Walks a hello's extensions block (if any): records each type in `types`, hands its data to `read`. */
function readExtensions(r: Reader, types: number[], read: (type: number, data: Reader) => void): void {
  if (r.left < 2) return;
  const extensions = r.sub(r.u16());
  while (extensions.left >= 4) {
    const type = extensions.u16();
    const data = extensions.sub(extensions.u16());
    types.push(type);
    read(type, data);
  }
}

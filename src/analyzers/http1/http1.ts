/**
 * HTTP/1.x over a flow's two ordered byte streams, as a push parser in llhttp's manner: heads are
 * gathered line by line under hard limits, bodies (Content-Length, chunked, to EOF) are counted
 * and skipped, never buffered. Responses pair with requests in order (pipelining, keep-alive).
 *
 * After an Upgrade request the client side waits, holding at most MAX_SWITCH_HOLD bytes, until the
 * response decides: 101 ends HTTP (for `h2c` the connection is handed to an Http2Analyzer: the
 * server's bytes after the 101 and the client's held bytes are its first input), anything else
 * resumes parsing where the client left off. CONNECT is treated the same way.
 */
import type { Direction, EndReason, StreamHandler } from '../../model/flow.js';
import type { CredentialInfo, HttpInfo, HttpRequestInfo } from '../../model/protocol.js';
import { Http2Analyzer } from '../http2/http2.js';
import { authorizationCredential, redact, scanCredentials, type AuthKind } from './credentials.js';
import { k8sShape } from './k8s-urls.js';

/** A head (start line and headers) or a trailer block above this is a violation. */
const MAX_HEAD = 64 * 1024;
/** Bytes of heads, chunk-size lines and resynchronisation looked at per direction. */
const MAX_INSPECT = 256 * 1024;
export const MAX_REQUESTS = 1000;
/** Requests awaiting a response: beyond this the server side stops. */
const MAX_OUTSTANDING = 1024;
const MAX_CHUNK_LINE = 4096;
/** Client bytes held while an Upgrade or CONNECT waits for its response. */
const MAX_SWITCH_HOLD = 64 * 1024;
/** Longest value kept from a header (upgrade, stream protocol). */
const MAX_VALUE = 256;

const REQUEST_LINE = /^([A-Z][A-Z_-]{0,23}) ([\x21-\x7e]+) HTTP\/1\.([0-9])\r?$/;
const STATUS_LINE = /^HTTP\/1\.([0-9]) ([0-9]{3})(?:[ \t][^\r\n]*)?\r?$/;
const WS_BEARER = 'base64url.bearer.authorization.k8s.io.';

export function newHttpInfo(): HttpInfo {
  return { version: null, requests: [], moreRequests: 0, h2: null, stopped: null };
}

type Mode =
  | 'head'
  | 'body'
  | 'chunk-size'
  | 'chunk-data'
  | 'chunk-end'
  | 'trailers'
  | 'to-eof'
  | 'switching'
  | 'upgraded'
  | 'done';

/** Client bytes held while an Upgrade or CONNECT waits, with when and in which packet they came. */
interface HeldBytes {
  bytes: Buffer;
  ts: number;
  packet: number;
}

/** A request awaiting its response: what the response's framing depends on. */
interface Outstanding {
  rec: HttpRequestInfo | null;
  head: boolean;
  connect: boolean;
  upgrade: string | null;
}

/** Header fields in order, names in lower case. */
export type Headers = Array<[name: string, value: string]>;

function headerValues(headers: Headers, name: string): string[] {
  const out: string[] = [];
  for (const [n, v] of headers) if (n === name) out.push(v);
  return out;
}

function header(headers: Headers, name: string): string | null {
  const values = headerValues(headers, name);
  return values.length ? values.join(', ') : null;
}

function bounded(value: string): string {
  return value.length > MAX_VALUE ? value.slice(0, MAX_VALUE) : value;
}

/** Start line and headers of a head; obs-fold lines continue the previous value, bad lines are skipped. */
function parseHead(text: string): { start: string; headers: Headers } {
  const lines = text.split('\n');
  const headers: Headers = [];
  for (let k = 1; k < lines.length; k++) {
    const line = lines[k].endsWith('\r') ? lines[k].slice(0, -1) : lines[k];
    if (line === '') continue;
    if ((line[0] === ' ' || line[0] === '\t') && headers.length) {
      headers[headers.length - 1][1] += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  return { start: lines[0], headers };
}

/** How a message's body is delimited. */
type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'eof' } | { kind: 'bad'; why: string };

function framing(headers: Headers, request: boolean): Framing {
  const te = header(headers, 'transfer-encoding');
  if (te !== null) {
    const codings = te.toLowerCase().split(',');
    if (codings[codings.length - 1].trim() === 'chunked') return { kind: 'chunked' };
    // A request must end in chunked (RFC 9112 §6.3); a response then runs to EOF.
    return request ? { kind: 'bad', why: 'bad Transfer-Encoding in request' } : { kind: 'eof' };
  }
  const lengths = headerValues(headers, 'content-length').flatMap((v) => v.split(',').map((x) => x.trim()));
  if (lengths.length) {
    if (!lengths.every((l) => l === lengths[0]) || !/^[0-9]{1,15}$/.test(lengths[0])) {
      return { kind: 'bad', why: 'bad Content-Length' };
    }
    const length = Number(lengths[0]);
    return length ? { kind: 'length', length } : { kind: 'none' };
  }
  return request ? { kind: 'none' } : { kind: 'eof' };
}

function upgradeName(value: string): string {
  const v = value.toLowerCase();
  if (v.includes('websocket')) return 'websocket';
  if (/\bspdy\/3\.1\b/.test(v)) return 'SPDY/3.1';
  if (/(^|[\s,])h2c($|[\s,])/.test(v)) return 'h2c';
  return bounded(value);
}

/** X-Stream-Protocol-Version, else Sec-WebSocket-Protocol without kubectl's bearer entry. */
function streamProtocol(headers: Headers): string | null {
  const spdy = header(headers, 'x-stream-protocol-version');
  if (spdy !== null) return bounded(spdy);
  const ws = header(headers, 'sec-websocket-protocol');
  if (ws === null) return null;
  const kept = ws
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p && !p.startsWith(WS_BEARER));
  return kept.length ? bounded(kept.join(', ')) : null;
}

/** One direction's parser state. */
class Side {
  mode: Mode = 'head';
  /** The head, trailer block or chunk-size line being gathered. */
  private buf = Buffer.allocUnsafe(512);
  private len = 0;
  private lineStart = 0;
  private headTs = 0;
  /** No message recognised yet: lines that are not a start line are skipped (mid-stream pickup). */
  private hunting = true;
  /** Resynchronising inside a line too long to be a start line. */
  private overlong = false;
  private inspected = 0;
  private left = 0;
  /** Client bytes held during 'switching'. */
  held: HeldBytes[] = [];
  private heldBytes = 0;

  constructor(
    private readonly http: Http1Analyzer,
    readonly dir: Direction,
  ) {}

  /** `packet` is the number of the packet that delivered `chunk` (StreamHandler.onData). */
  push(chunk: Buffer, ts: number, packet: number): void {
    let i = 0;
    while (i < chunk.length) {
      switch (this.mode) {
        case 'head':
        case 'trailers':
        case 'chunk-size':
          i = this.lines(chunk, i, ts, packet);
          break;
        case 'body':
        case 'chunk-data': {
          const n = Math.min(this.left, chunk.length - i);
          i += n;
          this.left -= n;
          if (this.left === 0) this.bodyDone();
          break;
        }
        case 'chunk-end':
          if (chunk[i] === 0x0a) this.mode = 'chunk-size';
          else if (chunk[i] !== 0x0d) return this.stop('bad chunk delimiter');
          i++;
          break;
        case 'switching':
          this.hold(chunk.subarray(i), ts, packet);
          return;
        case 'upgraded':
          this.http.upgradedData(this.dir, chunk.subarray(i), ts, packet);
          return;
        case 'to-eof':
        case 'done':
          return;
      }
    }
  }

  /** A gap: inside a body of known length the bytes are simply not there; elsewhere framing is lost. */
  gap(bytes: number): void {
    if ((this.mode === 'body' || this.mode === 'chunk-data') && bytes < this.left) this.left -= bytes;
    else if (this.mode !== 'to-eof' && this.mode !== 'done') this.stop(`gap in ${this.dir === 0 ? 'client' : 'server'} stream`);
  }

  stop(why: string | null): void {
    this.mode = 'done';
    this.held = [];
    if (why !== null) this.http.info.stopped ??= why;
  }

  /** Gather bytes up to each LF into buf; act on each complete line. */
  private lines(chunk: Buffer, i: number, ts: number, packet: number): number {
    while (i < chunk.length && (this.mode === 'head' || this.mode === 'trailers' || this.mode === 'chunk-size')) {
      const nl = chunk.indexOf(0x0a, i);
      const end = nl < 0 ? chunk.length : nl + 1;
      const n = end - i;
      this.inspected += n;
      if (this.inspected > MAX_INSPECT) {
        this.stop('inspection limit');
        return chunk.length;
      }
      const limit = this.mode === 'chunk-size' ? MAX_CHUNK_LINE : MAX_HEAD;
      if (this.overlong || this.len + n > limit) {
        if (!this.hunting) {
          this.stop(this.mode === 'chunk-size' ? 'chunk-size line too long' : 'header block over 64 KiB');
          return chunk.length;
        }
        // While resynchronising an overlong line is dropped up to its LF.
        this.len = 0;
        this.overlong = nl < 0;
        i = end;
        continue;
      }
      if (this.len === 0) this.headTs = ts;
      this.append(chunk, i, end);
      i = end;
      if (nl >= 0) this.line(packet);
    }
    return i;
  }

  private append(chunk: Buffer, from: number, to: number): void {
    const need = this.len + to - from;
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.min(Math.max(need, this.buf.length * 2), MAX_HEAD));
      this.buf.copy(grown, 0, 0, this.len);
      this.buf = grown;
    }
    chunk.copy(this.buf, this.len, from, to);
    this.len = need;
  }

  /** A complete line is buf[lineStart, len), its LF delivered by packet number `packet`. */
  private line(packet: number): void {
    const lineLen = this.len - this.lineStart;
    const empty = lineLen === 1 || (lineLen === 2 && this.buf[this.lineStart] === 0x0d);
    if (this.mode === 'chunk-size') return this.chunkSize();
    if (this.lineStart === 0 && this.mode === 'head') {
      // Empty lines between messages are tolerated (RFC 9112 §2.2); so is anything while resynchronising.
      const start = this.buf.toString('latin1', 0, this.len - 1);
      if (empty || !(this.dir === 0 ? REQUEST_LINE : STATUS_LINE).test(start)) {
        if (!empty && !this.hunting) return this.stop(this.dir === 0 ? 'bad request line' : 'bad status line');
        this.len = 0;
        return;
      }
      this.hunting = false;
      this.lineStart = this.len;
      return;
    }
    if (!empty) {
      this.lineStart = this.len;
      return;
    }
    const text = this.buf.toString('latin1', 0, this.len);
    this.len = 0;
    this.lineStart = 0;
    if (this.mode === 'trailers') return this.messageDone();
    if (this.dir === 0) this.http.request(this, text, this.headTs, packet);
    else this.http.response(this, text, packet);
  }

  private chunkSize(): void {
    const m = /^([0-9a-fA-F]{1,13})[ \t]*(?:;[^\r\n]*)?\r?\n$/.exec(this.buf.toString('latin1', 0, this.len));
    this.len = 0;
    if (!m) return this.stop('bad chunk size');
    this.left = parseInt(m[1], 16);
    this.mode = this.left === 0 ? 'trailers' : 'chunk-data';
  }

  private bodyDone(): void {
    if (this.mode === 'chunk-data') this.mode = 'chunk-end';
    else this.messageDone();
  }

  /** Frame the body that follows a head. */
  begin(f: Framing): void {
    switch (f.kind) {
      case 'none':
        return this.messageDone();
      case 'length':
        this.left = f.length;
        this.mode = 'body';
        return;
      case 'chunked':
        this.mode = 'chunk-size';
        return;
      case 'eof':
        this.mode = 'to-eof';
        return;
      case 'bad':
        return this.stop(f.why);
    }
  }

  private messageDone(): void {
    this.mode = this.dir === 0 ? this.http.clientNext() : 'head';
  }

  private hold(bytes: Buffer, ts: number, packet: number): void {
    if (this.heldBytes + bytes.length > MAX_SWITCH_HOLD) return this.stop('client data before switch over 64 KiB');
    this.held.push({ bytes: Buffer.from(bytes), ts, packet });
    this.heldBytes += bytes.length;
  }

  /** Leave 'switching': the held bytes are parsed as HTTP again ('head') or go to HTTP/2. */
  release(mode: 'head' | 'upgraded'): void {
    if (this.mode !== 'switching') return;
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    this.mode = mode;
    for (const { bytes, ts, packet } of held) this.push(bytes, ts, packet);
  }
}

/**
 * A request as HttpInfo keeps it, from its method, target and header fields (HTTP/2 passes its
 * pseudo-headers as their HTTP/1 equivalents): credentials reduced, the target and X-Forwarded-Uri
 * redacted, the Kubernetes URL shape named.
 */
export function requestRecord(method: string, rawTarget: string, headers: Headers, ts: number, packet: number): HttpRequestInfo {
  const credentials: CredentialInfo[] = [];
  let auth: AuthKind = 'none';
  for (const [name, value] of headers) {
    if (name === 'authorization') auth = authorizationCredential(name, value, credentials);
    else if (name === 'proxy-authorization') authorizationCredential(name, value, credentials);
    else if (name !== 'x-forwarded-uri' && scanCredentials(name, value, credentials) === 'bearer' && auth === 'none') auth = 'bearer';
  }
  const target = redact(':target', rawTarget, credentials);
  const forwarded = header(headers, 'x-forwarded-uri');
  const forwardedUri = forwarded === null ? null : redact('x-forwarded-uri', forwarded, credentials);
  const host = header(headers, 'host');
  const up = header(headers, 'upgrade');
  return {
    method,
    target,
    host: host === null ? null : redact('host', host, credentials),
    status: null,
    auth,
    credentials,
    upgrade: up === null ? null : upgradeName(up),
    streamProtocol: streamProtocol(headers),
    k8s: k8sShape(target, forwardedUri),
    ts,
    packet,
    responsePacket: null,
  };
}

/** Adds a request to the bounded list (counted beyond it); returns whether it was kept. */
export function storeRequest(info: HttpInfo, rec: HttpRequestInfo): boolean {
  if (info.requests.length < MAX_REQUESTS) {
    info.requests.push(rec);
    return true;
  }
  info.moreRequests++;
  return false;
}

export class Http1Analyzer implements StreamHandler {
  private readonly sides: [Side, Side];
  private readonly outstanding: Outstanding[] = [];
  /** Set once an `Upgrade: h2c` was accepted: every later byte is HTTP/2. */
  private h2: Http2Analyzer | null = null;

  constructor(readonly info: HttpInfo) {
    this.sides = [new Side(this, 0), new Side(this, 1)];
  }

  onData(dir: Direction, chunk: Buffer, ts: number, packet: number): void {
    this.sides[dir].push(chunk, ts, packet);
  }

  onGap(dir: Direction, bytes: number): void {
    if (this.h2) this.h2.onGap(dir, bytes);
    else this.sides[dir].gap(bytes);
  }

  onEnd(reason: EndReason): void {
    this.h2?.onEnd(reason);
  }

  /**
   * Where the client goes after a request: HTTP/2 if an h2c upgrade was accepted meanwhile (its
   * body was still arriving), 'switching' to wait for the answer to an Upgrade or CONNECT.
   */
  clientNext(): 'head' | 'switching' | 'upgraded' {
    if (this.h2) return 'upgraded';
    const last = this.outstanding[this.outstanding.length - 1];
    return last !== undefined && (last.upgrade !== null || last.connect) ? 'switching' : 'head';
  }

  upgradedData(dir: Direction, bytes: Buffer, ts: number, packet: number): void {
    if (bytes.length) this.h2?.onData(dir, bytes, ts, packet);
  }

  /** A request head that began at `ts` and was completed by packet number `packet`. */
  request(side: Side, text: string, ts: number, packet: number): void {
    const { start, headers } = parseHead(text);
    const m = REQUEST_LINE.exec(start)!;
    this.info.version ??= `1.${m[3]}`;
    const rec = requestRecord(m[1], m[2], headers, ts, packet);
    const stored = storeRequest(this.info, rec);
    if (this.outstanding.length >= MAX_OUTSTANDING) {
      // Deeper pipelining than clients use: pairing from here on would be a guess.
      this.sides[1].stop('over 1024 requests awaiting a response');
      this.outstanding.length = 0;
    }
    if (this.sides[1].mode !== 'done') this.outstanding.push({ rec: stored ? rec : null, head: m[1] === 'HEAD', connect: m[1] === 'CONNECT', upgrade: rec.upgrade });
    side.begin(framing(headers, true));
  }

  /** A response head completed by packet number `packet`. */
  response(side: Side, text: string, packet: number): void {
    const { start, headers } = parseHead(text);
    const m = STATUS_LINE.exec(start)!;
    this.info.version ??= `1.${m[1]}`;
    const status = Number(m[2]);
    const req = this.outstanding[0];
    // Interim responses (100 Continue, 103 Early Hints) precede the final one of the same request.
    if (status < 200 && status !== 101) return side.begin({ kind: 'none' });
    if (req) this.outstanding.shift();
    if (req?.rec) {
      req.rec.status = status;
      req.rec.responsePacket = packet;
    }
    const client = this.sides[0];
    if (status === 101 || (req?.connect && status < 300)) {
      if (req?.rec) req.rec.streamProtocol = streamProtocol(headers) ?? req.rec.streamProtocol;
      if (req?.upgrade === 'h2c' && status === 101) {
        this.h2 = new Http2Analyzer(this.info);
        side.mode = 'upgraded';
        client.release('upgraded');
      } else {
        // The rest is SPDY, WebSocket or a tunnel: HTTP ends here on both sides.
        side.stop(null);
        client.stop(null);
      }
      return;
    }
    if (req && (req.upgrade !== null || req.connect)) client.release('head');
    const bodiless = req?.head || status === 204 || status === 304;
    side.begin(bodiless ? { kind: 'none' } : framing(headers, false));
  }
}

/**
 * Golden test of the packet numbers findings cite: on every capture of the third-party corpus with
 * TLS handshakes or HTTP/1.x messages, the packets our ladder and requests name are the frames
 * tshark shows the same messages in (`frame.number`), so that a user can open them in Wireshark.
 *
 * One tshark run per capture: `-Y 'tls.handshake or http or http2.headers' -T fields -e
 * frame.number -e tls.handshake.type -e http.request -e http.response -e http2.headers.method -e
 * http2.headers.status` lists the frames that `-Y tls.handshake.type==1` (2, 11), `-Y
 * http.request`, `-Y http.response` and their HTTP/2 HEADERS list (decrypted with the secrets of a
 * pcapng Decryption Secrets Block, as kwire decrypts them).
 *
 * HTTP heads: a request or response cites the packet that completed its head (HttpRequestInfo).
 * tshark by default reassembles a message's body too and shows the message in the frame that
 * completes the body, so it runs with `-o http.desegment_body:FALSE`, which shows it where its
 * head completes. Record-level TLS reassembly stays on, as in Wireshark.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { analyze } from '../lib.js';
import { corpusFacts, corpusPath } from '../../test/helpers/corpus.js';

const TSHARK = hasTshark();

/** What is compared, by name: TLS handshake message types and HTTP heads. */
const KINDS = ['ClientHello', 'ServerHello', 'Certificate', 'request', 'response'] as const;
type Kind = (typeof KINDS)[number];
type Frames = Record<Kind, number[]>;

const TLS_TYPES: Record<string, Kind> = { '1': 'ClientHello', '2': 'ServerHello', '11': 'Certificate' };

function hasTshark(): boolean {
  try {
    execFileSync('tshark', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function emptyFrames(): Frames {
  return { ClientHello: [], ServerHello: [], Certificate: [], request: [], response: [] };
}

/** Sorted, each frame once: tshark lists a frame once however many messages it holds. */
function normalise(frames: Frames): Frames {
  const out = emptyFrames();
  for (const kind of KINDS) out[kind] = [...new Set(frames[kind])].sort((a, b) => a - b);
  return out;
}

function tsharkFrames(file: string): Frames {
  const args = ['-r', file, '-o', 'http.desegment_body:FALSE', '-Y', 'tls.handshake or http or http2.headers', '-T', 'fields', '-E', 'separator=|', '-E', 'aggregator=,'];
  for (const field of ['frame.number', 'tls.handshake.type', 'http.request', 'http.response', 'http2.headers.method', 'http2.headers.status']) args.push('-e', field);
  let text: string;
  try {
    text = execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
  } catch (error) {
    text = (error as { stdout?: string }).stdout ?? ''; // a damaged capture: what tshark read before the damage
  }
  const frames = emptyFrames();
  for (const line of text.split('\n').filter(Boolean)) {
    const [frame, types, request, response, h2Method, h2Status] = line.split('|');
    const number = Number(frame);
    for (const type of types.split(',')) if (TLS_TYPES[type]) frames[TLS_TYPES[type]].push(number);
    if (request || h2Method) frames.request.push(number);
    if (response || h2Status) frames.response.push(number);
  }
  return normalise(frames);
}

/** Our ladder's names; a HelloRetryRequest is a ServerHello (type 2) to tshark. */
const LADDER_KINDS: Record<string, Kind> = { ClientHello: 'ClientHello', ServerHello: 'ServerHello', HelloRetryRequest: 'ServerHello', Certificate: 'Certificate' };

async function ourFrames(file: string): Promise<Frames> {
  const frames = emptyFrames();
  const document = await analyze(corpusPath(file));
  for (const flow of document.flows) {
    for (const step of flow.tls?.handshake ?? []) {
      const kind = LADDER_KINDS[step.message];
      if (kind) frames[kind].push(step.packet);
    }
    for (const request of flow.http?.requests ?? []) {
      frames.request.push(request.packet);
      if (request.responsePacket !== null) frames.response.push(request.responsePacket);
    }
  }
  return normalise(frames);
}

interface Difference {
  why: string;
  /** Frames tshark shows that we do not cite. */
  tsharkOnly?: Partial<Frames>;
  /** Frames we cite that tshark does not show. */
  oursOnly?: Partial<Frames>;
}

/** Where tshark 4.0.17 and we differ, and why (each checked by hand with tshark; the TLS ones as in tls/corpus.test.ts). */
const DIFFERENCES: Record<string, Difference> = {
  'suricata-verify/http2-range_http2-range.pcap': {
    why: 'an h2c upgrade is answered twice, 101 in HTTP/1.1 and then :status 206 on HTTP/2 stream 1; kwire keeps the request once, with its 101, and does not cite the HEADERS of stream 1 as a second response',
    tsharkOnly: { response: [23, 65, 109] },
  },
  'ndpi/KakaoTalk_chat.pcap': {
    why: 'tshark takes the server side of the connection from port 35503 for retransmissions and does not decode port 5223 as TLS',
    oursOnly: { ServerHello: [91, 347], Certificate: [95] },
  },
  'zeek/tls/hrr.pcap': {
    why: 'the real ServerHello is in an out-of-order segment after a lost one, which tshark does not dissect (it shows only the HelloRetryRequest)',
    oursOnly: { ServerHello: [11] },
  },
  'zeek/tls/tls-fragmented-handshake.pcap': {
    why: 'tshark does not report the 339,629-byte Certificate; we cite it, with its body skipped over the 256 KiB budget',
    oursOnly: { Certificate: [410] },
  },
  'arkime/wireshark-retrans.pcap': {
    why: 'tshark dissects the two fast-retransmitted 200 responses a second time; we see each byte once',
    tsharkOnly: { response: [42, 86] },
  },
};

/** tshark's frames with a named difference applied; each frame the difference names must be one where they differ. */
function expectedFrames(theirs: Frames, difference: Difference | undefined): Frames {
  const expected = emptyFrames();
  for (const kind of KINDS) {
    const tsharkOnly = difference?.tsharkOnly?.[kind] ?? [];
    const oursOnly = difference?.oursOnly?.[kind] ?? [];
    for (const frame of tsharkOnly) expect(theirs[kind], `tshark shows ${kind} in frame ${frame}`).toContain(frame);
    for (const frame of oursOnly) expect(theirs[kind], `tshark shows no ${kind} in frame ${frame}`).not.toContain(frame);
    expected[kind] = [...theirs[kind].filter((frame) => !tsharkOnly.includes(frame)), ...oursOnly];
  }
  return normalise(expected);
}

const facts = corpusFacts();
const captures = Object.keys(facts).filter((name) => {
  const fact = facts[name];
  return fact.format !== '?' && ((fact.tls_hs_types && Object.keys(fact.tls_hs_types as object).length > 0) || fact.http_requests);
});

describe.each(captures)('%s', (name) => {
  const difference = DIFFERENCES[name];
  const title = `cites the frames tshark shows${difference ? `, except: ${difference.why}` : ''}${TSHARK ? '' : ' (skipped: tshark not installed)'}`;
  it.skipIf(!TSHARK)(title, async () => {
    const theirs = tsharkFrames(corpusPath(name));
    // The manifest says tshark sees TLS or HTTP here: an empty answer is a broken tshark run, not agreement.
    expect(KINDS.some((kind) => theirs[kind].length > 0)).toBe(true);
    expect(await ourFrames(name)).toEqual(expectedFrames(theirs, difference));
  });
});

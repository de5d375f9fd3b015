/**
 * Golden tests on the third-party corpus: captures through the real pipeline (lib.ts analyze)
 * into these analyzers, compared with what tshark 4.0.17 reports (expected-facts JSON).
 */
import { describe, expect, it } from 'vitest';
import { analyze } from '../../lib.js';
import { corpusFacts, corpusPath } from '../../../test/helpers/corpus.js';
import type { Direction, FlowRecord, StreamFactory, StreamHandler } from '../../model/flow.js';
import type { HttpInfo, HttpRequestInfo } from '../../model/protocol.js';
import { H2cAnalyzer, H2_PREFACE } from '../h2c/h2c.js';
import { Http1Analyzer, newHttpInfo } from './http1.js';

/** Stands in for the dispatcher: the client's first bytes choose h2c (the preface) or HTTP/1.x. */
class TestFactory implements StreamFactory {
  readonly flows: Array<{ flow: FlowRecord; info: HttpInfo }> = [];

  open(flow: FlowRecord): StreamHandler {
    const info = newHttpInfo();
    this.flows.push({ flow, info });
    let handler: StreamHandler | null = null;
    return {
      onData(dir: Direction, chunk: Buffer, ts: number, packet: number) {
        if (!handler) {
          const n = Math.min(chunk.length, H2_PREFACE.length);
          const h2 = dir === 0 && n >= 4 && chunk.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
          handler = h2 ? new H2cAnalyzer(info) : new Http1Analyzer(info);
        }
        handler.onData(dir, chunk, ts, packet);
      },
      onGap: (dir, bytes) => handler?.onGap(dir, bytes),
      onEnd: (reason) => handler?.onEnd(reason),
    };
  }
}

interface Facts {
  http_requests?: number;
  http_first_request?: string;
  http_response_codes?: Record<string, number>;
  http2_preface?: boolean;
  http2_frame_types?: Record<string, number>;
  http2_authority_path_sample?: string[];
}

const FRAME_NUMBERS: Record<string, string> = {
  DATA: '0', HEADERS: '1', PRIORITY: '2', RST_STREAM: '3', SETTINGS: '4', PUSH_PROMISE: '5', PING: '6', GOAWAY: '7', WINDOW_UPDATE: '8', CONTINUATION: '9',
};

async function observe(file: string): Promise<Facts> {
  const factory = new TestFactory();
  await analyze(corpusPath(file), { streams: factory });
  // tshark's `http` facts are HTTP/1.x; HTTP/2 requests show as their :authority and :path.
  const split = factory.flows.map(({ info }) => splitByVersion(info));
  const requests = split.flatMap(([http1]) => http1).sort((a, b) => a.ts - b.ts);
  const facts: Facts = {};
  const count = requests.length + factory.flows.reduce((n, { info }) => n + info.moreRequests, 0);
  if (count) {
    facts.http_requests = count;
    const first = requests[0];
    facts.http_first_request = `${first.method} ${first.host ?? ''} ${first.target}`;
    facts.http_response_codes = {};
    for (const r of requests) if (r.status !== null) facts.http_response_codes[r.status] = (facts.http_response_codes[r.status] ?? 0) + 1;
  }
  const h2 = factory.flows.map(({ info }) => info.h2).filter((h) => h !== null);
  if (h2.length) {
    facts.http2_preface = h2.some((h) => h.preface);
    facts.http2_frame_types = {};
    for (const { frames } of h2) {
      for (const [name, n] of Object.entries(frames)) {
        const key = FRAME_NUMBERS[name] ?? String(parseInt(name, 16));
        facts.http2_frame_types[key] = (facts.http2_frame_types[key] ?? 0) + n;
      }
    }
    const h2Requests = split.flatMap(([, http2]) => http2);
    const sample = new Set(h2Requests.flatMap((r) => [`:authority=${r.host}`, `:path=${r.target}`]));
    if (sample.size) facts.http2_authority_path_sample = [...sample].sort();
  }
  return facts;
}

/**
 * A flow's HTTP/1.x requests and its HTTP/2 ones: a connection upgraded to h2c has HTTP/1 requests
 * up to the one answered 101, HTTP/2 ones after it; one that began with the preface only HTTP/2.
 */
function splitByVersion(info: HttpInfo): [HttpRequestInfo[], HttpRequestInfo[]] {
  if (info.version !== '2') return [info.requests, []];
  const upgraded = info.requests.findLastIndex((r) => r.upgrade === 'h2c' && r.status === 101);
  return [info.requests.slice(0, upgraded + 1), info.requests.slice(upgraded + 1)];
}

function expected(file: string): Facts {
  const all = corpusFacts()[file] as Facts;
  const keys = ['http_requests', 'http_first_request', 'http_response_codes', 'http2_preface', 'http2_frame_types', 'http2_authority_path_sample'] as const;
  // An empty sample is no HTTP/2 request, as kwire leaves the fact out.
  return Object.fromEntries(keys.filter((k) => all[k] !== undefined && !(Array.isArray(all[k]) && all[k].length === 0)).map((k) => [k, all[k]]));
}

/** Captures where kwire and tshark agree on every HTTP fact. */
const SAME_AS_TSHARK = [
  'zeek/http/get.pcap',
  'zeek/http/get_nosyn.pcap',
  'zeek/http/pipelined-requests.pcap',
  'zeek/tcp/handshake-reorder.pcap',
  'zeek/http-qinq-0.pcap',
  'zeek/http-vlan-0.pcap',
  'arkime/v6-http.pcap',
  'ndpi/KakaoTalk_chat.pcap',
  'suricata-verify/decode-sll2-01_input.pcap',
  'suricata-verify/http2-continuation_input.pcap',
  'suricata-verify/http2-range_http2-range.pcap',
];

/** Where kwire differs, the facts it reports instead and why. */
const DIFFERENT: Array<{ file: string; facts: Facts; why: string }> = [
  {
    file: 'arkime/twovlan.pcap',
    facts: { http_response_codes: { 200: 1 } },
    why: 'the capture ends 4 KB into a 104,548-byte body: tshark reports a response only once its body is reassembled; kwire reports the status at the head',
  },
  {
    file: 'ptcpdump/tcp.pcapng',
    facts: { http_response_codes: { 404: 1 } },
    why: "the body's segments come after the client's FIN acknowledged them (per-CPU capture order): tshark drops them as spurious retransmissions and never completes the body; kwire delivers them (as tcpflow does)",
  },
  {
    file: 'arkime/wireshark-retrans.pcap',
    facts: { http_response_codes: { 200: 4 } },
    why: 'tshark dissects the two fast-retransmitted 200 responses a second time; kwire sees each byte once',
  },
  {
    file: 'arkime/http2-nghttp2.pcap',
    facts: { http2_frame_types: { 0: 4, 1: 3, 2: 5, 4: 4, 5: 1, 7: 1, 8: 2, 9: 1 }, http2_authority_path_sample: [':authority=nghttp2.org', ':path=/'] },
    why: "tshark labels only 8 packets HTTP/2 (one is an 'unreassembled fragment') and skips the frames of the rest — a SETTINGS ack, 2 WINDOW_UPDATE, a GOAWAY, a CONTINUATION; walking the frame headers of `follow,tcp,raw` by hand gives kwire's counts. tshark decodes no header of the client's HEADERS (frame 4: `GET /`) and lists the PUSH_PROMISE's :path, a pushed request kwire does not count as sent",
  },
  {
    file: 'ndpi/http2.pcapng',
    facts: {
      http2_preface: true,
      http2_frame_types: { 0: 2, 1: 2, 4: 4, 7: 1, 8: 3 },
      http2_authority_path_sample: [':authority=127.0.0.1:29518', ':path=/namf-comm/v1/subscriptions'],
    },
    why: 'prior-knowledge h2c on port 29518, which tshark decodes only with -d (MANIFEST.md lists those counts and the request); kwire goes by the preface',
  },
];

/** tshark sees HTTP here only through the capture's TLS key log: decryption is a later issue. */
const DECRYPTED_ONLY = [
  'hotplace/http/curl_http1_tls12.pcapng',
  'hotplace/http/http1.pcapng',
  'hotplace/http/http2.pcapng',
  'derived/hotplace-http2-with-dsb.pcapng',
  'zeek/tls/tls-1.2-stream-keylog.pcap',
  'zeek/tls/tls12-decryption.pcap',
];

describe('HTTP corpus against tshark', () => {
  it.each(SAME_AS_TSHARK)('%s', async (file) => {
    expect(await observe(file)).toEqual(expected(file));
  });

  it.each(DIFFERENT)('$file differs: $why', async ({ file, facts }) => {
    expect(await observe(file)).toEqual({ ...expected(file), ...facts });
  });

  it('finds no HTTP in any other readable capture (TLS and other TCP)', async () => {
    const named = new Set([...SAME_AS_TSHARK, ...DIFFERENT.map((d) => d.file), ...DECRYPTED_ONLY]);
    const others = Object.entries(corpusFacts()).filter(([file, facts]) => !named.has(file) && facts.format !== '?');
    expect(others.length).toBeGreaterThan(30);
    for (const [file] of others) expect({ file, facts: await observe(file) }).toEqual({ file, facts: {} });
  });
});

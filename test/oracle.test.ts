/**
 * Oracle tests (DESIGN.md layer 3) on every third-party capture:
 * - kwire counts the packets and TCP connections tshark counts;
 * - every flow direction's bytes equal tshark's "Follow TCP Stream" (tshark 4.0, the referee);
 * - every stream file of `--streams` equals what tcpflow 1.6.1 writes, byte for byte, except where
 *   TCPFLOW_DIFFERENCES names the difference — and each named difference is itself checked.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { analyze, StreamDumpFactory } from '../src/lib.js';
import { corpusFacts, corpusPath } from './helpers/corpus.js';
import { CollectingFactory } from './helpers/collect.js';
import { streamFiles, tcpflowStreams, tsharkFollow } from './helpers/oracles.js';

const facts = corpusFacts();
const captures = Object.keys(facts).filter((name) => facts[name].format !== '?' || facts[name].tcp_streams > 0);

type TcpflowDifference =
  /** tcpflow 1.6.1 reads no TCP from this link type or encapsulation and writes nothing (tshark is the referee there). */
  | { kind: 'tcpflow-reads-nothing'; why: string }
  /**
   * tcpflow takes the Ethernet padding (and FCS) of short frames for payload: its files go on with
   * those bytes (zeros, or an FCS) after the real stream ends, and a padded segment after a FIN
   * becomes a new `cN` file. kwire's file must be a prefix of tcpflow's.
   */
  | { kind: 'tcpflow-counts-padding'; extraFiles: string[] }
  /** Retransmissions that carry other bytes: tcpflow keeps the last copy, kwire (like tshark and Zeek) the first. */
  | { kind: 'tcpflow-last-copy-wins'; file: string; differingBytes: number }
  /** tcpflow writes an out-of-order segment at the wrong place (tshark agrees with kwire). */
  | { kind: 'tcpflow-misplaces-out-of-order'; file: string }
  /** tcpflow names a priority-tagged VLAN by the whole TCI (`--45056` for VLAN 0, priority 5). */
  | { kind: 'tcpflow-names-vlan-by-tci'; tcpflowSuffix: string; kwireSuffix: string };

const UNKNOWN_SLL2 = 'unknown datalink type 276';
const NO_IPV6_ON_NULL = 'tcpflow 1.6.1 decodes only IPv4 on the BSD loopback/NULL link type';
const TCPFLOW_DIFFERENCES: Record<string, TcpflowDifference[]> = {
  'arkime/tls-alpn-h2.pcap': [{ kind: 'tcpflow-reads-nothing', why: NO_IPV6_ON_NULL }],
  'hotplace/http/http1.pcapng': [{ kind: 'tcpflow-reads-nothing', why: NO_IPV6_ON_NULL }],
  'hotplace/tls12/tls12renogotiation.pcapng': [{ kind: 'tcpflow-reads-nothing', why: NO_IPV6_ON_NULL }],
  'illustrated-tls12/capture.pcap': [{ kind: 'tcpflow-reads-nothing', why: NO_IPV6_ON_NULL }],
  'suricata-verify/tls-store-02_tls-client-auth.pcap': [{ kind: 'tcpflow-reads-nothing', why: NO_IPV6_ON_NULL }],
  'ptcpdump/tfo.pcap': [{ kind: 'tcpflow-reads-nothing', why: UNKNOWN_SLL2 }],
  'suricata-verify/decode-sll2-01_input.pcap': [{ kind: 'tcpflow-reads-nothing', why: UNKNOWN_SLL2 }],
  'zeek/tls/openjdk-25.0.2-zeek.org.pcap': [{ kind: 'tcpflow-reads-nothing', why: UNKNOWN_SLL2 }],
  'zeek/pppoe-over-qinq.pcap': [{ kind: 'tcpflow-reads-nothing', why: 'tcpflow 1.6.1 does not decode PPPoE' }],
  'arkime/tls-split-client-hello.pcap': [{ kind: 'tcpflow-counts-padding', extraFiles: [] }],
  'ndpi/ja3_lots_of_cipher_suites.pcap': [{ kind: 'tcpflow-counts-padding', extraFiles: [] }],
  'zeek/http/pipelined-requests.pcap': [
    { kind: 'tcpflow-counts-padding', extraFiles: ['192.168.001.104.01673-063.245.209.011.00080c1'] },
  ],
  'zeek/tcp/reassembly.pcap': [
    { kind: 'tcpflow-last-copy-wins', file: '063.193.213.194.02564-128.003.097.175.00080', differingBytes: 123 },
  ],
  'zeek/tls/hrr.pcap': [{ kind: 'tcpflow-misplaces-out-of-order', file: '064.233.185.139.00443-010.192.048.168.63564' }],
  'zeek/http-qinq-0.pcap': [{ kind: 'tcpflow-names-vlan-by-tci', tcpflowSuffix: '--45056', kwireSuffix: '--0' }],
  'zeek/http-vlan-0.pcap': [{ kind: 'tcpflow-names-vlan-by-tci', tcpflowSuffix: '--45056', kwireSuffix: '--0' }],
};

/**
 * Captures tcpflow 1.6.1 refuses, with its message. It still writes what it read before the
 * refusal, which is compared as usual.
 */
const TCPFLOW_REFUSALS: Record<string, string> = {
  'gopacket-pcapng/le/test005.pcapng': 'an interface has a snapshot length 128 different from the snapshot length of the first interface',
  'gopacket-pcapng/le/test006.pcapng': 'an interface has a type 0 different from the type of the first interface',
  'gopacket-pcapng/le/test202.pcapng': 'an interface has a type 0 different from the type of the first interface',
  'ndpi/fuzz-2021-10-13.pcap': 'truncated dump file',
  'suricata-verify/bug-1450-04_tls_DER-incomplete-header.pcap': 'invalid packet capture length 4325376, bigger than snaplen of 262144',
  'ptcpdump/tfo.pcap': UNKNOWN_SLL2,
  'suricata-verify/decode-sll2-01_input.pcap': UNKNOWN_SLL2,
  'zeek/linux_dlt_sll2.pcap': UNKNOWN_SLL2,
  'zeek/tls/openjdk-25.0.2-zeek.org.pcap': UNKNOWN_SLL2,
};

/**
 * Directions where tshark's Follow TCP Stream is no referee, and why. Directions with gaps are not
 * compared with tshark either: its follow output leaves holes out silently, where kwire reports them.
 */
const TSHARK_FOLLOW_EXCEPTIONS: Record<string, { stream: number; why: string }[]> = {
  'ndpi/KakaoTalk_chat.pcap': [
    { stream: 2, why: "a second SYN-ACK with another ISN: tshark's follow shows no server bytes; tcpflow's file equals kwire's" },
  ],
};

let scratch: string;
beforeAll(() => {
  for (const oracle of ['tshark', 'tcpflow']) execFileSync('which', [oracle], { stdio: 'ignore' }); // missing → fail, not skip
  scratch = mkdtempSync(path.join(tmpdir(), 'kwire-oracle-'));
  return () => rmSync(scratch, { recursive: true, force: true });
});

describe.each(captures)('%s', (name) => {
  const fact = facts[name];
  const file = corpusPath(name);

  it('counts the packets and TCP connections tshark counts', async () => {
    const doc = await analyze(file);
    if (fact.packets !== '?') expect(doc.capture.packets).toBe(Number(fact.packets));
    expect(doc.flows.length).toBe(fact.tcp_streams);
    const gapsInFlows = doc.flows.reduce((sum, flow) => sum + flow.gaps.c2s + flow.gaps.s2c, 0);
    expect(doc.capture.reassembly.gapBytes).toBe(gapsInFlows);
  });

  it("reassembles every flow direction as tshark's Follow TCP Stream does", async () => {
    const collected = new CollectingFactory();
    await analyze(file, { streams: collected });
    // tshark numbers streams from 0 in order of their first packet, as kwire numbers flows from 1.
    const followed = tsharkFollow(file, collected.flows.map(({ flow }) => flow.id - 1));
    expect(followed.length).toBe(collected.flows.length);
    const exceptions = new Set((TSHARK_FOLLOW_EXCEPTIONS[name] ?? []).map((e) => e.stream));
    for (const { flow, bytes } of collected.flows) {
      const stream = flow.id - 1;
      if (exceptions.has(stream)) continue;
      const tshark = followed[stream];
      const client = endpoint(flow.src, flow.sport);
      const server = endpoint(flow.dst, flow.dport);
      expect.soft(new Set(tshark.nodes), `stream ${stream} endpoints`).toEqual(new Set([client, server]));
      const clientNode = tshark.nodes[0] === client ? 0 : 1;
      if (flow.gaps[0] === 0) expect.soft(bytes[0].equals(tshark.bytes[clientNode]), `stream ${stream} ${client} → ${server}`).toBe(true);
      if (flow.gaps[1] === 0) expect.soft(bytes[1].equals(tshark.bytes[1 - clientNode]), `stream ${stream} ${server} → ${client}`).toBe(true);
    }
  });

  it('writes the stream files tcpflow writes', async () => {
    const ours = path.join(scratch, name, 'kwire');
    await analyze(file, { streams: new StreamDumpFactory(ours) });
    const kwire = streamFiles(ours);
    const tcpflow = tcpflowStreams(file, path.join(scratch, name, 'tcpflow'));
    const refusal = TCPFLOW_REFUSALS[name];
    if (refusal) expect(tcpflow.refused).toContain(refusal);
    else expect(tcpflow.refused).toBeNull();

    const differences = TCPFLOW_DIFFERENCES[name] ?? [];
    for (const difference of differences) checkDifference(difference, kwire, tcpflow.files);
    if (differences.some((d) => d.kind !== 'tcpflow-last-copy-wins' && d.kind !== 'tcpflow-misplaces-out-of-order')) return;
    const excepted = new Set(differences.map((d) => ('file' in d ? d.file : '')));
    expect([...kwire.keys()]).toEqual([...tcpflow.files.keys()]);
    for (const [stream, bytes] of kwire) {
      if (!excepted.has(stream)) expect.soft(bytes.equals(tcpflow.files.get(stream)!), `${stream} equals tcpflow's`).toBe(true);
    }
  });
});

function checkDifference(difference: TcpflowDifference, kwire: Map<string, Buffer>, tcpflow: Map<string, Buffer>): void {
  switch (difference.kind) {
    case 'tcpflow-reads-nothing':
      expect(tcpflow.size).toBe(0);
      expect(kwire.size).toBeGreaterThan(0);
      return;
    case 'tcpflow-counts-padding': {
      expect([...tcpflow.keys()].filter((f) => !kwire.has(f))).toEqual(difference.extraFiles);
      for (const [stream, bytes] of kwire) {
        const theirs = tcpflow.get(stream)!;
        expect(theirs.length, stream).toBeGreaterThanOrEqual(bytes.length);
        expect(theirs.subarray(0, bytes.length).equals(bytes), `${stream} is a prefix of tcpflow's`).toBe(true);
        expect(theirs.length - bytes.length, `${stream}: what tcpflow adds is no more than padding`).toBeLessThanOrEqual(20);
      }
      return;
    }
    case 'tcpflow-last-copy-wins': {
      const ours = kwire.get(difference.file)!;
      const theirs = tcpflow.get(difference.file)!;
      expect(ours.length).toBe(theirs.length);
      let differing = 0;
      for (let i = 0; i < ours.length; i++) if (ours[i] !== theirs[i]) differing++;
      expect(differing).toBe(difference.differingBytes);
      return;
    }
    case 'tcpflow-misplaces-out-of-order':
      // The tshark comparison above shows kwire's bytes are right; here only that tcpflow's differ.
      expect(kwire.get(difference.file)!.equals(tcpflow.get(difference.file)!)).toBe(false);
      return;
    case 'tcpflow-names-vlan-by-tci': {
      const renamed = new Map([...tcpflow].map(([f, bytes]) => [f.replace(difference.tcpflowSuffix, difference.kwireSuffix), bytes]));
      expect([...kwire.keys()]).toEqual([...renamed.keys()]);
      for (const [stream, bytes] of kwire) expect(bytes.equals(renamed.get(stream)!), stream).toBe(true);
      return;
    }
  }
}

/** An endpoint as tshark's follow output writes it. */
function endpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** analyze(), the programmatic API, on inputs built here. */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Readable } from 'node:stream';
import { analyze, parseCluster, type KwireDocument } from '../src/lib.js';
import { SectionWriter } from '../src/capture/testing.js';
import { corpusPath, repoRoot } from './helpers/corpus.js';

const pcapng = new SectionWriter(true);
const isbDropped = (n: number) => pcapng.option(5, pcapng.u64(BigInt(n))); // isb_ifdrop

it('counts kernel drops from the last Interface Statistics Block of each interface (they are cumulative)', async () => {
  const file = Buffer.concat([
    pcapng.sectionHeader(),
    pcapng.interface(1, 65535),
    pcapng.interface(1, 65535),
    pcapng.statistics(0, 1n, isbDropped(5)),
    pcapng.statistics(1, 2n, isbDropped(3)),
    pcapng.statistics(0, 3n, isbDropped(7)),
  ]);
  const doc = await analyze(Readable.from([file], { objectMode: false }), {}, 'isb.pcapng');
  expect(doc.capture.dropped).toBe(7 + 3);
});

it('reports no drops where the capture says nothing of them', async () => {
  const file = Buffer.concat([pcapng.sectionHeader(), pcapng.interface(1, 65535)]);
  const doc = await analyze(Readable.from([file], { objectMode: false }), {}, 'quiet.pcapng');
  expect(doc.capture.dropped).toBeNull();
});

it('streams flows without keeping them when asked to (retainFlows: false)', async () => {
  const seen: number[] = [];
  const doc = await analyze(corpusPath('hotplace/http/http2.pcapng'), { retainFlows: false, onFlowEnd: (flow) => seen.push(flow.id) });
  expect(doc.flows).toEqual([]);
  expect(seen.sort((a, b) => a - b)).toEqual([...Array(16).keys()].map((i) => i + 1));
});

it('hands each flow its findings as it ends, when flows and findings are not kept', async () => {
  const sample = path.join(repoRoot, 'captures/sample-tls-http.pcap');
  const streamed: string[] = [];
  const doc = await analyze(sample, {
    retainFlows: false,
    onFlowEnd: (flow, findings) => findings.forEach((finding) => streamed.push(`${flow.id} ${finding.flowId} ${finding.rule}`)),
  });
  const kept = await analyze(sample);
  expect(doc.findings).toEqual([]);
  expect(streamed.sort()).toEqual(kept.findings.map((f) => `${f.flowId} ${f.flowId} ${f.rule}`).sort());
});

it("is the package's API: import { analyze } from 'kwire' gives the document with its findings", () => {
  const script = "const { analyze } = await import('kwire'); const doc = await analyze('captures/sample-tls-http.pcap'); console.log(JSON.stringify(doc.findings.map((f) => f.rule)));";
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8' });
  expect(JSON.parse(out)).toHaveLength(13);
});

describe('paths of the bundled sample capture (captures/README.md)', () => {
  const sample = path.join(repoRoot, 'captures/sample-tls-http.pcap');
  const rows = (doc: KwireDocument) => doc.flows.map((flow) => [flow.id, flow.path, flow.via, flow.roles.client, flow.roles.server, flow.roles.evidence]);
  const earlier = 'earlier flow: client certificate CN=system:node:kw-node-1';

  it('infers them from certificates, SNI, URLs and ports, and learns the node from its client certificate', async () => {
    expect(rows(await analyze(sample))).toEqual([
      // Flow 1 ends before flow 6 shows who .11 and .1 are: TLS 1.3 without SNI says nothing.
      [1, 'other', null, null, null, []],
      [2, 'client->kubelet', null, null, 'kubelet', ['port 10250']],
      [3, 'client->apiserver', null, null, 'apiserver', ['apiserver URL /api/…']],
      [4, 'client->apiserver', null, null, 'apiserver', ['SNI kubernetes.default.svc']],
      [5, 'client->kubelet', null, null, 'kubelet', ['port 10250']],
      [6, 'node->apiserver', null, 'node:kw-node-1', 'apiserver', [
        'client certificate CN=system:node:kw-node-1', 'server certificate CN=kube-apiserver', 'SAN kubernetes.default.svc', 'SNI kubernetes', 'port 6443',
      ]],
      [7, 'node->apiserver', null, 'node:kw-node-1', 'apiserver', [earlier, 'SNI kubernetes', 'port 6443']],
      [8, 'client->kubelet', null, 'node:kw-node-1', 'kubelet', [earlier, 'port 10250']],
      [9, 'node->apiserver', null, 'node:kw-node-1', 'apiserver', [earlier, 'SNI kubernetes.default.svc']],
      [10, 'node->apiserver', null, 'node:kw-node-1', 'apiserver', [earlier, 'apiserver URL /api/…']],
      [11, 'other', null, 'node:kw-node-1', null, [earlier]],
      [12, 'node->apiserver', null, 'node:kw-node-1', 'apiserver', [earlier, 'SNI kubernetes.default.svc']],
      [13, 'client->kubelet', null, 'node:kw-node-1', 'kubelet', [earlier, 'port 10250']],
      [14, 'client->apiserver', null, null, 'apiserver', ['apiserver URL /api/…']],
    ]);
  });

  it('takes them from a cluster file: .1 the apiserver on every port, .11 node kw-node-1, .2 the kubelet of kw-node-2', async () => {
    const cluster = parseCluster('apiservers: [198.18.0.1]\nnodes:\n  - {name: kw-node-1, ip: 198.18.0.11}\n  - {name: kw-node-2, ip: 198.18.0.2}\n', 'cluster.yaml');
    const file = ['cluster file'];
    const node = (id: number) => [id, 'node->apiserver', null, 'node:kw-node-1', 'apiserver', file];
    const kubelet = (id: number, client: string | null) => [id, 'client->kubelet', null, client, 'kubelet:kw-node-2', file];
    expect(rows(await analyze(sample, { cluster }))).toEqual([
      node(1),
      kubelet(2, null),
      node(3),
      [4, 'client->apiserver', null, null, 'apiserver', file],
      kubelet(5, 'node:kw-node-1'),
      node(6),
      node(7),
      kubelet(8, 'node:kw-node-1'),
      node(9),
      node(10),
      [11, 'other', null, 'node:kw-node-1', 'node:kw-node-2', file],
      node(12),
      kubelet(13, 'node:kw-node-1'),
      [14, 'client->apiserver', null, null, 'apiserver', file],
    ]);
  });
});

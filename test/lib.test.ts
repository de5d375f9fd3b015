/** analyze(), the programmatic API, on inputs built here. */
import { expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { analyze } from '../src/lib.js';
import { SectionWriter } from '../src/capture/testing.js';
import { corpusPath } from './helpers/corpus.js';

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

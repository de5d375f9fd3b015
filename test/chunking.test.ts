/**
 * Property (DESIGN.md layer 4): however the capture's bytes are split into chunks, the whole
 * pipeline gives the same document — readers, decoders and reassembly hold no chunk-boundary
 * assumptions.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { analyze } from '../src/lib.js';
import { corpusPath } from './helpers/corpus.js';

const samples = [
  'zeek/tcp/reassembly.pcap',
  'arkime/wireshark-retrans.pcap',
  'hotplace/http/http2.pcapng',
  'gopacket-pcapng/le/test202.pcapng',
  'ndpi/KakaoTalk_chat.pcap',
  'suricata-verify/bug-1450-04_tls_DER-incomplete-header.pcap',
];

function chunked(bytes: Buffer, cuts: number[]): Readable {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  chunks.push(bytes.subarray(start));
  return Readable.from(chunks.filter((c) => c.length > 0), { objectMode: false });
}

describe.each(samples)('%s', (name) => {
  const bytes = readFileSync(corpusPath(name));

  it('gives the same document for any chunking', async () => {
    const whole = await analyze(Readable.from([bytes], { objectMode: false }), {}, name);
    expect(whole.capture.packets).toBeGreaterThan(0);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { maxLength: 64 }), async (cuts) => {
        const split = await analyze(chunked(bytes, cuts), {}, name);
        expect(split).toEqual(whole);
      }),
      { numRuns: 25 },
    );
  });

  it('gives the same document read one byte at a time', async () => {
    const whole = await analyze(Readable.from([bytes], { objectMode: false }), {}, name);
    const bytewise = await analyze(chunked(bytes, [...Array(bytes.length).keys()]), {}, name);
    expect(bytewise).toEqual(whole);
  });
});

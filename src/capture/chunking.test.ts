/** However a capture is split into chunks, it reads the same; no input makes a reader throw. */
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { corpusPath } from '../../test/helpers/corpus.js';
import { PcapReader, PcapngReader, readCapture } from './index.js';
import { CopyingSink, pcapRecordOffsets, readChunks, splitAt } from './testing.js';

const SAMPLES = [
  'arkime/tls13.pcap', // pcap, little-endian, µs
  'node-pcap-parser/be.pcap', // pcap, big-endian, a truncated packet
  'ptcpdump/tls.pcap', // pcap, ns
  'ndpi/fuzz-2021-10-13.pcap', // swapped lengths, then cut short
  'suricata-verify/bug-1450-04_tls_DER-incomplete-header.pcap', // damage: absurd record length
  'gopacket-pcapng/le/test202.pcapng', // three sections, both byte orders, simple packets, statistics
  'gopacket-pcapng/le/test901.pcapng', // damage: unknown section version
  'derived/snet-mTLS1_3_RSA-with-dsb.pcapng', // decryption secrets
  'zeek/pcapng-multi-interface.pcapng', // ns and µs interfaces
];

describe.each(SAMPLES)('%s', (file) => {
  const bytes = readFileSync(corpusPath(file));
  const whole = readChunks(bytes, [bytes]);

  it('reads the same in 1-byte chunks', () => {
    const { sink, summary } = readChunks(bytes, splitAt(bytes, [...bytes.keys()]));
    expect(summary).toEqual(whole.summary);
    expect(sink).toEqual(whole.sink);
  });

  it('reads the same split anywhere', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: bytes.length }), { maxLength: 40 }), (cuts) => {
        const { sink, summary } = readChunks(bytes, splitAt(bytes, cuts));
        expect(summary).toEqual(whole.summary);
        expect(sink).toEqual(whole.sink);
      }),
      { numRuns: 150 },
    );
  });
});

const PCAP_HEADER = readFileSync(corpusPath('arkime/tls13.pcap')).subarray(0, 24);
const PCAPNG_HEADER = (() => {
  const file = readFileSync(corpusPath('gopacket-pcapng/le/test001.pcapng'));
  return file.subarray(0, file.readUInt32LE(4) + 52); // the SHB and its IDB
})();

describe('any bytes', () => {
  const chunked = fc.tuple(fc.uint8Array({ maxLength: 2048 }), fc.array(fc.nat({ max: 2048 }), { maxLength: 8 }));

  it.each([
    ['pcap', () => new PcapReader(new CopyingSink(), 'random'), PCAP_HEADER],
    ['pcapng', () => new PcapngReader(new CopyingSink(), 'random'), PCAPNG_HEADER],
  ] as const)('never make the %s reader throw, with or without a valid header', (_format, makeReader, header) => {
    fc.assert(
      fc.property(fc.boolean(), chunked, (withHeader, [random, cuts]) => {
        const input = withHeader ? Buffer.concat([header, random]) : Buffer.from(random);
        const reader = makeReader();
        for (const chunk of splitAt(input, cuts)) reader.push(chunk);
        const summary = reader.end();
        expect(summary.bytes).toBeLessThanOrEqual(input.length);
      }),
      { numRuns: 500 },
    );
  });
});

describe('readCapture from a stream', () => {
  it('reads each chunk where the source put it: chunks waiting in the stream are not joined into a copy', async () => {
    const bytes = readFileSync(corpusPath('arkime/tls13.pcap'));
    const offsets = pcapRecordOffsets(bytes);
    // Three chunks on record boundaries, all waiting in the stream before the reading starts.
    const chunks = splitAt(bytes, [offsets[3], offsets[6]]);
    const stream = new PassThrough();
    for (const chunk of chunks) stream.write(chunk);
    stream.end();
    const buffers = new Set<Buffer>();
    const summary = await readCapture(stream, 'tls13.pcap', { frame: (frame) => void buffers.add(frame.buf), secrets() {}, interfaceStats() {} });
    expect(summary.frames).toBe(offsets.length);
    expect([...buffers]).toEqual(chunks);
    expect([...buffers].every((buf, i) => buf === chunks[i])).toBe(true);
  });

  it('waits between chunks for a consumer that holds the reading back, and stops waiting when the reading is stopped', async () => {
    const bytes = readFileSync(corpusPath('arkime/tls13.pcap'));
    const offsets = pcapRecordOffsets(bytes);
    const stream = new PassThrough();
    for (const chunk of splitAt(bytes, [offsets[3], offsets[6]])) stream.write(chunk);
    stream.end();
    const stop = new AbortController();
    let frames = 0;
    let waits = 0;
    const summary = await readCapture(stream, 'tls13.pcap', { frame: () => void frames++, secrets() {}, interfaceStats() {} }, () => {
      waits++;
      // The first chunk's 3 frames are in; the consumer never lets go, and --duration comes.
      expect(frames).toBe(3);
      setTimeout(() => stop.abort(), 20);
      return new Promise<void>(() => {});
    }, stop.signal);
    expect(waits).toBe(1);
    expect(summary.frames).toBe(3);
  });
});

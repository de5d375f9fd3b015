/** Opening a capture: the one-line errors for what is not one, stdin-like streams, any bytes. */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../model/errors.js';
import { corpusPath } from '../../test/helpers/corpus.js';
import { inputErrorFor, openCapture, readCapture, readCaptureFile } from './index.js';
import { CopyingSink, splitAt } from './testing.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'kwire-open-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function scratchFile(name: string, content: Buffer | string): string {
  const file = path.join(scratch, name);
  writeFileSync(file, content);
  return file;
}

describe('what is not a capture', () => {
  it.each([
    ['empty', '', 'empty file'],
    ['text', 'this is not a valid pcap file.', 'starts with "this is not a va…"'],
    ['short text', 'GET /\r\n', 'starts with "GET /\\r\\n"'],
    ['binary', Buffer.from('7f454c4602010100000000000000000003003e00', 'hex'), 'starts with 0x7f454c46020101000000000000000000…'],
    ['gzip of text', gzipSync('hello'), 'decompressed, starts with "hello"'],
    ['empty gzip', gzipSync(Buffer.alloc(0)), 'empty after gzip decompression'],
  ])('%s is NOT_A_CAPTURE, named with what it starts with', async (name, content, what) => {
    const file = scratchFile(name, content);
    await expect(readCaptureFile(file, new CopyingSink())).rejects.toEqual(
      new InputError('NOT_A_CAPTURE', `${file}: not a pcap or pcapng capture (${what})`),
    );
  });

  it('names a gzip stream that is broken from the start', async () => {
    const broken = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff]);
    await expect(readCapture(Readable.from([broken]), 'broken.gz', new CopyingSink())).rejects.toEqual(
      new InputError('NOT_A_CAPTURE', 'broken.gz: not a pcap or pcapng capture (gzip stream corrupt: invalid block type)'),
    );
  });

  it('is IS_A_DIRECTORY for a directory', async () => {
    await expect(readCaptureFile(scratch, new CopyingSink())).rejects.toEqual(new InputError('IS_A_DIRECTORY', `${scratch}: is a directory`));
  });

  it('is NOT_FOUND for a missing file', async () => {
    const missing = path.join(scratch, 'missing.pcap');
    await expect(readCaptureFile(missing, new CopyingSink())).rejects.toEqual(new InputError('NOT_FOUND', `${missing}: no such file`));
  });

  // A file root may not read is tested end to end in test/cli.test.ts, which drops root's override.
  it('maps a permission failure to UNREADABLE', () => {
    const denied = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    expect(inputErrorFor('x.pcap', denied)).toEqual(new InputError('UNREADABLE', 'x.pcap: permission denied'));
  });
});

describe('a stream', () => {
  it('counts the compressed bytes read from a file and reports each chunk', async () => {
    const file = scratchFile('tls13.pcap.gz', gzipSync(readFileSync(corpusPath('zeek/tls/tls-fragmented-handshake.pcap'))));
    const source = await openCapture(file);
    expect(source.name).toBe(file);
    let chunks = 0;
    const summary = await readCapture(source.stream, source.name, new CopyingSink(), () => {
      chunks++;
    });
    expect([summary.frames, summary.bytes, chunks]).toEqual([416, 374_521, 1]);
    expect(source.sourceBytes()).toBe(readFileSync(file).length);
  });

  it('reads a capture in small chunks, as a pipe gives it', async () => {
    const bytes = readFileSync(corpusPath('zeek/pcapng-multi-interface.pcapng'));
    const sink = new CopyingSink();
    const summary = await readCapture(Readable.from(splitAt(bytes, [3, 7, 30, 500])), 'stdin', sink);
    expect(summary).toEqual({ format: 'pcapng', linktypes: [1], frames: 6, bytes: bytes.length, damage: null });
  });

  it('stops reading the source once the capture is damaged', async () => {
    const bytes = readFileSync(corpusPath('suricata-verify/bug-1450-04_tls_DER-incomplete-header.pcap'));
    let pulled = 0;
    async function* source() {
      for (const piece of splitAt(bytes, [5100])) {
        pulled++;
        yield piece;
      }
      for (;;) {
        pulled++;
        yield Buffer.alloc(1 << 16);
      }
    }
    const summary = await readCapture(Readable.from(source()), 'endless', new CopyingSink());
    expect(summary.damage?.offset).toBe(5035);
    expect(pulled).toBeLessThan(40);
  });

  it('never fails but with NOT_A_CAPTURE, whatever the bytes', async () => {
    const prefixes = [Buffer.alloc(0), readFileSync(corpusPath('arkime/tls13.pcap')).subarray(0, 24), Buffer.from('0a0d0d0a', 'hex')];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 512 }), fc.boolean(), async (prefix, random, gzip) => {
        const raw = Buffer.concat([prefix, random]);
        const input = gzip ? gzipSync(raw) : raw;
        try {
          const summary = await readCapture(Readable.from(splitAt(input, [1, 17])), 'random', new CopyingSink());
          expect(summary.bytes).toBeLessThanOrEqual(raw.length);
        } catch (error) {
          expect(error).toBeInstanceOf(InputError);
          expect((error as InputError).code).toBe('NOT_A_CAPTURE');
        }
      }),
      { numRuns: 300 },
    );
  });
});

/**
 * PipeReader: a pipe read into one buffer of kwire's, as a live capture is. Every frame must come
 * through intact although each read reuses the buffer, also when the consumer waits between chunks
 * (the event loop runs then) and through zlib, which reads its input asynchronously.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, expect, it } from 'vitest';
import type { Frame } from '../model/frame.js';
import { pcapGlobalHeader, writePcapRecordHeader } from '../../test/helpers/pcap-file.js';
import { PipeReader, readCapture } from './index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'kwire-pipe-reader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A pcap of `count` records of varied lengths and contents (several megabytes: hundreds of pipe reads). */
function capture(count: number): Buffer {
  const parts = [pcapGlobalHeader(1)];
  for (let i = 0; i < count; i++) {
    const length = 60 + ((i * 7919) % 1440);
    const record = Buffer.alloc(16 + length, i % 251);
    writePcapRecordHeader(record, 0, 1_700_000_000 + i / 1000, length);
    record.writeUInt32BE(i, 16);
    parts.push(record);
  }
  return Buffer.concat(parts);
}

/** The digest of every frame's bytes, and the frame count, as a sink sees them. */
function digestSink() {
  const hash = createHash('sha256');
  let frames = 0;
  return {
    sink: {
      frame(frame: Frame) {
        frames++;
        hash.update(frame.buf.subarray(frame.offset, frame.offset + frame.caplen));
      },
      secrets() {},
      interfaceStats() {},
    },
    result: () => ({ frames, digest: hash.digest('hex') }),
  };
}

/** `bytes` written by `cat` into a FIFO whose reading end a PipeReader holds, as kwire's live capture sets it up. */
function pipeOf(bytes: Buffer, name: string): PipeReader {
  const file = path.join(dir, `${name}.bin`);
  writeFileSync(file, bytes);
  const fifo = path.join(dir, `${name}.fifo`);
  expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
  const read = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const write = openSync(fifo, constants.O_WRONLY);
  spawn('cat', [file], { stdio: ['ignore', write, 'inherit'] });
  closeSync(write);
  return new PipeReader(read);
}

const waitAMoment = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

it('passes every frame through intact, reusing its buffer, while the consumer waits between chunks', async () => {
  const bytes = capture(12_000);
  const expected = digestSink();
  await readCapture(Readable.from([bytes]), 'reference', expected.sink);
  const fromFile = expected.result();
  expect(fromFile.frames).toBe(12_000);

  const reader = pipeOf(bytes, 'slow');
  const slow = digestSink();
  let chunks = 0;
  const summary = await readCapture(reader, 'slow', slow.sink, () => {
    chunks++;
    return waitAMoment();
  });
  expect(summary.damage).toBeNull();
  expect(slow.result()).toEqual(fromFile);
  expect(chunks).toBeGreaterThan(100);
  expect(reader.bytesRead).toBe(bytes.length);
});

it('passes a gzip-compressed stream through zlib intact', async () => {
  const bytes = capture(12_000);
  const reference = digestSink();
  await readCapture(Readable.from([bytes]), 'plain', reference.sink);
  const compressed = digestSink();
  const summary = await readCapture(pipeOf(gzipSync(bytes, { level: 1 }), 'gzip'), 'gzip', compressed.sink, waitAMoment);
  expect(summary.damage).toBeNull();
  expect(compressed.result()).toEqual(reference.result());
});

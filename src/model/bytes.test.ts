import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { u16be, u16le, u32be, u32le } from './bytes.js';

it("reads as Buffer's readers do, and 0 for bytes out of range instead of throwing", () => {
  const buf = randomBytes(64);
  buf.fill(0xff, 0, 4);
  for (let offset = 0; offset + 4 <= buf.length; offset++) {
    expect([u16be(buf, offset), u16le(buf, offset), u32be(buf, offset), u32le(buf, offset)]).toEqual([
      buf.readUInt16BE(offset),
      buf.readUInt16LE(offset),
      buf.readUInt32BE(offset),
      buf.readUInt32LE(offset),
    ]);
  }
  expect([u16be(buf, 64), u32be(buf, 62), u32le(buf, 62)]).toEqual([0, buf.readUInt16BE(62) * 65536, buf.readUInt16LE(62)]);
});

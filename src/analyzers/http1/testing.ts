/** Test helpers shared by the http1, h2c and ssh tests: feeding a handler, building tokens. */
import type { Direction, StreamHandler } from '../../model/flow.js';

export type Segment = [dir: Direction, bytes: string | Buffer];

/** Feed segments in order, segment i in packet i + 1; each is cut into `cuts`-sized pieces (all of it at once when absent). */
export function feed(handler: StreamHandler, segments: Segment[], cuts?: (length: number) => number[]): void {
  for (const [index, [dir, data]] of segments.entries()) {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    let at = 0;
    for (const size of cuts ? cuts(bytes.length) : [bytes.length]) {
      // A reused buffer, as flow/ hands them: analyzers must copy what they keep.
      const chunk = Buffer.from(bytes.subarray(at, at + size));
      handler.onData(dir, chunk, 1700000000, index + 1);
      chunk.fill(0x7a);
      at += size;
    }
  }
  handler.onEnd('fin');
}

/** Split `length` at the given fractions (0..1), for property tests. */
export function cutsAt(fractions: number[]): (length: number) => number[] {
  return (length) => {
    const points = [...new Set(fractions.map((f) => Math.floor(f * length)))].filter((p) => p > 0 && p < length).sort((a, b) => a - b);
    const sizes: number[] = [];
    let prev = 0;
    for (const p of [...points, length]) {
      sizes.push(p - prev);
      prev = p;
    }
    return sizes.filter((s) => s > 0);
  };
}

/** An unsigned-looking JWT with the given claims (the signature is random bytes). */
export function makeJwt(claims: Record<string, unknown>): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'RS256', kid: 'k1' })}.${part(claims)}.${Buffer.from('signature-bytes-of-the-token').toString('base64url')}`;
}

/**
 * tshark and tcpflow as oracles: what they read from a capture, in a form tests compare with.
 * Both must be installed (CI installs them); a missing oracle fails the test rather than skip it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** One TCP connection as tshark's "Follow TCP Stream" reassembles it. */
export interface FollowedStream {
  stream: number;
  /** `address:port` of node 0 (the first packet's sender) and node 1. */
  nodes: [string, string];
  /** Bytes each node sent, in stream order. */
  bytes: [Buffer, Buffer];
}

/** tshark's reassembly of the given TCP streams (`-z follow,tcp,raw,N`), one tshark run for all. */
export function tsharkFollow(capture: string, streams: number[]): FollowedStream[] {
  if (streams.length === 0) return [];
  const args = ['-r', capture, '-q', ...streams.flatMap((n) => ['-z', `follow,tcp,raw,${n}`])];
  let text: string;
  try {
    text = execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 512 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (error) {
    // tshark exits non-zero on a damaged capture after printing what it read up to the damage.
    const stdout = (error as { stdout?: string }).stdout;
    if (!stdout) throw error;
    text = stdout;
  }
  const followed: FollowedStream[] = [];
  for (const block of text.split(/^={10,}$/m)) {
    const filter = /^Filter: tcp\.stream eq (\d+)$/m.exec(block);
    if (!filter) continue;
    const nodes = [...block.matchAll(/^Node ([01]): (.*)$/gm)].map((m) => m[2]);
    const hex: [string[], string[]] = [[], []];
    for (const line of block.split('\n')) {
      if (/^\t[0-9a-f]+$/.test(line)) hex[1].push(line.slice(1));
      else if (/^[0-9a-f]+$/.test(line)) hex[0].push(line);
    }
    followed.push({
      stream: Number(filter[1]),
      nodes: [nodes[0], nodes[1]],
      bytes: [Buffer.from(hex[0].join(''), 'hex'), Buffer.from(hex[1].join(''), 'hex')],
    });
  }
  return followed.sort((a, b) => a.stream - b.stream);
}

/**
 * Runs `tcpflow -r capture -o dir`: the stream files it wrote, by name, and the message with which
 * it refused the capture, if it did (tcpflow 1.6.1 knows fewer link types than kwire).
 */
export function tcpflowStreams(capture: string, dir: string): { files: Map<string, Buffer>; refused: string | null } {
  const run = spawnSync('tcpflow', ['-r', capture, '-o', dir], { encoding: 'utf8' });
  if (run.error) throw run.error;
  const refused = run.status === 0 ? null : (/^tcpflow: (.*)$/m.exec(run.stderr)?.[1] ?? `exit ${run.status}`);
  return { files: streamFiles(dir), refused };
}

/** The stream files in a folder written by tcpflow or `kwire read --streams` (tcpflow's report.xml aside). */
export function streamFiles(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  if (!existsSync(dir)) return files; // neither writes a folder for a capture without TCP payload
  for (const file of readdirSync(dir).sort()) if (file !== 'report.xml') files.set(file, readFileSync(path.join(dir, file)));
  return files;
}

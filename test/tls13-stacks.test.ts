/**
 * TLS 1.3 client authentication inferred from record sizes, on real stacks (issue 3):
 * - every capture of captures/tls13/ gives the inference its scenario expects (test/stacks/scenarios.ts);
 * - the record walker that stands in for the TLS analyzer reads the record lengths tshark reads;
 * - live: one scenario per stack (Node, OpenSSL, Go) is made again now, in a network namespace,
 *   and gives the same answer. `KWIRE_WRITE_TLS13_CAPTURES=1` rewrites every committed capture.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inferTls13ClientAuth } from '../src/analyzers/tls/tls13-inference.js';
import { SCENARIOS, recordScenario, toolsFor, type Expected, type Scenario, type Stacks } from './stacks/scenarios.js';
import { buildGo, createNetns, hasTool, makePki } from './stacks/stacks.js';
import { walkTlsRecords, type WalkedConnection } from './stacks/tls-records.js';

const CAPTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'captures', 'tls13');
const capturePath = (scenario: Scenario) => path.join(CAPTURES, `${scenario.name}.pcap`);
const WRITE = process.env.KWIRE_WRITE_TLS13_CAPTURES === '1';
/** One scenario per stack for the live test: the server's rejection, where stacks differ most. */
const LIVE = ['node-require-empty', 'openssl-reject-client', 'go-requireclientcert-nocert'];

async function inferAll(file: string): Promise<{ expected: Expected[]; connections: WalkedConnection[] }> {
  const connections = (await walkTlsRecords(file)).filter((c) => c.tls13);
  const expected = connections.map((c) => {
    const { reasoning, ...rest } = inferTls13ClientAuth(c.records, c.cipher);
    expect(reasoning).toMatch(/^[A-Z].+\.$/);
    return rest;
  });
  return { expected, connections };
}

/** Why live scenarios cannot run here, or null. */
function liveBlocker(tools: string[]): string | null {
  if (process.getuid?.() !== 0) return 'needs root for a network namespace';
  // ethtool turns offloads off: else segments larger than the MTU reach tcpdump truncated
  const missing = ['tcpdump', 'ip', 'ethtool', ...tools].filter((tool) => !hasTool(tool));
  return missing.length > 0 ? `${missing.join(', ')} not installed` : null;
}

describe('TLS 1.3 stacks, live', () => {
  let stacks: Stacks | null = null;
  const blocker = liveBlocker(['openssl']);

  beforeAll(() => {
    if (blocker !== null) return;
    const work = mkdtempSync(path.join(tmpdir(), 'kwire-tls13-'));
    stacks = { work, pki: makePki(work), go: hasTool('go') ? buildGo(work) : null, net: createNetns() };
  }, 180_000);

  afterAll(() => {
    stacks?.net.destroy();
    if (stacks) rmSync(stacks.work, { recursive: true, force: true });
  });

  if (WRITE) {
    it.skipIf(blocker !== null)('rewrites captures/tls13/', async () => {
      for (const scenario of SCENARIOS) await recordScenario(stacks!, scenario, capturePath(scenario));
    }, 300_000);
  }

  for (const name of LIVE) {
    const scenario = SCENARIOS.find((s) => s.name === name)!;
    const why = liveBlocker(toolsFor(scenario));
    it.skipIf(why !== null)(`${name}: made now, same inference as the committed capture${why ? ` (skipped: ${why})` : ''}`, async () => {
      const file = path.join(stacks!.work, `${name}.pcap`);
      await recordScenario(stacks!, scenario, file);
      expect((await inferAll(file)).expected).toEqual(scenario.expected);
    });
  }
});

describe('TLS 1.3 stacks, committed captures', () => {
  for (const scenario of SCENARIOS) {
    it(`${scenario.name}: ${scenario.client} → ${scenario.server} (${scenario.auth}, client certificate ${scenario.spec.cert})`, async () => {
      const file = capturePath(scenario);
      expect(statSync(file).size).toBeLessThan(20_000);
      const { expected, connections } = await inferAll(file);
      expect(expected).toEqual(scenario.expected);
      if (scenario.serverSuites) expect(connections.map((c) => c.cipher)).toEqual([scenario.serverSuites]);
    });
  }

  it.skipIf(!hasTool('tshark'))('the record walker reads the record lengths tshark reads', async () => {
    for (const scenario of SCENARIOS) {
      const file = capturePath(scenario);
      const out = execFileSync('tshark', ['-r', file, '-Y', 'tls', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,',
        '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'tls.record.length'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      const byDirection = new Map<string, number[]>();
      for (const line of out.trim().split('\n')) {
        const [src, dst, lengths] = line.split('\t');
        if (lengths) byDirection.set(`${src}>${dst}`, [...(byDirection.get(`${src}>${dst}`) ?? []), ...lengths.split(',').map(Number)]);
      }
      for (const c of (await inferAll(file)).connections) {
        for (const [side, key] of [['client', `${c.clientPort}>${c.serverPort}`], ['server', `${c.serverPort}>${c.clientPort}`]] as const) {
          const walked = c.records.filter((r) => r.from === side).map((r) => r.length);
          const all = byDirection.get(key) ?? [];
          // tshark lists every record of the direction, the walker those after the ServerHello
          expect(all.slice(all.length - walked.length), `${scenario.name}, ${side}`).toEqual(walked);
        }
      }
    }
  });
});

/**
 * Secrets are never printed (SPEC.md §4): the scenario captures (test/stacks/cluster/scenarios.ts)
 * carry a service-account JWT, a bootstrap token and HTTP Basic credentials, in clear and inside
 * TLS; no output of `kwire read` — the JSON document, NDJSON records, the summary, stderr — may
 * contain any of them. (`--streams` writes the raw bytes by design and is not checked.)
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASIC_B64, BOOTSTRAP_TOKEN, PLANTED_SECRETS, SA_JWT, SCENARIOS } from './stacks/cluster/scenarios.js';
import { kwire } from './helpers/cli.js';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'captures', 'scenarios');
const CLUSTER = path.join(DIR, 'cluster.yaml');
const capturePath = (name: string) => path.join(DIR, `${name}.pcap`);

describe('planted secrets', () => {
  it('are in the captures, in clear where the table says', () => {
    const holds = (name: string, secret: string) => readFileSync(capturePath(name)).includes(secret);
    expect(holds('pod-apiserver-plaintext', SA_JWT)).toBe(true);
    expect(holds('node-apiserver-insecure-port', BOOTSTRAP_TOKEN)).toBe(true);
    expect(holds('other-http-basic', BASIC_B64)).toBe(true);
    // inside TLS: encrypted
    expect(holds('pod-apiserver-vip-tls13', SA_JWT)).toBe(false);
    expect(holds('node-apiserver-no-client-cert', BOOTSTRAP_TOKEN)).toBe(false);
    expect(holds('client-apiserver-weak-tls', BASIC_B64)).toBe(false);
  });

  it('are what a leak would show: `--streams` (raw bytes by design) writes them', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kwire-secrets-'));
    try {
      const result = kwire(['read', capturePath('pod-apiserver-plaintext'), '--streams', dir, '--no-db', '-q']);
      expect(result.status, result.stderr).toBe(0);
      const bytes = Buffer.concat(readdirSync(dir).map((file) => readFileSync(path.join(dir, file))));
      expect(bytes.includes(SA_JWT)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('kwire never prints a planted secret', () => {
  const modes: [string, string[]][] = [['--json', ['--json']], ['--ndjson', ['--ndjson']], ['the summary', []]];
  for (const scenario of SCENARIOS) {
    it(`${scenario.name}`, () => {
      for (const [label, flags] of modes) {
        // without the cluster file too (other roles, other findings), for the JSON document
        for (const cluster of label === '--json' ? [['--cluster', CLUSTER], []] : [['--cluster', CLUSTER]]) {
          const result = kwire(['read', capturePath(scenario.name), ...flags, ...cluster, '--no-db', '-q']);
          expect(result.status, `${label}: ${result.stderr}`).toBe(0);
          const output = result.stdout + result.stderr;
          expect(output.length, label).toBeGreaterThan(0);
          for (const secret of PLANTED_SECRETS) expect(output.includes(secret), `${label} ${cluster.join(' ')} prints ${secret.slice(0, 12)}…`).toBe(false);
        }
      }
    });
  }
});

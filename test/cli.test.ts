/**
 * The command line as users meet it: exit statuses, one-line errors naming the file, JSON and
 * NDJSON on stdout, stdin, gzip, and --streams. Runs the built CLI (npm test builds dist/ first).
 */
import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { kwire } from './helpers/cli.js';
import { corpusPath, repoRoot } from './helpers/corpus.js';
import { analyze } from '../src/lib.js';

const getPcap = corpusPath('zeek/http/get.pcap');
const scratch = () => mkdtempSync(path.join(tmpdir(), 'kwire-cli-'));

describe('kwire read', () => {
  it('prints the SPEC.md §5 document with --json', () => {
    const result = kwire(['read', getPcap, '--json', '-q']);
    expect(result.status).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.capture).toMatchObject({ source: getPcap, format: 'pcap', linktypes: ['ETHERNET'], packets: 14, decodeErrors: 0, damage: null });
    expect(doc.flows).toHaveLength(1);
    expect(doc.flows[0]).toMatchObject({
      id: 1, src: '141.142.228.5', sport: 59856, dst: '192.150.187.43', dport: 80, state: 'closed',
      packets: { c2s: 7, s2c: 7 }, bytes: { c2s: 136, s2c: 5007 },
      gaps: { c2s: 0, s2c: 0 },
    });
    expect(doc.findings).toEqual([]);
  });

  it('prints --json exactly as JSON.stringify(analyze(), null, 2), one flow at a time', async () => {
    for (const capture of ['captures/sample-tls-http.pcap', corpusPath('arkime/empty.pcap')]) {
      const doc = await analyze(path.resolve(repoRoot, capture));
      doc.capture.source = capture;
      expect(kwire(['read', capture, '--json']).stdout).toBe(JSON.stringify(doc, null, 2) + '\n');
    }
  });

  it('reads the same capture from stdin and gzip-compressed', () => {
    const plain = JSON.parse(kwire(['read', getPcap, '--json']).stdout);
    const fromStdin = JSON.parse(kwire(['read', '-', '--json'], { input: readFileSync(getPcap) }).stdout);
    const dir = scratch();
    writeFileSync(path.join(dir, 'get.pcap.gz'), gzipSync(readFileSync(getPcap)));
    const gzipped = JSON.parse(kwire(['read', path.join(dir, 'get.pcap.gz'), '--json']).stdout);
    expect(fromStdin.flows).toEqual(plain.flows);
    expect(gzipped.flows).toEqual(plain.flows);
    expect(fromStdin.capture.source).toBe('stdin');
  });

  it('streams one record per line with --ndjson', () => {
    const result = kwire(['read', corpusPath('hotplace/http/http2.pcapng'), '--ndjson']);
    const records = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(records.filter((r) => r.type === 'flow')).toHaveLength(16);
    expect(records.at(-1)).toMatchObject({ type: 'capture', packets: 157, format: 'pcapng' });
  });

  it('prints a human summary by default', () => {
    const result = kwire(['read', getPcap]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('14 packets');
    expect(result.stdout).toContain('1 TCP connection: 1 closed');
    expect(result.stdout).toMatch(/141\.142\.228\.5:59856\s+192\.150\.187\.43:80\s+closed\s+http\/1\.1 ×1\s+-\s+-\s+7\/7\s+136\/5,007/);
  });

  it('says what reassembly met: retransmissions, reordering and bytes never seen', () => {
    const result = kwire(['read', corpusPath('zeek/tcp/reassembly.pcap')]);
    expect(result.stdout).toContain('tcp      5,538 retransmitted bytes, 22 out-of-order segments, 4,376 bytes never seen\n');
    expect(result.stdout).toMatch(/closed\s+-\s+-\s+-\s+54\/63\s+28,832\/0\s+4,376\/0\s+-\n/);
  });

  it("shows each connection's protocol and how both sides were verified", () => {
    const result = kwire(['read', 'captures/sample-tls-http.pcap']);
    const row = (id: number) => result.stdout.split('\n').find((line) => line.startsWith(`${String(id).padStart(2)}  `)) ?? '';
    expect(row(6)).toMatch(/198\.18\.0\.1:6443\s+reset\s+tls 1\.2\s+yes\s+self-signed\s/);
    expect(row(7)).toMatch(/198\.18\.0\.1:6443\s+reset\s+tls 1\.3\s+~yes\s+unknown\s/);
    expect(row(8)).toMatch(/198\.18\.0\.2:10250\s+reset\s+tls 1\.2\s+not asked\s+untrusted\s/);
    expect(row(13)).toMatch(/198\.18\.0\.2:10250\s+closed\s+tls 1\.2\s+\?\s+resumed\s/);
    expect(row(14)).toMatch(/198\.18\.0\.1:8080\s+closed\s+http\/1\.1 ×3\s+-\s+-\s/);
  });

  it('writes tcpflow-named streams with --streams', () => {
    const dir = scratch();
    expect(kwire(['read', getPcap, '-q', '--streams', dir]).status).toBe(0);
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(2);
    expect(files.every((f) => /^(141\.142\.228\.005\.59856-192\.150\.187\.043\.00080|192\.150\.187\.043\.00080-141\.142\.228\.005\.59856)$/.test(f))).toBe(true);
    const request = files.find((f) => f.endsWith('.00080'))!;
    expect(readFileSync(path.join(dir, request), 'latin1')).toMatch(/^GET \/download\/CHANGES\.bro-aux\.txt HTTP\/1\.1\r\n/);
  });

  it('exits 2 with one line naming the file for input that is not a capture', () => {
    const malformed = corpusPath('node-pcap-parser/malformed.pcap');
    const result = kwire(['read', malformed]);
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(malformed);
    expect(result.stderr).toContain('not a pcap or pcapng capture');
  });

  it('exits 2 for a directory, a missing file and an empty file', () => {
    const dir = scratch();
    const empty = path.join(dir, 'empty.pcap');
    writeFileSync(empty, '');
    for (const [input, says] of [[dir, 'directory'], [path.join(dir, 'nope.pcap'), 'no such file'], [empty, 'empty']]) {
      const result = kwire(['read', input]);
      expect(result.status, input).toBe(2);
      expect(result.stderr.trim().split('\n'), input).toHaveLength(1);
      expect(result.stderr).toContain(input);
      expect(result.stderr.toLowerCase()).toContain(says);
    }
  });

  it('exits 2 with one line when the file may not be read', () => {
    const dir = scratch();
    const locked = path.join(dir, 'locked.pcap');
    writeFileSync(locked, readFileSync(getPcap));
    chmodSync(locked, 0);
    // Root reads any file: as root, the CLI runs without the capabilities that let it.
    const result = kwire(['read', locked], { asRootWithoutOverride: process.getuid?.() === 0 });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`kwire: ${locked}: permission denied\n`);
  });

  it('keeps every flow before the damage of a corrupt capture, warns with the offset and exits 0', () => {
    const corrupt = corpusPath('suricata-verify/bug-1450-04_tls_DER-incomplete-header.pcap');
    const result = kwire(['read', corrupt, '--json']);
    expect(result.status).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.capture.packets).toBe(6);
    expect(doc.flows).toHaveLength(1);
    expect(doc.capture.damage.offset).toBeGreaterThan(24);
    expect(result.stderr).toContain(corrupt);
    expect(result.stderr).toContain(`at byte ${doc.capture.damage.offset}`);
  });

  it('treats a capture cut mid-record (a killed tcpdump) the same way', () => {
    const dir = scratch();
    const whole = readFileSync(getPcap);
    const cut = path.join(dir, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, whole.length - 10)); // inside the last record
    const result = kwire(['read', cut, '--json']);
    expect(result.status).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.capture.packets).toBe(13);
    expect(doc.flows).toHaveLength(1);
    expect(result.stderr).toMatch(/warning: .*cut\.pcap/);
  });

  it('exits 2 on bad usage', () => {
    expect(kwire(['read']).status).toBe(2);
    expect(kwire(['read', getPcap, '--bogus']).stderr).toMatch(/^kwire: .*--bogus/);
    expect(kwire(['frobnicate']).status).toBe(2);
    expect(kwire(['read', getPcap, '--json', '--ndjson']).status).toBe(2);
    expect(kwire(['read', getPcap, '--db', 'x.db', '--no-db'])).toMatchObject({ status: 2, stderr: 'kwire: read: --db and --no-db are exclusive\n' });
    expect(kwire(['report', '--format', 'pdf'])).toMatchObject({ status: 2, stderr: "kwire: report: --format takes text, json, markdown (got 'pdf')\n" });
    expect(kwire(['report', getPcap])).toMatchObject({ status: 2, stderr: `kwire: report: it reads the database (--db), not a capture (got '${getPcap}')\n` });
    expect(kwire(['report', '--capture', 'latest']).status).toBe(2);
  });

  it('documents every command with --help', () => {
    expect(kwire(['--help']).stdout).toMatch(/kwire read[\s\S]*kwire check[\s\S]*kwire report/);
    expect(kwire(['report', '--help']).stdout).toMatch(/--db PATH[\s\S]*--format FORMAT[\s\S]*--capture ID[\s\S]*Examples:/);
    for (const command of ['read', 'check']) {
      const help = kwire([command, '--help']);
      expect(help.status).toBe(0);
      for (const option of ['--streams DIR', '--cluster PATH', '--ca PATH', '--db PATH', '--no-db', '--json', '--ndjson', 'Examples:', 'Exit status']) expect(help.stdout, `${command} ${option}`).toContain(option);
    }
    expect(kwire(['check', '--help']).stdout).toContain('--fail-on LEVEL');
  });
});

describe('kwire read --cluster and --ca', () => {
  const sample = 'captures/sample-tls-http.pcap';
  const clusterFile = (text: string, name = 'cluster.yaml') => {
    const file = path.join(scratch(), name);
    writeFileSync(file, text);
    return file;
  };
  const sampleCluster = () => clusterFile('apiservers: [198.18.0.1]\nnodes:\n  - {name: kw-node-1, ip: 198.18.0.11}\n  - {name: kw-node-2, ip: 198.18.0.2}\n');

  it('names every connection from the cluster file, in the JSON and in the summary', () => {
    const cluster = sampleCluster();
    const doc = JSON.parse(kwire(['read', sample, '--cluster', cluster, '--json']).stdout);
    expect(doc.flows[5]).toMatchObject({ id: 6, path: 'node->apiserver', via: null, roles: { client: 'node:kw-node-1', server: 'apiserver', evidence: ['cluster file'] } });
    expect(doc.flows[1]).toMatchObject({ id: 2, path: 'client->kubelet', via: null, roles: { client: null, server: 'kubelet:kw-node-2', evidence: ['cluster file'] } });
    const summary = kwire(['read', sample, '--cluster', cluster]).stdout.split('\n');
    expect(summary.find((line) => line.startsWith('id  '))).toMatch(/^id\s+start \(UTC\)\s+path\s+client\s+server\s+state/);
    expect(summary.find((line) => line.startsWith(' 6  '))).toMatch(/^ 6  \S+  node->apiserver\s+198\.18\.0\.11:\d+\s+198\.18\.0\.1:6443\s/);
    expect(summary.find((line) => line.startsWith('11  '))).toMatch(/^11  \S+  other\s+198\.18\.0\.11:\d+\s+198\.18\.0\.2:10256\s/);
    expect(Math.max(...summary.map((line) => line.length))).toBeLessThanOrEqual(200);
  });

  it('reads a kubectl List as a cluster file', () => {
    const list = { kind: 'List', items: [{ kind: 'Node', metadata: { name: 'kw-node-2' }, status: { addresses: [{ type: 'InternalIP', address: '198.18.0.2' }] } }] };
    const doc = JSON.parse(kwire(['read', sample, '--cluster', clusterFile(JSON.stringify(list), 'list.json'), '--json']).stdout);
    expect(doc.flows[1].roles).toEqual({ client: null, server: 'kubelet:kw-node-2', evidence: ['cluster file'] });
  });

  it('exits 2 with one line naming the file, the line and the field of a bad cluster file', () => {
    const bad = clusterFile('apiservers:\n  - 198.18.0.1\n  - 10.0.0.300\n');
    const result = kwire(['read', sample, '--cluster', bad]);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`kwire: ${bad}:3: apiservers[1]: "10.0.0.300" is not an address or CIDR\n`);
  });

  it('exits 2 naming a --ca bundle that is missing or holds no certificate', () => {
    const missing = path.join(scratch(), 'missing.crt');
    expect(kwire(['read', sample, '--ca', missing])).toMatchObject({ status: 2, stderr: `kwire: ${missing}: cannot read it (ENOENT)\n` });
    const empty = clusterFile('not a certificate\n', 'empty.pem');
    expect(kwire(['read', sample, '--ca', empty])).toMatchObject({
      status: 2,
      stderr: `kwire: ${empty}: no PEM certificate (-----BEGIN CERTIFICATE-----) found\n`,
    });
  });
});

describe('findings and kwire check', () => {
  const sample = 'captures/sample-tls-http.pcap';
  const rulesByFlow = (doc: { findings: { flowId: number; rule: string; severity: string }[] }) => {
    const byFlow: Record<number, string[]> = {};
    for (const finding of doc.findings) (byFlow[finding.flowId] ??= []).push(`${finding.rule}:${finding.severity}`);
    return byFlow;
  };

  it('reports the findings of the bundled capture, flow by flow, worst first', () => {
    const doc = JSON.parse(kwire(['read', sample, '--json']).stdout);
    expect(rulesByFlow(doc)).toEqual({
      2: ['KW004:high'], 5: ['KW004:high'], 8: ['KW004:high'],
      3: ['KW013:critical', 'KW001:high', 'KW011:high'], 10: ['KW013:critical', 'KW001:high', 'KW011:high'], 14: ['KW013:critical', 'KW001:high', 'KW011:high'],
      9: ['KW004:medium'],
    });
    const inferred = doc.findings.find((finding: { flowId: number }) => finding.flowId === 9);
    expect(inferred.evidence).toMatchObject({ basis: 'inferred' });
    // Every finding cites the flow's first packet and the packets of what it saw.
    for (const finding of doc.findings) {
      const flow = doc.flows.find((candidate: { id: number }) => candidate.id === finding.flowId);
      expect(finding.path).toBe(flow.path);
      expect(finding.evidence.packets.length, finding.rule).toBeGreaterThan(0);
      expect(finding.remediation.length).toBeGreaterThan(20);
      expect(finding.references.length).toBeGreaterThan(0);
    }
  });

  it('streams each flow\'s findings right after it with --ndjson', () => {
    const records = kwire(['read', sample, '--ndjson']).stdout.trim().split('\n').map((line) => JSON.parse(line));
    const json = JSON.parse(kwire(['read', sample, '--json']).stdout);
    const streamed = records.filter((record) => record.type === 'finding').map(({ type: _, ...finding }) => finding);
    expect(streamed).toEqual(json.findings);
    records.forEach((record, i) => {
      if (record.type !== 'finding') return;
      const owner = records.slice(0, i).reverse().find((earlier) => earlier.type === 'flow');
      expect(owner.id).toBe(record.flowId);
    });
  });

  it('prints the path matrix and the findings grouped by rule, worst first, with evidence and fix', () => {
    const summary = kwire(['read', sample]).stdout;
    const lines = summary.split('\n');
    expect(lines.find((line) => line.startsWith('path '))).toMatch(/^path\s+connections\s+mTLS\s+server-only\s+unverified\s+tls \?\s+plaintext\s+other\s+findings$/);
    expect(lines.find((line) => line.startsWith('client->kubelet '))).toMatch(/^client->kubelet\s+4\s+-\s+-\s+-\s+4\s+-\s+-\s+3 high$/);
    expect(lines.find((line) => line.startsWith('client->apiserver '))).toMatch(/^client->apiserver\s+3\s+-\s+-\s+-\s+1\s+2\s+-\s+2 critical, 4 high$/);
    expect(summary).toContain('findings 13: 3 critical, 9 high, 1 medium');
    const groups = lines.filter((line) => /^KW\d{3} /.test(line)).map((line) => line.split('  ')[0]);
    expect(groups).toEqual(['KW013 CRITICAL', 'KW001 HIGH', 'KW004 HIGH', 'KW011 HIGH', 'KW004 MEDIUM']);
    expect(summary).toMatch(/KW004 MEDIUM .*\n  flow 9  198\.18\.0\.11:\d+ → 198\.18\.0\.1:8443  no CertificateRequest; TLS 1\.3 \[inferred\]  \(packets \d+\)\n  fix: kube-apiserver: --client-ca-file/);
  });

  it('exits 1 when a finding at or above --fail-on exists, 0 otherwise, 2 on a bad level', () => {
    expect(kwire(['check', sample, '-q'])).toMatchObject({ status: 1, stderr: 'kwire: check failed: 13 findings at or above low\n' });
    expect(kwire(['check', sample, '--fail-on', 'critical', '-q'])).toMatchObject({ status: 1, stderr: 'kwire: check failed: 3 findings at or above critical\n' });
    const clean = kwire(['check', getPcap]);
    expect(clean).toMatchObject({ status: 0, stderr: 'kwire: check passed: no finding at or above low\n' });
    expect(clean.stdout).toContain('findings none');
    const bad = kwire(['check', sample, '--fail-on', 'severe']);
    expect(bad).toMatchObject({ status: 2, stderr: "kwire: check: --fail-on takes info, low, medium, high, critical (got 'severe')\n" });
    // The same output as read, in every format.
    expect(JSON.parse(kwire(['check', sample, '--json', '-q']).stdout)).toEqual(JSON.parse(kwire(['read', sample, '--json']).stdout));
  });
});

describe('kwire read --keylog', () => {
  const sample = 'captures/sample-tls-http.pcap';

  it('decrypts TLS with a key log: requests inside TLS, client authentication decrypted, counted lines', () => {
    const doc = JSON.parse(kwire(['read', sample, '--keylog', 'captures/sample-tls-http.keys', '--json']).stdout);
    expect(doc.capture.keylog).toMatchObject({ file: 'captures/sample-tls-http.keys', badLines: 0 });
    expect(doc.capture.keylog.secrets).toBeGreaterThan(0);
    const tls13 = doc.flows.filter((flow: { tls?: { version: string; resumed: boolean } }) => flow.tls?.version === '1.3' && !flow.tls.resumed);
    expect(tls13.length).toBeGreaterThan(0);
    for (const flow of tls13) expect(flow.tls.clientAuthEvidence, `flow ${flow.id}`).toBe('decrypted');
    // The 12 requests inside TLS are read: with the 8 in clear, all 20 of captures/README.md.
    expect(doc.flows.reduce((sum: number, flow: { http?: { requests: unknown[] } }) => sum + (flow.http?.requests.length ?? 0), 0)).toBe(20);
    const decrypted = doc.findings.filter((finding: { evidence: { basis: string } }) => finding.evidence.basis === 'decrypted');
    expect(decrypted.map((finding: { rule: string }) => finding.rule)).toContain('KW011');
  });

  it('uses the secrets of a pcapng Decryption Secrets Block without --keylog', () => {
    const doc = JSON.parse(kwire(['read', corpusPath('derived/hotplace-http2-with-dsb.pcapng'), '--json']).stdout);
    expect(doc.capture.keylog).toMatchObject({ file: null, badLines: 0 });
    expect(doc.flows.some((flow: { http?: { version: string; requests: unknown[] } }) => flow.http?.version === '2' && flow.http.requests.length > 0)).toBe(true);
  });

  it('exits 2 naming a key log that is missing, before reading the capture', () => {
    const missing = path.join(scratch(), 'keys.log');
    expect(kwire(['read', sample, '--keylog', missing])).toMatchObject({ status: 2, stdout: '', stderr: `kwire: ${missing}: key log file not found\n` });
  });
});

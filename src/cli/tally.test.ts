/**
 * The summary does not depend on the order flows come in: `read` tallies them as they end,
 * `report` by id. Flows of the sample and of every scenario capture (numbered one after another),
 * tallied in id order, reversed and shuffled, with lists shorter than the flows and findings.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { analyze, loadClusterFile } from '../lib.js';
import type { FlowJson } from '../model/document.js';
import type { Finding } from '../model/finding.js';
import { renderMarkdown } from './markdown.js';
import { Tally } from './tally.js';
import { renderSummary } from './text.js';

const scenarios = 'captures/scenarios';
const cluster = loadClusterFile(path.join(scenarios, 'cluster.yaml'));
const captures = ['captures/sample-tls-http.pcap', ...readdirSync(scenarios).filter((name) => name.endsWith('.pcap')).map((name) => path.join(scenarios, name))];

const records: { flow: FlowJson; findings: Finding[] }[] = [];
for (const capture of captures) {
  const doc = await analyze(capture, { cluster });
  const offset = records.length;
  for (const flow of doc.flows) {
    const id = offset + flow.id;
    const findings = doc.findings.filter((finding) => finding.flowId === flow.id).map((finding) => ({ ...finding, flowId: id }));
    records.push({ flow: { ...flow, id }, findings });
  }
}
const { capture } = await analyze(captures[0]);

function summaries(order: typeof records): string[] {
  const tally = new Tally({ listed: 7, examples: 2 });
  for (const { flow, findings } of order) tally.add(flow, findings);
  return [renderSummary(capture, tally), renderMarkdown(capture, tally)];
}

describe('the summary', () => {
  it('is the same whatever order the flows end in', () => {
    expect(records.length).toBeGreaterThan(40);
    expect(new Set(records.flatMap(({ findings }) => findings.map((finding) => finding.rule))).size).toBeGreaterThan(8);
    const byId = summaries(records);
    expect(byId[0]).toContain(`… and ${records.length - 7} more connections`);
    expect(summaries([...records].reverse())).toEqual(byId);
    fc.assert(
      fc.property(fc.shuffledSubarray(records, { minLength: records.length }), (shuffled) => {
        expect(summaries(shuffled)).toEqual(byId);
      }),
      { numRuns: 50 },
    );
  });
});

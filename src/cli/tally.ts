/**
 * What the summaries count, as data: the path matrix and the findings grouped by rule. The text
 * summary (text.ts) and the markdown report (markdown.ts) print the same numbers, from one Tally.
 */
import type { CommPath, FlowJson, KwireDocument } from '../model/document.js';
import { PATH_ORDER } from '../model/display.js';
import { SEVERITIES, type Finding, type Severity } from '../model/finding.js';
import { postureOf, type Posture } from '../findings/index.js';

export interface MatrixRow {
  path: CommPath;
  connections: number;
  postures: Map<Posture, number>;
  severities: Map<Severity, number>;
}

/** The findings of one rule at one severity. */
export interface FindingGroup {
  /** The first finding: the rule's id, name, title and detail. */
  first: Finding;
  count: number;
  /** Paths the findings were on, in the order met. */
  paths: Set<CommPath>;
  /** The first findings, each with its flow. */
  examples: { finding: Finding; flow: FlowJson }[];
  /** Each distinct fix, with the paths it is for (a rule's fix may depend on the path). */
  fixes: Map<string, Set<CommPath>>;
  references: Set<string>;
}

export interface TallyLimits {
  /** Connections kept for listing, the first ones. */
  listed: number;
  /** Findings kept as examples per group. */
  examples: number;
}

/**
 * What the summaries print, counted flow by flow as connections end: the path matrix, the
 * connections' states, the findings by rule with a few examples each, and the first connections.
 * Its size does not grow with the capture (a live capture may run for days), so the summary needs
 * no list of every flow.
 */
export class Tally {
  connections = 0;
  findings = 0;
  readonly states = new Map<string, number>();
  readonly severities = new Map<Severity, number>();
  /** One row per path of PATH_ORDER, every path present (zeros included). */
  readonly matrix: ReadonlyMap<CommPath, MatrixRow> = new Map(PATH_ORDER.map((path) => [path, { path, connections: 0, postures: new Map(), severities: new Map() }]));
  /** The first connections, with their findings. */
  readonly listed: { flow: FlowJson; findings: Finding[] }[] = [];
  private readonly groups = new Map<string, FindingGroup>();

  constructor(private readonly limits: TallyLimits) {}

  /** A whole document's flows and findings, as its run met them. */
  static of(doc: Pick<KwireDocument, 'flows' | 'findings'>, limits: TallyLimits): Tally {
    const tally = new Tally(limits);
    const byFlow = groupBy(doc.findings, (finding) => finding.flowId);
    for (const flow of doc.flows) tally.add(flow, byFlow.get(flow.id) ?? []);
    return tally;
  }

  add(flow: FlowJson, findings: Finding[]): void {
    this.connections++;
    increment(this.states, flow.state);
    const row = this.matrix.get(flow.path)!;
    row.connections++;
    increment(row.postures, postureOf(flow, findings));
    if (this.listed.length < this.limits.listed) this.listed.push({ flow, findings });
    for (const finding of findings) {
      this.findings++;
      increment(this.severities, finding.severity);
      increment(row.severities, finding.severity);
      this.addToGroup(finding, flow);
    }
  }

  /** Grouped by rule and severity, worst first, then by rule id. */
  findingGroups(): FindingGroup[] {
    return [...this.groups.values()].sort(
      (a, b) => SEVERITIES.indexOf(b.first.severity) - SEVERITIES.indexOf(a.first.severity) || a.first.rule.localeCompare(b.first.rule),
    );
  }

  private addToGroup(finding: Finding, flow: FlowJson): void {
    const key = `${finding.rule} ${finding.severity}`;
    let group = this.groups.get(key);
    if (!group) {
      group = { first: finding, count: 0, paths: new Set(), examples: [], fixes: new Map(), references: new Set() };
      this.groups.set(key, group);
    }
    group.count++;
    group.paths.add(finding.path);
    if (group.examples.length < this.limits.examples) group.examples.push({ finding, flow });
    const fixPaths = group.fixes.get(finding.remediation);
    if (fixPaths) fixPaths.add(finding.path);
    else group.fixes.set(finding.remediation, new Set([finding.path]));
    for (const reference of finding.references) group.references.add(reference);
  }
}

/** Items by key, in their order; one pass, each list appended to in place (a capture may hold a hundred thousand findings of one rule). */
function groupBy<K, T>(items: T[], keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

/** `2 critical, 1 high`, worst first; '' for none. */
export function severityList(severities: Map<Severity, number>, format: (n: number) => string = String): string {
  return [...SEVERITIES].reverse().filter((severity) => severities.get(severity)).map((severity) => `${format(severities.get(severity)!)} ${severity}`).join(', ');
}

function increment<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/**
 * What the summaries count, as data: the path matrix and the findings grouped by rule. The text
 * summary (text.ts) and the markdown report (markdown.ts) print the same numbers, from one Tally.
 */
import type { CommPath, FlowJson } from '../model/document.js';
import { PATH_ORDER } from '../model/display.js';
import { SEVERITIES, type Finding, type Severity } from '../model/finding.js';
import { postureOf, type Posture } from '../findings/index.js';

export interface MatrixRow {
  path: CommPath;
  connections: number;
  postures: Map<Posture, number>;
  severities: Map<Severity, number>;
}

/**
 * The findings of one rule at one severity. "First" and every order here are by flow id, so that
 * `read` (flows as they end) and `report` (flows by id) print the same summary.
 */
export interface FindingGroup {
  /** The first finding: the rule's id, name, title and detail. */
  first: Finding;
  count: number;
  /** Paths the findings were on. */
  paths: CommPath[];
  /** The first findings, each with its flow. */
  examples: { finding: Finding; flow: FlowJson }[];
  /** Each distinct fix, with the paths it is for (a rule's fix may depend on the path). */
  fixes: [remediation: string, paths: CommPath[]][];
  references: string[];
}

/** A group as it is counted. */
interface GroupCount {
  first: Finding;
  count: number;
  paths: FirstMet<CommPath>;
  examples: { finding: Finding; flow: FlowJson }[];
  /** Each distinct fix with the paths it was met on. */
  fixes: Map<string, FirstMet<CommPath>>;
  references: FirstMet<string>;
}

export interface TallyLimits {
  /** Connections kept for listing, those of the lowest ids. */
  listed: number;
  /** Findings kept as examples per group. */
  examples: number;
}

/**
 * What the summaries print, counted flow by flow as connections end: the path matrix, the
 * connections' states, the findings by rule with a few examples each, and the first connections.
 * Its size does not grow with the capture (a live capture may run for days), so the summary needs
 * no list of every flow. What it prints does not depend on the order flows come in: "first" is the
 * lowest flow id (connections are numbered as they start), and lists are in flow-id order.
 */
export class Tally {
  connections = 0;
  findings = 0;
  private readonly stateCounts = new Map<string, number>();
  private readonly stateOrder = new FirstMet<string>();
  readonly severities = new Map<Severity, number>();
  /** One row per path of PATH_ORDER, every path present (zeros included). */
  readonly matrix: ReadonlyMap<CommPath, MatrixRow> = new Map(PATH_ORDER.map((path) => [path, { path, connections: 0, postures: new Map(), severities: new Map() }]));
  /** The connections of the lowest ids, with their findings, by id. */
  readonly listed: { flow: FlowJson; findings: Finding[] }[] = [];
  private readonly groups = new Map<string, GroupCount>();

  constructor(private readonly limits: TallyLimits) {}

  add(flow: FlowJson, findings: Finding[]): void {
    this.connections++;
    increment(this.stateCounts, flow.state);
    this.stateOrder.meet(flow.state, flow.id);
    const row = this.matrix.get(flow.path)!;
    row.connections++;
    increment(row.postures, postureOf(flow, findings));
    keepLowest(this.listed, { flow, findings }, (listed) => listed.flow.id, this.limits.listed);
    for (const finding of findings) {
      this.findings++;
      increment(this.severities, finding.severity);
      increment(row.severities, finding.severity);
      this.addToGroup(finding, flow);
    }
  }

  /** Each state with its count, in the order of the first connection in it. */
  states(): [state: string, count: number][] {
    return this.stateOrder.inOrder().map((state) => [state, this.stateCounts.get(state)!]);
  }

  /** Grouped by rule and severity, worst first, then by rule id. */
  findingGroups(): FindingGroup[] {
    return [...this.groups.values()]
      .sort((a, b) => SEVERITIES.indexOf(b.first.severity) - SEVERITIES.indexOf(a.first.severity) || a.first.rule.localeCompare(b.first.rule))
      .map((group) => ({
        first: group.first,
        count: group.count,
        paths: group.paths.inOrder(),
        examples: group.examples,
        // A fix is first met with the first of its paths.
        fixes: [...group.fixes].sort(([, a], [, b]) => a.compareFirst(b)).map(([remediation, paths]) => [remediation, paths.inOrder()]),
        references: group.references.inOrder(),
      }));
  }

  private addToGroup(finding: Finding, flow: FlowJson): void {
    const key = `${finding.rule} ${finding.severity}`;
    let group = this.groups.get(key);
    if (!group) {
      group = { first: finding, count: 0, paths: new FirstMet(), examples: [], fixes: new Map(), references: new FirstMet() };
      this.groups.set(key, group);
    }
    const id = flow.id;
    group.count++;
    if (id < group.first.flowId) group.first = finding;
    group.paths.meet(finding.path, id);
    keepLowest(group.examples, { finding, flow }, (example) => example.flow.id, this.limits.examples);
    let fixPaths = group.fixes.get(finding.remediation);
    if (!fixPaths) group.fixes.set(finding.remediation, (fixPaths = new FirstMet()));
    fixPaths.meet(finding.path, id);
    finding.references.forEach((reference, position) => group.references.meet(reference, id, position));
  }
}

/**
 * Keys in the order a reading of the flows by id meets them, whatever order the flows come in:
 * each key keeps the lowest (flow id, position in that flow's list) it was met at.
 */
class FirstMet<K> {
  private readonly met = new Map<K, [flowId: number, position: number]>();

  meet(key: K, flowId: number, position = 0): void {
    const rank: [number, number] = [flowId, position];
    const seen = this.met.get(key);
    if (seen === undefined || byRank(rank, seen) < 0) this.met.set(key, rank);
  }

  inOrder(): K[] {
    return [...this.met].sort(([, a], [, b]) => byRank(a, b)).map(([key]) => key);
  }

  /** Which of two sets met its first key first (each has met one at least). */
  compareFirst(other: FirstMet<unknown>): number {
    return byRank(this.lowest(), other.lowest());
  }

  private lowest(): [number, number] {
    return [...this.met.values()].reduce((low, rank) => (byRank(rank, low) < 0 ? rank : low));
  }
}

const byRank = (a: [number, number], b: [number, number]): number => a[0] - b[0] || a[1] - b[1];

/** Adds `item` to `list` (sorted by id), keeping only the `limit` of lowest ids. */
function keepLowest<T>(list: T[], item: T, idOf: (item: T) => number, limit: number): void {
  const id = idOf(item);
  if (list.length >= limit && id > idOf(list[list.length - 1])) return;
  let at = list.length;
  while (at > 0 && idOf(list[at - 1]) > id) at--;
  list.splice(at, 0, item);
  if (list.length > limit) list.pop();
}

/** `2 critical, 1 high`, worst first; '' for none. */
export function severityList(severities: Map<Severity, number>, format: (n: number) => string = String): string {
  return [...SEVERITIES].reverse().filter((severity) => severities.get(severity)).map((severity) => `${format(severities.get(severity)!)} ${severity}`).join(', ');
}

function increment<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

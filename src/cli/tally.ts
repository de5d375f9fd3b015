/**
 * What the summaries count, as data: the path matrix and the findings grouped by rule. The text
 * summary (text.ts) and the markdown report (markdown.ts) print the same numbers.
 */
import type { CommPath, FlowJson } from '../model/document.js';
import { SEVERITIES, type Finding, type Severity } from '../model/finding.js';
import { postureOf, type Posture } from '../findings/index.js';

/** SPEC.md §3, in the order of the Kubernetes page. */
export const PATH_ORDER: readonly CommPath[] = [
  'node->apiserver', 'pod->apiserver', 'client->apiserver', 'apiserver->kubelet', 'client->kubelet',
  'apiserver->node', 'apiserver->pod', 'apiserver->service', 'apiserver->etcd', 'tunnel', 'other',
];

export interface MatrixRow {
  path: CommPath;
  connections: number;
  postures: Map<Posture, number>;
  severities: Map<Severity, number>;
}

/** One row per path of PATH_ORDER, every path present (zeros included). */
export function pathMatrix(flows: FlowJson[], findings: Finding[]): MatrixRow[] {
  const byFlow = findingsByFlow(findings);
  const rows = new Map(PATH_ORDER.map((path) => [path, { path, connections: 0, postures: new Map(), severities: new Map() } as MatrixRow]));
  for (const flow of flows) {
    const row = rows.get(flow.path)!;
    const own = byFlow.get(flow.id) ?? [];
    row.connections++;
    increment(row.postures, postureOf(flow, own));
    for (const finding of own) increment(row.severities, finding.severity);
  }
  return [...rows.values()];
}

/** Findings grouped by rule and severity, worst first, then by rule id. */
export function groupFindings(findings: Finding[]): Finding[][] {
  const groups = groupBy(findings, (finding) => `${finding.rule} ${finding.severity}`);
  return [...groups.values()].sort((a, b) => SEVERITIES.indexOf(b[0].severity) - SEVERITIES.indexOf(a[0].severity) || a[0].rule.localeCompare(b[0].rule));
}

/** The distinct fixes of a group of findings, each with the paths it is for (a rule's fix may depend on the path). */
export function fixesOf(group: Finding[]): { remediation: string; paths: string[] }[] {
  const paths = new Map<string, Set<string>>();
  for (const finding of group) paths.set(finding.remediation, (paths.get(finding.remediation) ?? new Set()).add(finding.path));
  return [...paths].map(([remediation, forPaths]) => ({ remediation, paths: [...forPaths] }));
}

export function findingsByFlow(findings: Finding[]): Map<number, Finding[]> {
  return groupBy(findings, (finding) => finding.flowId);
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

export function severityCounts(findings: Finding[]): Map<Severity, number> {
  const counts = new Map<Severity, number>();
  for (const finding of findings) increment(counts, finding.severity);
  return counts;
}

/** `2 critical, 1 high`, worst first; '' for none. */
export function severityList(severities: Map<Severity, number>, format: (n: number) => string = String): string {
  return [...SEVERITIES].reverse().filter((severity) => severities.get(severity)).map((severity) => `${format(severities.get(severity)!)} ${severity}`).join(', ');
}

export function endpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export function isoTime(ts: number): string {
  return new Date(ts * 1000).toISOString().replace('T', ' ').replace('Z', '');
}

function increment<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

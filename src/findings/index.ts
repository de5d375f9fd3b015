/**
 * findings/: the rule catalogue of SPEC.md §4 applied to each finished flow (catalogue.ts holds
 * the rules as data). Pure: a flow and its context in, the findings out, worst first.
 */
import type { FlowJson } from '../model/document.js';
import { SEVERITIES, type Finding } from '../model/finding.js';
import { RULES } from './catalogue.js';
import type { RuleContext } from './evidence.js';

export type { RuleContext } from './evidence.js';
export { RULES, type Rule } from './catalogue.js';
export { POSTURES, POSTURE_TITLES, postureOf, type Posture } from './posture.js';

export function findingsFor(flow: FlowJson, context: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const rule of RULES) {
    const hit = rule.match(flow, context);
    if (!hit) continue;
    findings.push({
      rule: rule.id,
      name: rule.name,
      severity: hit.severity ?? rule.severity,
      flowId: flow.id,
      path: flow.path,
      title: rule.title,
      detail: hit.detail,
      remediation: rule.remediation(flow),
      references: rule.references(flow),
      evidence: { basis: hit.basis, packets: hit.packets, certificates: hit.certificates ?? [], facts: hit.facts },
    });
  }
  return findings.sort((a, b) => severityRank(b) - severityRank(a));
}

export const severityRank = (finding: Pick<Finding, 'severity'>): number => SEVERITIES.indexOf(finding.severity);

/**
 * `kwire report --format markdown`: the path matrix and the findings, for a ticket or a pull
 * request. The same numbers as the text summary (tally.ts); every finding with its evidence, fix
 * and references, grouped by rule, worst first.
 */
import type { CaptureJson } from '../model/document.js';
import { POSTURES, POSTURE_TITLES } from '../findings/index.js';
import { endpoint, isoTime } from '../model/display.js';
import { severityList, type Tally } from './tally.js';

/** Flows listed under each rule; the rest are counted. */
export const FLOWS_PER_RULE = 20;

export function renderMarkdown(capture: CaptureJson, tally: Tally): string {
  const span = capture.firstTs === null || capture.lastTs === null ? 'no packets' : `${isoTime(capture.firstTs)} → ${isoTime(capture.lastTs)} UTC`;
  const out = [
    `# kwire report: ${code(capture.source)}`,
    '',
    `${capture.format}, ${capture.packets} packets, ${tally.connections} TCP connections, ${span}.` +
      (capture.damage ? ` Damaged at byte ${capture.damage.offset} (${capture.damage.message}): every connection before it is here.` : '') +
      (capture.interrupted ? ' Interrupted before the end of its source.' : ''),
    '',
    '## Paths',
    '',
    `| path | connections | ${POSTURES.map((posture) => POSTURE_TITLES[posture]).join(' | ')} | findings |`,
    `|---|--:|${POSTURES.map(() => '--:').join('|')}|---|`,
    ...[...tally.matrix.values()].map(
      (row) => `| ${row.path} | ${row.connections} | ${POSTURES.map((posture) => row.postures.get(posture) ?? 0).join(' | ')} | ${severityList(row.severities) || '-'} |`,
    ),
    '',
    '*mTLS*: server verified and client certificate; *server-only*: server verified, no client certificate; *unverified*: the client went on with a server it cannot have verified; *tls ?*: the packets cannot tell (TLS 1.3 without keys, no trust anchors, resumed).',
    '',
    `## Findings${tally.findings ? `: ${severityList(tally.severities)}` : ''}`,
    '',
  ];
  if (tally.findings === 0) out.push('None.', '');
  for (const group of tally.findingGroups()) {
    const { first } = group;
    out.push(`### ${first.rule} ${first.severity}: ${first.title} (${group.count})`, '', `\`${first.name}\` — flow ${first.flowId}: ${first.detail}`, '');
    for (const { finding, flow } of group.examples.slice(0, FLOWS_PER_RULE)) {
      const basis = finding.evidence.basis === 'observed' ? '' : ` *(${finding.evidence.basis})*`;
      out.push(`- flow ${finding.flowId} \`${endpoint(flow.src, flow.sport)} → ${endpoint(flow.dst, flow.dport)}\` ${finding.path}: ${finding.evidence.facts.map(code).join('; ')}${basis} (packets ${finding.evidence.packets.join(', ')})`);
    }
    if (group.count > FLOWS_PER_RULE) out.push(`- … and ${group.count - FLOWS_PER_RULE} more`);
    const fixes = group.fixes;
    out.push(
      '',
      ...fixes.map(([remediation, forPaths]) => `**Fix${fixes.length > 1 ? ` (${forPaths.join(', ')})` : ''}:** ${remediation}`),
      '',
      ...group.references.map((reference) => `- ${reference}`),
      '',
    );
  }
  return out.join('\n');
}

/** Inline code, safe for any text (backticks inside are doubled around). */
function code(text: string): string {
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
}

/**
 * The findings view: each rule that fired, worst first, with its count and title, then the first
 * flows behind it (Enter opens one), and how to fix the selected rule at the bottom.
 */
import { endpoint } from '../../model/display.js';
import { bodyLines, findingLines, findingLinesVisible, FIX_LINES, type FindingLine, type TuiState } from '../state.js';
import { countText, SEVERITY_COLORS, wrap, type Line } from '../format.js';
import { Lines } from './Line.js';

export function Findings({ state }: { state: TuiState }) {
  const { findings, size } = state;
  const height = bodyLines(size);
  const all = findingLines(findings);
  if (all.length === 0) return <Lines lines={[[{ text: state.capture === null ? 'no capture yet' : 'No findings.', color: 'green' }]]} width={size.columns} height={height} />;
  const lines = all.map((line) => findingLine(line, state));
  const selected = all[findings.cursor];
  const fix = selected ? wrap(`fix (${selected.group.rule}): ${selected.group.remediation}`, size.columns).slice(0, FIX_LINES - 1) : [];
  const listHeight = findingLinesVisible(size);
  return (
    <>
      <Lines lines={lines} width={size.columns} height={listHeight} from={findings.top} selected={findings.cursor} />
      <Lines lines={[[], ...fix.map((text): Line => [{ text, color: 'cyan' }])]} width={size.columns} height={FIX_LINES} />
    </>
  );
}

function findingLine(line: FindingLine, state: TuiState): Line {
  const { group } = line;
  if (line.kind === 'rule') {
    return [
      { text: `${group.severity.toUpperCase().padEnd(9)}`, color: SEVERITY_COLORS[group.severity], bold: true },
      { text: `${group.rule} ${group.name}`, bold: true },
      { text: `  ${countText(group.count)} flow${group.count === 1 ? '' : 's'}  ` },
      { text: group.title, dim: true },
    ];
  }
  if (line.kind === 'more') return [{ text: `           … and ${countText(line.more)} more: Enter lists them in the flows view`, dim: true }];
  const row = state.findings.flows.get(line.flowId);
  const where = row ? `${row.clientRole ?? endpoint(row.src, row.sport)} → ${row.serverRole ?? endpoint(row.dst, row.dport)}  ${row.path}` : '';
  return [{ text: `           flow ${line.flowId}  `, dim: true }, { text: where }];
}

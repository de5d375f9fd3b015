/**
 * The flows table: time, client → server (role names where known), path, protocol and TLS
 * version, the server certificate's verdict, bytes and the rules that fired; each row coloured by
 * how the connection was secured. Only the rows on screen are drawn (data.ts reads a few more).
 */
import { endpoint, isoTime } from '../../model/display.js';
import type { FlowRow } from '../../store/index.js';
import { flowLinesVisible, rowAt, type TuiState } from '../state.js';
import { bytesText, fit, POSTURE_COLORS, SEVERITY_COLORS, verdictColor, WIDE_COLUMNS, type Line } from '../format.js';
import { Lines } from './Line.js';

interface Column {
  title: string;
  width: number;
  align?: 'right';
  cell: (row: FlowRow) => string;
  /** The cell's colour; by default the row's, from how the connection was secured. */
  color?: (row: FlowRow) => string | undefined;
  bold?: (row: FlowRow) => boolean;
}

/** The columns at this width: fixed ones, then the connection and the rules share the rest. */
export function flowColumns(width: number): Column[] {
  const wide = width >= WIDE_COLUMNS;
  const fixed: Column[] = [
    { title: 'time', width: wide ? 12 : 8, cell: (row) => isoTime(row.firstTs).slice(11, wide ? 23 : 19) },
    { title: 'client → server', width: 0, cell: connection },
    { title: 'path', width: wide ? 24 : 18, cell: (row) => (wide && row.via ? `${row.path} [${row.via}]` : row.path) },
    { title: 'proto', width: 6, cell: (row) => (row.protocol === 'tls' ? `tls${row.tlsVersion ?? '?'}` : row.protocol === 'unknown' ? '-' : row.protocol) },
    { title: 'verdict', width: wide ? 13 : 7, cell: (row) => row.verdict ?? '-', color: (row) => verdictColor(row.verdict) },
    { title: 'bytes', width: wide ? 7 : 6, align: 'right', cell: (row) => bytesText(row.bytes) },
    // Narrow: the worst rule and how many more (`KW013+2`); Enter shows them all.
    {
      title: 'findings', width: wide ? 0 : 8, cell: (row) => (wide ? row.rules : rulesShort(row.rules)) || '-',
      color: (row) => (row.worstSeverity ? SEVERITY_COLORS[row.worstSeverity] : undefined), bold: (row) => row.worstSeverity === 'critical',
    },
  ];
  const rest = width - fixed.reduce((sum, column) => sum + column.width + 1, 0) + 1;
  if (wide) {
    fixed[1].width = Math.round(rest * 0.6);
    fixed[6].width = rest - fixed[1].width - 1;
  } else {
    fixed[1].width = Math.max(10, rest);
  }
  return fixed;
}

function rulesShort(rules: string): string {
  const all = rules ? rules.split(',') : [];
  return all.length > 1 ? `${all[0]}+${all.length - 1}` : (all[0] ?? '');
}

function connection(row: FlowRow): string {
  return `${row.clientRole ?? endpoint(row.src, row.sport)} → ${row.serverRole ?? endpoint(row.dst, row.dport)}`;
}

export function Flows({ state }: { state: TuiState }) {
  const { flows, size } = state;
  const columns = flowColumns(size.columns);
  const header: Line = [{ text: columns.map((column) => fit(column.title, column.width, column.align)).join(' '), bold: true }];
  const visible = flowLinesVisible(size);
  const lines: Line[] = [];
  for (let index = flows.top; index < Math.min(flows.total, flows.top + visible); index++) {
    const row = rowAt(flows, index);
    lines.push(row ? rowLine(row, columns) : [{ text: '…', dim: true }]);
  }
  if (flows.total === 0) lines.push([{ text: flows.filter ? `no flow matches "${flows.filter}" (Esc clears the filter)` : 'no flows yet', dim: true }]);
  return (
    <>
      <Lines lines={[header]} width={size.columns} height={1} />
      <Lines lines={lines} width={size.columns} height={visible} selected={flows.cursor - flows.top} />
    </>
  );
}

function rowLine(row: FlowRow, columns: Column[]): Line {
  return columns.map((column, i): Line[number] => ({
    text: fit(column.cell(row), column.width, column.align) + (i < columns.length - 1 ? ' ' : ''),
    color: column.color ? column.color(row) : POSTURE_COLORS[row.posture],
    bold: column.bold?.(row),
  }));
}

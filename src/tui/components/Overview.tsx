/**
 * The overview: the capture (running or finished, packets, bytes, drops, decode errors), the
 * writer's rates with a sparkline, and the path matrix of the Kubernetes page — connections per
 * path by how they were secured (findings/posture.ts) and their findings by severity.
 */
import { POSTURES, POSTURE_TITLES } from '../../findings/index.js';
import { SEVERITIES } from '../../model/finding.js';
import { PATH_ORDER, isoTime } from '../../model/display.js';
import type { MatrixRow } from '../../store/index.js';
import { bodyLines, type TuiState } from '../state.js';
import { bytesText, countText, fit, sparkline, POSTURE_COLORS, SEVERITY_COLORS, SEVERITY_SHORT, WIDE_COLUMNS, wrap, type Line } from '../format.js';
import { Lines } from './Line.js';

export function Overview({ state }: { state: TuiState }) {
  const width = state.size.columns;
  const lines: Line[] = state.capture === null ? [[{ text: 'No capture in this database yet: waiting for kwire read or kwire sniff to write one.' }]] : [...captureLines(state), [], ...matrixLines(state.matrix, width)];
  return <Lines lines={lines} width={width} height={bodyLines(state.size)} />;
}

function captureLines(state: TuiState): Line[] {
  const capture = state.capture!;
  const last = state.progress[state.progress.length - 1];
  const running = capture.finished === null;
  // A running capture's counts are in its progress rows; the capture row has them once it finished.
  const packets = running ? (last?.packets ?? 0) : capture.packets;
  const bytes = running ? (last?.bytes ?? 0) : capture.bytes;
  const dropped = running ? (last?.dropped ?? null) : capture.dropped;
  const rate = state.rates[state.rates.length - 1];
  const spark = Math.max(8, Math.min(30, state.size.columns - 60));
  return [
    [
      { text: `capture #${capture.id} ${capture.source} (${capture.format})  ` },
      running ? { text: `running since ${isoTime(capture.started).slice(11, 19)}`, color: 'yellow', bold: true } : { text: `finished ${isoTime(capture.finished!).slice(0, 19)}`, color: 'green' },
    ],
    [
      { text: `${countText(packets)} packets  ${bytesText(bytes)}  ${countText(capture.flows)} flows  ` },
      { text: `${countText(capture.findings)} findings`, color: capture.findings > 0 ? 'red' : 'green' },
      { text: `  drops ${dropped === null ? '-' : countText(dropped)}  decode errors ${running ? '-' : countText(capture.decodeErrors)}` },
    ],
    [
      { text: `rate ${rate ? `${countText(rate.packetsPerSecond)} packets/s  ${bytesText(rate.bytesPerSecond)}/s` : '-'}  ` },
      { text: sparkline(state.rates.map((r) => r.packetsPerSecond), spark), color: 'cyan' },
    ],
  ];
}

function matrixLines(matrix: readonly MatrixRow[], width: number): Line[] {
  const wide = width >= WIDE_COLUMNS;
  const byPath = new Map(matrix.map((row) => [row.path, row]));
  const pathWidth = 18;
  // Narrow, `other` (the rest of the connections) leaves its room to the findings.
  const postures = wide ? POSTURES : POSTURES.filter((posture) => posture !== 'other');
  const titles = postures.map((posture) => (wide ? POSTURE_TITLES[posture] : shortTitle(POSTURE_TITLES[posture])));
  // Each column as wide as its title or its widest count.
  const widest = (counts: (number | undefined)[]) => Math.max(0, ...counts.map((n) => (n ? countText(n).length : 1)));
  const widths = postures.map((posture, i) => Math.max(titles[i].length, 5, widest(matrix.map((row) => row.postures[posture]))));
  const connectionsTitle = (wide ? 'connections' : 'conns').padStart(widest(matrix.map((row) => row.connections)));
  const header: Line = [{ text: [fit('path', pathWidth), connectionsTitle, ...titles.map((title, i) => fit(title, widths[i], 'right')), 'findings'].join(' '), bold: true }];
  const rows = PATH_ORDER.map((path): Line => {
    const row = byPath.get(path);
    const cell = (n: number | undefined, w: number) => fit(n ? countText(n) : '-', w, 'right');
    const line: Line = [{ text: `${fit(path, pathWidth)} ${cell(row?.connections, connectionsTitle.length)}`, dim: !row }];
    postures.forEach((posture, i) => line.push({ text: ' ' + cell(row?.postures[posture], widths[i]), color: row?.postures[posture] ? POSTURE_COLORS[posture] : undefined, dim: !row?.postures[posture] }));
    line.push({ text: ' ' });
    const severities = [...SEVERITIES].reverse().filter((severity) => row?.severities[severity]);
    if (severities.length === 0) line.push({ text: '-', dim: true });
    severities.forEach((severity, i) =>
      line.push({ text: `${i > 0 ? ' ' : ''}${countText(row!.severities[severity]!)} ${wide ? severity : SEVERITY_SHORT[severity]}`, color: SEVERITY_COLORS[severity] }),
    );
    return line;
  });
  const legend = wrap(
    'mTLS: server verified, client certificate; server-only: no client certificate; unverified: the client went on with a server it cannot have verified; tls ?: the packets cannot tell',
    width,
  ).map((text): Line => [{ text, dim: true }]);
  return [header, ...rows, [], ...legend];
}

/** `server-only` → `srv-only`: the matrix fits 80 columns. */
function shortTitle(title: string): string {
  return ({ 'server-only': 'srv-only', unverified: 'unverif', plaintext: 'plain' } as Record<string, string>)[title] ?? title;
}

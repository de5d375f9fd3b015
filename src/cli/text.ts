/**
 * The human summary of `kwire read` (no --json): the capture; the path matrix (each path of the
 * Kubernetes page, how its connections were secured, and their findings); the findings grouped by
 * rule, worst first, each with one line of evidence and its fix; then one line per connection, in
 * the columns tshark's conversation table and tcpflow's report use, led by the path.
 */
import type { CaptureJson, FlowJson, ReassemblyCounts } from '../model/document.js';
import type { LiveCaptureInfo } from '../model/capture.js';
import { POSTURES, POSTURE_TITLES } from '../findings/index.js';
import { clientCertCell, endpoint, isoTime, protocolCell } from '../model/display.js';
import { severityList, type Tally } from './tally.js';

const count = new Intl.NumberFormat('en-US');

/** Connections listed one per line; a larger capture is summed up by the matrix and --json lists them all. */
export const MAX_CONNECTION_ROWS = 50;
/** Flows shown under each rule. */
const EXAMPLES_PER_RULE = 3;

export function renderSummary(capture: CaptureJson, tally: Tally): string {
  const lines: string[] = [];
  const span =
    capture.firstTs === null || capture.lastTs === null
      ? 'no packets'
      : `${isoTime(capture.firstTs)} → ${isoTime(capture.lastTs)} (${(capture.lastTs - capture.firstTs).toFixed(3)} s)`;
  lines.push(
    `capture  ${capture.source}  ${capture.format}  ${capture.linktypes.join(',') || '-'}  ${count.format(capture.packets)} packets  ${count.format(capture.bytes)} bytes`,
    `         ${span}`,
  );
  if (capture.decodeErrors > 0) {
    const byName = Object.entries(capture.decodeErrorsByName)
      .map(([name, n]) => `${name} ${count.format(n)}`)
      .join(', ');
    lines.push(`decode   ${count.format(capture.decodeErrors)} frames not decoded: ${byName}`);
  }
  const tcp = tcpLine(capture.reassembly);
  if (tcp) lines.push(`tcp      ${tcp}`);
  if (capture.damage) lines.push(`damage   at byte ${count.format(capture.damage.offset)}: ${capture.damage.message}`);
  if (capture.live) lines.push(`live     ${liveLine(capture.live)}`);
  lines.push(`flows    ${count.format(tally.connections)} TCP connection${tally.connections === 1 ? '' : 's'}${stateTally(tally.states())}`, '');
  if (tally.connections === 0) return lines.join('\n') + '\n';

  lines.push(...matrixLines(tally), '', ...findingLines(tally), '');

  const listed = tally.listed.slice(0, MAX_CONNECTION_ROWS);
  const rows = listed.map(({ flow, findings }) => [
    String(flow.id),
    isoTime(flow.firstTs).slice(11),
    flow.via ? `${flow.path} [${flow.via}]` : flow.path,
    endpoint(flow.src, flow.sport),
    endpoint(flow.dst, flow.dport),
    flow.state,
    protocolCell(flow),
    clientCertCell(flow),
    serverCertCell(flow),
    `${count.format(flow.packets.c2s)}/${count.format(flow.packets.s2c)}`,
    `${count.format(flow.bytes.c2s)}/${count.format(flow.bytes.s2c)}`,
    flow.gaps.c2s + flow.gaps.s2c === 0 ? '-' : `${count.format(flow.gaps.c2s)}/${count.format(flow.gaps.s2c)}`,
    findings.map((finding) => finding.rule).join(',') || '-',
  ]);
  const header = ['id', 'start (UTC)', 'path', 'client', 'server', 'state', 'protocol', 'client cert', 'server cert', 'packets c→s/s→c', 'bytes c→s/s→c', 'gaps', 'findings'];
  lines.push(...table(header, rows, new Set([0, 9, 10, 11])));
  if (tally.connections > listed.length) lines.push(`… and ${count.format(tally.connections - listed.length)} more connections: kwire read --json lists them all`);
  return lines.join('\n') + '\n';
}

/** Left-aligned columns (right-aligned where asked), two spaces apart. */
function table(header: string[], rows: string[][], rightAligned: ReadonlySet<number>): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  return [header, ...rows].map((row) =>
    row
      .map((cell, column) => (rightAligned.has(column) ? cell.padStart(widths[column]) : cell.padEnd(widths[column])))
      .join('  ')
      .trimEnd(),
  );
}

/** One row per path of the Kubernetes page: connections, how they were secured (findings/posture.ts), their findings. */
function matrixLines(tally: Tally): string[] {
  const cell = (n: number | undefined) => (n ? count.format(n) : '-');
  const rows = [...tally.matrix.values()].map((row) => [
    row.path, cell(row.connections), ...POSTURES.map((posture) => cell(row.postures.get(posture))), severityList(row.severities, count.format) || '-',
  ]);
  const header = ['path', 'connections', ...POSTURES.map((posture) => POSTURE_TITLES[posture]), 'findings'];
  return [
    ...table(header, rows, new Set(POSTURES.map((_, i) => i + 2).concat(1))),
    'mTLS: server verified and client certificate; server-only: server verified, no client certificate; unverified: the client',
    'went on with a server it cannot have verified; tls ?: the packets cannot tell (TLS 1.3 without keys, no --ca, resumed).',
  ];
}

/** The findings grouped by rule and severity, worst first: title, where, a few flows with their evidence, the fix. */
function findingLines(tally: Tally): string[] {
  if (tally.findings === 0) return ['findings none'];
  const lines = [`findings ${count.format(tally.findings)}: ${severityList(tally.severities, count.format)}`];
  for (const group of tally.findingGroups()) {
    const { first } = group;
    const paths = group.paths.join(', ');
    lines.push('', `${first.rule} ${first.severity.toUpperCase()}  ${first.name}: ${first.title}  (${count.format(group.count)} connection${group.count === 1 ? '' : 's'}: ${paths})`);
    for (const { finding, flow } of group.examples.slice(0, EXAMPLES_PER_RULE)) {
      const basis = finding.evidence.basis === 'observed' ? '' : ` [${finding.evidence.basis}]`;
      lines.push(`  flow ${finding.flowId}  ${endpoint(flow.src, flow.sport)} → ${endpoint(flow.dst, flow.dport)}  ${finding.evidence.facts.join('; ')}${basis}  (packets ${finding.evidence.packets.join(', ')})`);
    }
    if (group.count > EXAMPLES_PER_RULE) lines.push(`  … and ${count.format(group.count - EXAMPLES_PER_RULE)} more`);
    for (const [remediation, forPaths] of group.fixes) lines.push(`  fix${group.fixes.length > 1 ? ` (${forPaths.join(', ')})` : ''}: ${remediation}`);
  }
  return lines;
}

/** The reassembly counts that are not zero, in words; '' when there is nothing to say. */
function tcpLine(counts: ReassemblyCounts): string {
  const said: [keyof ReassemblyCounts, string][] = [
    ['retransmittedBytes', 'retransmitted bytes'],
    ['outOfOrderSegments', 'out-of-order segments'],
    ['gapBytes', 'bytes never seen'],
    ['outOfWindow', 'segments out of window'],
    ['portReuses', 'ports reused'],
    ['timeouts', 'idle timeouts'],
    ['flowBudgetOverflows', 'per-flow budget overflows'],
    ['totalBudgetOverflows', 'total budget overflows'],
  ];
  return said
    .filter(([key]) => counts[key] > 0)
    .map(([key, words]) => `${count.format(counts[key])} ${words}`)
    .join(', ');
}

/** The server certificate's verdict; a resumed session shows none, and says why. */
function serverCertCell(flow: FlowJson): string {
  if (!flow.tls) return '-';
  return flow.tls.resumed && flow.tls.serverChain.length === 0 ? 'resumed' : flow.tls.serverCertVerdict;
}

function stateTally(states: [string, number][]): string {
  if (states.length === 0) return '';
  return ': ' + states.map(([state, n]) => `${count.format(n)} ${state}`).join(', ');
}

/**
 * The warning a live capture that lost packets ends with (null when it lost none it knows of): the
 * analysis misses what was dropped (a handshake, a request, and the findings they would have
 * given), and the user can do something about it.
 */
export function liveLossWarning(live: LiveCaptureInfo): string | null {
  // tcpdump's "received by filter" includes the kernel's drops (and counts loopback packets twice);
  // drops by the interface come on top of it, so a share is given only where it can be one.
  const share = (n: number) =>
    n <= live.received ? `${count.format(n)} of the ${count.format(live.received)} packets received (${((100 * n) / live.received).toFixed(2)}%)` : `${count.format(n)} packets`;
  const lines: string[] = [];
  const byKernel = live.droppedByKernel ?? 0;
  if (byKernel > 0) {
    lines.push(`the kernel dropped ${share(byKernel)}: the capture fell behind, and connections may miss packets and findings; a larger kernel buffer (-B KiB) absorbs longer bursts`);
  }
  if (live.droppedByKwire > 0) {
    lines.push(`kwire dropped ${share(live.droppedByKwire)}: the analysis fell behind the capture, and connections may miss packets and findings; --backend tcpdump costs less per packet`);
  }
  return lines.length === 0 ? null : lines.map((line) => `kwire: warning: ${live.interface}: ${line}\n`).join('');
}

/** How a live capture went: backend, interface and filter, then where packets were lost. */
function liveLine(live: LiveCaptureInfo): string {
  const kernel = live.droppedByKernel === null ? 'kernel drops unknown (cap)' : `${count.format(live.droppedByKernel)} dropped by the kernel`;
  const filter = live.filter === '' ? '' : ` '${live.filter}'`;
  const ended = live.ended === null ? '' : `; ended: ${live.ended}`;
  return `${live.backend} on ${live.interface}${filter}: ${count.format(live.received)} received, ${kernel}, ${count.format(live.droppedByKwire)} dropped by kwire${ended}`;
}

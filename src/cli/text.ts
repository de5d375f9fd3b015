/**
 * The human summary of `kwire read` (no --json): the capture, then one line per connection, in
 * the columns tshark's conversation table and tcpflow's report use, led by the communication
 * path (SPEC.md §3) with its via in brackets.
 */
import type { KwireDocument, FlowJson, ReassemblyCounts } from '../model/document.js';

const count = new Intl.NumberFormat('en-US');

export function renderSummary(doc: KwireDocument): string {
  const { capture, flows } = doc;
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
  lines.push(`flows    ${count.format(flows.length)} TCP connection${flows.length === 1 ? '' : 's'}${stateTally(flows)}`, '');
  if (flows.length === 0) return lines.join('\n') + '\n';

  const rows = flows.map((flow) => [
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
  ]);
  const header = ['id', 'start (UTC)', 'path', 'client', 'server', 'state', 'protocol', 'client cert', 'server cert', 'packets c→s/s→c', 'bytes c→s/s→c', 'gaps'];
  const rightAligned = new Set([0, 9, 10, 11]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  for (const row of [header, ...rows]) {
    lines.push(
      row
        .map((cell, column) => (rightAligned.has(column) ? cell.padStart(widths[column]) : cell.padEnd(widths[column])))
        .join('  ')
        .trimEnd(),
    );
  }
  return lines.join('\n') + '\n';
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

/** `tls 1.3`, `http/1.1` with its request count, `h2c`, `ssh`, or `-` when unknown. */
function protocolCell(flow: FlowJson): string {
  if (flow.tls) return `tls ${flow.tls.version ?? '?'}${flow.tls.alpn ? ` ${flow.tls.alpn}` : ''}`;
  if (flow.http) {
    const requests = flow.http.requests.length + flow.http.moreRequests;
    return `${flow.http.version === '2' ? 'h2c' : `http/${flow.http.version ?? '1.x'}`}${requests ? ` ×${requests}` : ''}`;
  }
  return flow.protocol === 'unknown' ? '-' : flow.protocol;
}

/**
 * Whether the client authenticated with a certificate: `yes`, `no`, `not asked`, `?` when the
 * packets cannot tell; `~` marks an inference from TLS 1.3 record sizes.
 */
function clientCertCell(flow: FlowJson): string {
  const tls = flow.tls;
  if (!tls) return '-';
  const mark = tls.clientAuthEvidence === 'inferred' ? '~' : '';
  if (tls.clientCertPresented === true) return `${mark}yes`;
  if (tls.clientCertRequested === false) return `${mark}not asked`;
  if (tls.clientCertPresented === false) return `${mark}no`;
  return '?';
}

/** The server certificate's verdict; a resumed session shows none, and says why. */
function serverCertCell(flow: FlowJson): string {
  if (!flow.tls) return '-';
  return flow.tls.resumed && flow.tls.serverChain.length === 0 ? 'resumed' : flow.tls.serverCertVerdict;
}

function stateTally(flows: FlowJson[]): string {
  const tally = new Map<string, number>();
  for (const flow of flows) tally.set(flow.state, (tally.get(flow.state) ?? 0) + 1);
  if (tally.size === 0) return '';
  return ': ' + [...tally].map(([state, n]) => `${count.format(n)} ${state}`).join(', ');
}

function endpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function isoTime(ts: number): string {
  return new Date(ts * 1000).toISOString().replace('T', ' ').replace('Z', '');
}

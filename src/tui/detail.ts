/**
 * The flow detail view as lines: the connection, the TLS handshake as a ladder (client | server,
 * message names in order with their packet numbers), the certificate chains with their verdict,
 * the HTTP requests, and the findings with detail, evidence and remediation. Pure, so that the
 * reducer can bound the scrolling by the same lines the view draws.
 */
import type { CertificateInfo, HandshakeStep, HttpRequestInfo, TlsInfo } from '../model/protocol.js';
import type { Finding } from '../model/finding.js';
import type { FlowRecord } from './state.js';
import { clientCertCell, endpoint, isoTime, protocolCell } from '../model/display.js';
import { bytesText, countText, SEVERITY_COLORS, verdictColor, wrap, type Line } from './format.js';

const title = (text: string): Line => [{ text, bold: true }];
const plain = (text: string): Line => [{ text }];

export function detailLines(record: FlowRecord, width: number): Line[] {
  const { flow, findings } = record;
  const side = (address: string, port: number, role: string | null) => `${endpoint(address, port)}${role ? ` (${role})` : ''}`;
  const lines: Line[] = [
    [{ text: `flow ${flow.id}  `, bold: true }, { text: `${side(flow.src, flow.sport, flow.roles.client)} → ${side(flow.dst, flow.dport, flow.roles.server)}` }],
    plain(`${flow.path}${flow.via ? ` [${flow.via}]` : ''}  ${protocolCell(flow)}  ${flow.state}  ${isoTime(flow.firstTs)} → ${isoTime(flow.lastTs).slice(11)}`),
    plain(`packets ${countText(flow.packets.c2s)}/${countText(flow.packets.s2c)}  bytes ${bytesText(flow.bytes.c2s)}/${bytesText(flow.bytes.s2c)} (c→s/s→c)` +
      (flow.gaps.c2s + flow.gaps.s2c > 0 ? `  never seen ${bytesText(flow.gaps.c2s)}/${bytesText(flow.gaps.s2c)}` : '')),
  ];
  if (flow.roles.evidence.length > 0) lines.push(...wrap(`roles from: ${flow.roles.evidence.join('; ')}`, width).map((text) => [{ text, dim: true }]));
  if (flow.tls) lines.push([], ...tlsLines(flow.tls, flow, width));
  if (flow.http && flow.http.requests.length > 0) lines.push([], ...httpLines(flow.http.requests, flow.http.moreRequests));
  if (flow.ssh) lines.push([], title('SSH'), plain(`  client ${flow.ssh.clientBanner ?? '?'}`), plain(`  server ${flow.ssh.serverBanner ?? '?'}`));
  lines.push([], ...findingLines(findings, width));
  return lines;
}

function tlsLines(tls: TlsInfo, flow: FlowRecord['flow'], width: number): Line[] {
  const facts = [
    `TLS ${tls.version ?? '?'}`,
    tls.cipher,
    tls.sni ? `SNI ${tls.sni}` : null,
    tls.alpn ? `ALPN ${tls.alpn}` : null,
    tls.resumed ? 'resumed' : null,
    tls.established ? 'established' : 'not established',
  ].filter(Boolean);
  const lines: Line[] = [
    title(facts.join('  ')),
    plain(`client certificate: ${clientCertCell(flow)} (${tls.clientCertRequested === null ? 'request unknown' : tls.clientCertRequested ? 'requested' : 'not requested'}; ${tls.clientAuthEvidence})`),
  ];
  if (tls.alert) lines.push([{ text: `alert from the ${tls.alert.from}: ${tls.alert.level} ${tls.alert.description} (packet ${tls.alert.packet}${tls.alert.inClear ? '' : ', inferred from an encrypted record'})`, color: 'red' }]);
  lines.push([], ...ladderLines(tls.handshake, width));
  if (tls.stopped) lines.push([{ text: `  the analysis stopped: ${tls.stopped}`, dim: true }]);
  lines.push([], [{ text: 'server certificate ', bold: true }, { text: tls.serverCertVerdict, color: verdictColor(tls.serverCertVerdict), bold: true }, { text: tls.serverCertReason ? `: ${tls.serverCertReason}` : '' }]);
  lines.push(...chainLines(tls.serverChain, width));
  if (tls.clientChain.length > 0) lines.push(title('client certificate'), ...chainLines(tls.clientChain, width));
  return lines;
}

/** Arrow between the columns, and the width of a packet number. */
const ARROW = 14;
const PACKET = 7;

/** client | server, one message a line: `#12  ClientHello 517 B ───▶` or `◀─── ServerHello 93 B`. */
function ladderLines(steps: readonly HandshakeStep[], width: number): Line[] {
  if (steps.length === 0) return [plain('  no handshake messages seen')];
  const column = Math.max(12, Math.floor((width - PACKET - ARROW - 2) / 2));
  const lines: Line[] = [[{ text: `${' '.repeat(PACKET)}${'client'.padEnd(column)} ${' '.repeat(ARROW)} server`, dim: true }]];
  for (const step of steps) {
    const message = `${step.message} ${bytesText(step.length)}`;
    const packet = `#${step.packet}`.padEnd(PACKET);
    const color = step.message === 'Alert' ? 'red' : undefined;
    lines.push(
      step.from === 'client'
        ? [{ text: packet, dim: true }, { text: message.slice(0, column).padEnd(column), color }, { text: ` ${'─'.repeat(ARROW - 1)}▶`, dim: true }]
        : [{ text: packet, dim: true }, { text: ' '.repeat(column) }, { text: ` ◀${'─'.repeat(ARROW - 1)} `, dim: true }, { text: message, color }],
    );
  }
  return lines;
}

function chainLines(chain: readonly CertificateInfo[], width: number): Line[] {
  if (chain.length === 0) return [plain('  no certificates seen')];
  return chain.flatMap((cert, position): Line[] => [
    [{ text: `  ${position} `, dim: true }, { text: cert.subject, bold: true }, { text: cert.selfSigned ? '  self-signed' : '', color: 'red' }],
    plain(`    issuer ${cert.issuer}`),
    plain(`    valid ${cert.notBefore} → ${cert.notAfter}`),
    ...(cert.san.length > 0 ? wrap(`SAN ${cert.san.join(', ')}`, width - 4).map((text) => plain(`    ${text}`)) : []),
    [{ text: `    sha256 ${cert.sha256.slice(0, 16)}…  ${cert.keyType}${cert.keySize ? ` ${cert.keySize}` : ''}${cert.isCA ? '  CA' : ''}`, dim: true }],
  ]);
}

function httpLines(requests: readonly HttpRequestInfo[], more: number): Line[] {
  return [
    title(`HTTP requests (${countText(requests.length + more)})`),
    ...requests.map((request): Line => [
      { text: `  #${request.packet} `, dim: true },
      { text: `${request.method} ${request.target}` },
      { text: ` → ${request.status ?? 'no response'}`, color: request.status !== null && request.status < 300 ? 'green' : request.status === null ? 'gray' : 'yellow' },
      { text: `  auth ${request.auth}`, color: request.auth === 'none' ? undefined : 'magenta' },
      { text: request.upgrade ? `  upgrade ${request.upgrade}` : '' },
    ]),
    ...(more > 0 ? [plain(`  … and ${countText(more)} more`)] : []),
  ];
}

function findingLines(findings: readonly Finding[], width: number): Line[] {
  if (findings.length === 0) return [[{ text: 'no findings', color: 'green' }]];
  const indent = (text: string, color?: string): Line[] => wrap(text, width - 4).map((part) => [{ text: `    ${part}`, color }]);
  return [
    title(`findings (${findings.length})`),
    ...findings.flatMap((finding): Line[] => [
      [{ text: `  ${finding.severity.toUpperCase()} `, color: SEVERITY_COLORS[finding.severity], bold: true }, { text: `${finding.rule} ${finding.name}: `, bold: true }, { text: finding.title }],
      ...indent(finding.detail),
      ...indent(`evidence (${finding.evidence.basis}): ${[...finding.evidence.facts, `packets ${finding.evidence.packets.join(', ')}`].join('; ')}`, 'gray'),
      ...indent(`fix: ${finding.remediation}`, 'cyan'),
    ]),
  ];
}

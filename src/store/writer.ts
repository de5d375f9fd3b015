/**
 * Writes one run (a capture) into the database as it goes: flows and their findings are buffered
 * and inserted in one transaction per batch, by count and by time, so that a reader (`kwire tui`,
 * `kwire report`) sees a live capture within a second and a killed writer loses at most the last
 * batch. Statements are prepared once. The CLI runs it on a thread of its own (background.ts).
 */
import type { CaptureJson, FlowJson } from '../model/document.js';
import { SEVERITIES, type Finding } from '../model/finding.js';
import type { CertificateInfo } from '../model/protocol.js';
import { postureOf } from '../findings/index.js';
import { LruCache } from '../pki/lru.js';
import { attempt, openForWriting, type Db } from './database.js';

/** A batch is written when it holds this many flows … */
const BATCH_FLOWS = 500;
/**
 * … or when its oldest flow has waited this long (a live capture shows up within a second): its
 * owner calls flushIfDue this often, as the database's thread does (background-thread.ts).
 */
export const BATCH_MS = 250;
/**
 * Rows of INSERT OR IGNORE this run wrote (certificates, endpoints), remembered by key: a
 * cluster's few certificates and endpoints come back in every flow, and each would be serialised
 * and sent to SQLite again only to be dropped.
 */
const KNOWN_ROWS = 4096;

export interface CaptureStart {
  source: string;
  format: string;
  /** The options that shaped the analysis (cluster file, trust anchors …), as the user gave them. */
  options: Record<string, unknown>;
}

export interface ProgressCounts {
  packets: number;
  bytes: number;
  flows: number;
  findings: number;
  dropped: number | null;
}

interface Pending {
  flow: FlowJson;
  findings: Finding[];
}

const severityRank = (finding: Finding): number => SEVERITIES.indexOf(finding.severity);

export class StoreWriter {
  private pending: Pending[] = [];
  private readonly written = new LruCache<string, true>(KNOWN_ROWS);
  private oldestPending = 0;
  private readonly statements;
  private readonly writeBatch: (batch: Pending[]) => void;

  /**
   * Records a new run in the database (made or migrated if need be) and closes it: its capture id,
   * for `resume`. A database kwire cannot use throws StoreError's one line here.
   */
  static record(file: string, start: CaptureStart): number {
    const db = openForWriting(file);
    try {
      const insert = attempt(file, 'prepare', () => db.prepare('INSERT INTO captures (source, format, started, options) VALUES (?, ?, ?, ?)'));
      const { lastInsertRowid } = attempt(file, 'write', () => insert.run(start.source, start.format, Date.now() / 1000, JSON.stringify(start.options)));
      return Number(lastInsertRowid);
    } finally {
      db.close();
    }
  }

  /** Writes into a run that `record` recorded (the writer's thread, background.ts). */
  static resume(file: string, captureId: number): StoreWriter {
    return new StoreWriter(openForWriting(file), file, captureId);
  }

  private constructor(
    private readonly db: Db,
    private readonly file: string,
    readonly captureId: number,
  ) {
    const prepare = (sql: string) => attempt(file, 'prepare', () => db.prepare(sql));
    this.statements = {
      flow: prepare(`INSERT INTO flows (capture_id, id, src, sport, dst, dport, first_ts, last_ts, packets_c2s, packets_s2c, bytes_c2s, bytes_s2c,
        gaps_c2s, gaps_s2c, state, path, via, client_role, server_role, protocol, posture, finding_count, worst_severity, extra)
        VALUES (${new Array(24).fill('?').join(', ')})`),
      tls: prepare(`INSERT INTO tls (capture_id, flow_id, version, client_version, sni, alpn, cipher, established, resumed, client_cert_requested,
        client_cert_presented, client_auth_evidence, server_cert_verdict, server_cert_reason, alert_from, alert_level, alert_description, ja4)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      certificate: prepare('INSERT OR IGNORE INTO certificates (sha256, subject, issuer, not_before, not_after, self_signed, info) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      flowCertificate: prepare('INSERT INTO flow_certificates (capture_id, flow_id, side, position, sha256) VALUES (?, ?, ?, ?, ?)'),
      request: prepare('INSERT INTO http_requests (capture_id, flow_id, seq, method, target, status, auth, upgrade, k8s_kind, info) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      finding: prepare('INSERT INTO findings (capture_id, flow_id, rule, severity, path, title, detail, remediation, evidence, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      endpoint: prepare('INSERT OR IGNORE INTO endpoints (capture_id, address, role, evidence, first_flow) VALUES (?, ?, ?, ?, ?)'),
      progress: prepare('INSERT OR REPLACE INTO progress (capture_id, wall, packets, bytes, flows, findings, dropped) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      captureProgress: prepare('UPDATE captures SET packets = ?, bytes = ?, dropped = ? WHERE id = ?'),
      finish: prepare(`UPDATE captures SET finished = ?, format = ?, linktypes = ?, packets = ?, bytes = ?, first_ts = ?, last_ts = ?,
        decode_errors = ?, dropped = ?, summary = ? WHERE id = ?`),
    };
    this.writeBatch = db.transaction((batch: Pending[]) => batch.forEach((item) => this.insert(item)));
  }

  addFlow(flow: FlowJson, findings: Finding[]): void {
    if (this.pending.length === 0) this.oldestPending = Date.now();
    this.pending.push({ flow, findings });
    if (this.pending.length >= BATCH_FLOWS) this.flush();
    else this.flushIfDue();
  }

  /** Records the run's counts as they were at `wall` (seconds since the epoch): the dashboard's rates. */
  progress(counts: ProgressCounts, wall: number): void {
    this.flush();
    attempt(this.file, 'write', () => {
      this.statements.progress.run(this.captureId, wall, counts.packets, counts.bytes, counts.flows, counts.findings, counts.dropped);
      this.statements.captureProgress.run(counts.packets, counts.bytes, counts.dropped, this.captureId);
    });
  }

  /** Writes what is buffered. */
  flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    attempt(this.file, 'write', () => this.writeBatch(batch));
  }

  /** The run is over: everything buffered, and the capture's summary. */
  finish(capture: CaptureJson): void {
    this.flush();
    const { format, linktypes, packets, bytes, firstTs, lastTs, decodeErrors, dropped, source: _source, ...summary } = capture;
    attempt(this.file, 'write', () =>
      this.statements.finish.run(Date.now() / 1000, format, JSON.stringify(linktypes), packets, bytes, firstTs, lastTs, decodeErrors, dropped, JSON.stringify(summary), this.captureId),
    );
  }

  close(): void {
    this.db.close();
  }

  /** Writes the batch once its oldest flow has waited BATCH_MS (flows that stopped coming). */
  flushIfDue(): void {
    if (this.pending.length > 0 && Date.now() - this.oldestPending >= BATCH_MS) this.flush();
  }

  private insert({ flow, findings }: Pending): void {
    const { statements: s, captureId } = this;
    const worst = findings.length === 0 ? null : Math.max(...findings.map(severityRank));
    // Positional: binding by name looks each of 24 properties up, for every flow.
    s.flow.run(
      captureId, flow.id, flow.src, flow.sport, flow.dst, flow.dport, flow.firstTs, flow.lastTs, flow.packets.c2s, flow.packets.s2c, flow.bytes.c2s, flow.bytes.s2c,
      flow.gaps.c2s, flow.gaps.s2c, flow.state, flow.path, flow.via, flow.roles.client, flow.roles.server, flow.protocol, postureOf(flow, findings),
      findings.length, worst, JSON.stringify(withoutTabled(flow)),
    );
    const tls = flow.tls;
    if (tls) {
      s.tls.run(
        captureId, flow.id, tls.version, tls.clientVersion, tls.sni, tls.alpn, tls.cipher, bit(tls.established), bit(tls.resumed),
        bit(tls.clientCertRequested), bit(tls.clientCertPresented), tls.clientAuthEvidence, tls.serverCertVerdict, tls.serverCertReason,
        tls.alert?.from ?? null, tls.alert?.level ?? null, tls.alert?.description ?? null, tls.ja4,
      );
      this.certificates(flow.id, 'server', tls.serverChain);
      this.certificates(flow.id, 'client', tls.clientChain);
    }
    flow.http?.requests.forEach((request, seq) =>
      s.request.run(captureId, flow.id, seq, request.method, request.target, request.status, request.auth, request.upgrade, request.k8s?.kind ?? null, JSON.stringify(request)),
    );
    for (const finding of findings) {
      s.finding.run(
        captureId, flow.id, finding.rule, severityRank(finding), finding.path, finding.title, finding.detail, finding.remediation,
        JSON.stringify(finding.evidence), JSON.stringify({ name: finding.name, references: finding.references }),
      );
    }
    for (const [address, role] of [[flow.src, flow.roles.client], [flow.dst, flow.roles.server]] as const) {
      if (role && this.firstTime(`endpoint ${address} ${role}`)) s.endpoint.run(captureId, address, role, JSON.stringify(flow.roles.evidence), flow.id);
    }
  }

  /** Whether this run has not written the row of `key` yet (and now counts it written). */
  private firstTime(key: string): boolean {
    if (this.written.get(key) !== undefined) return false;
    this.written.set(key, true);
    return true;
  }

  private certificates(flowId: number, side: 'server' | 'client', chain: CertificateInfo[]): void {
    chain.forEach((certificate, position) => {
      if (this.firstTime(`certificate ${certificate.sha256}`)) {
        this.statements.certificate.run(certificate.sha256, certificate.subject, certificate.issuer, certificate.notBefore, certificate.notAfter, bit(certificate.selfSigned), JSON.stringify(certificate));
      }
      this.statements.flowCertificate.run(this.captureId, flowId, side, position, certificate.sha256);
    });
  }
}

const bit = (value: boolean | null): number | null => (value === null ? null : value ? 1 : 0);

/**
 * The flow record as `flows.extra` keeps it: certificate chains and requests live in their own
 * tables, so they are left empty here (in place, so that the reader puts them back in order).
 */
function withoutTabled(flow: FlowJson): FlowJson {
  return {
    ...flow,
    tls: flow.tls && { ...flow.tls, serverChain: [], clientChain: [] },
    http: flow.http && { ...flow.http, requests: [] },
  };
}

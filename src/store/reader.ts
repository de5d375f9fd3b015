/**
 * Reads what writers stored, for `kwire report` and the dashboard: the whole document of a
 * capture (the same JSON `kwire read --json` printed), and the queries the dashboard pages with.
 * Opened read-only; safe while a writer runs (WAL).
 */
import type { CaptureJson, CommPath, FlowJson, KwireDocument } from '../model/document.js';
import { SEVERITIES, type Finding, type Severity } from '../model/finding.js';
import type { CertificateInfo, HttpRequestInfo } from '../model/protocol.js';
import type { Posture } from '../findings/index.js';
import type { Statement } from 'better-sqlite3';
import { KwireError } from '../model/errors.js';
import { attempt, openForReading, type Db } from './database.js';

export interface CaptureRow {
  id: number;
  source: string;
  format: string;
  started: number;
  /** Null while its writer runs (or when it was killed). */
  finished: number | null;
  packets: number;
  bytes: number;
  flows: number;
  findings: number;
}

export interface MatrixRow {
  path: CommPath;
  connections: number;
  postures: Partial<Record<Posture, number>>;
  severities: Partial<Record<Severity, number>>;
}

/** What the flows table shows of one flow: columns only, no JSON. */
export interface FlowRow {
  id: number;
  firstTs: number;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  clientRole: string | null;
  serverRole: string | null;
  path: CommPath;
  via: string | null;
  protocol: string;
  tlsVersion: string | null;
  sni: string | null;
  verdict: string | null;
  posture: Posture;
  bytes: number;
  findingCount: number;
  worstSeverity: Severity | null;
  rules: string;
}

export type FlowSort = 'time' | 'severity' | 'bytes' | 'path';

export interface FlowQuery {
  /** Words that must all appear in the flow's addresses, role names, path, SNI or rule ids. */
  filter?: string;
  sort?: FlowSort;
  offset?: number;
  limit?: number;
}

export interface FindingGroup {
  rule: string;
  severity: Severity;
  name: string;
  title: string;
  remediation: string;
  count: number;
  /** The first flows behind it, by id. */
  flowIds: number[];
}

/** A capture as the dashboard's header shows it, read again on every refresh: counts so far, and whether its writer finished. */
export interface CaptureStatus extends CaptureRow {
  decodeErrors: number;
  dropped: number | null;
}

export interface ProgressRow {
  wall: number;
  packets: number;
  bytes: number;
  flows: number;
  findings: number;
  dropped: number | null;
}

const NO_REASSEMBLY: CaptureJson['reassembly'] = {
  retransmittedBytes: 0, outOfOrderSegments: 0, outOfWindow: 0, gapBytes: 0, portReuses: 0, flowBudgetOverflows: 0, totalBudgetOverflows: 0, timeouts: 0,
};

const ORDER: Record<FlowSort, string> = {
  time: 'f.first_ts, f.id',
  severity: 'f.worst_severity DESC NULLS LAST, f.id',
  bytes: '(f.bytes_c2s + f.bytes_s2c) DESC, f.id',
  path: 'f.path, f.id',
};

/** The text a filter word is looked for in (lower case). */
const SEARCHABLE = `lower(f.src || ' ' || f.dst || ' ' || f.sport || ' ' || f.dport || ' ' || f.path || ' ' || coalesce(f.client_role, '') || ' ' ||
  coalesce(f.server_role, '') || ' ' || f.protocol || ' ' || coalesce(t.sni, '') || ' ' || coalesce((SELECT group_concat(rule, ' ') FROM findings x
  WHERE x.capture_id = f.capture_id AND x.flow_id = f.id), ''))`;

/** A stored flow read back as `analyze()` gave it to onFlowEnd. */
export interface FlowWithFindings {
  flow: FlowJson;
  findings: Finding[];
}

/** Flows `records()` reads at a time. */
const RECORDS_PER_PAGE = 1000;

export class StoreReader {
  static open(file: string): StoreReader {
    return new StoreReader(openForReading(file), file);
  }

  private readonly statements = new Map<string, Statement>();

  private constructor(
    private readonly db: Db,
    private readonly file: string,
  ) {}

  captures(): CaptureRow[] {
    return this.all<CaptureRow>(`SELECT id, source, format, started, finished, packets, bytes,
      (SELECT count(*) FROM flows WHERE capture_id = c.id) AS flows, (SELECT count(*) FROM findings WHERE capture_id = c.id) AS findings
      FROM captures c ORDER BY id`);
  }

  /** The most recent capture, or null in a database that holds none. */
  latestCaptureId(): number | null {
    return this.get<{ id: number }>('SELECT max(id) AS id FROM captures')?.id ?? null;
  }

  /**
   * Reads from one snapshot of the database until close: a long read (`report` of a live run,
   * waiting on its output) then sees each flow and finding once, however a writer goes on.
   */
  holdSnapshot(): void {
    attempt(this.file, 'read', () => {
      this.db.exec('BEGIN');
      // A read transaction takes its snapshot at its first read.
      this.latestCaptureId();
    });
  }

  /** The capture as SPEC.md §5's document, flows and findings in order (all in memory: tests, small runs). */
  document(captureId: number, pageSize = RECORDS_PER_PAGE): KwireDocument {
    const flows: FlowJson[] = [];
    const findings: Finding[] = [];
    for (const record of this.records(captureId, pageSize)) {
      flows.push(record.flow);
      findings.push(...record.findings);
    }
    return { capture: this.capture(captureId), flows, findings };
  }

  /**
   * Every flow of the capture with its findings, in order, read RECORDS_PER_PAGE flows at a time:
   * `report` prints a run of millions of connections in the memory of one page.
   */
  *records(captureId: number, pageSize = RECORDS_PER_PAGE): Generator<FlowWithFindings> {
    for (let after = 0; ; ) {
      const page = this.all<{ id: number; extra: string }>('SELECT id, extra FROM flows WHERE capture_id = ? AND id > ? ORDER BY id LIMIT ?', captureId, after, pageSize);
      if (page.length === 0) return;
      after = page[page.length - 1].id;
      yield* this.assemble(captureId, page);
    }
  }

  /** Every finding of the capture, in order, read for RECORDS_PER_PAGE flows at a time. */
  *findings(captureId: number, pageSize = RECORDS_PER_PAGE): Generator<Finding> {
    const last = this.get<{ id: number | null }>('SELECT max(id) AS id FROM flows WHERE capture_id = ?', captureId)!.id ?? 0;
    for (let first = 1; first <= last; first += pageSize) yield* this.findingsBetween(captureId, first, first + pageSize - 1);
  }

  /** One flow's whole record and findings (the dashboard's detail view), or null. */
  flow(captureId: number, flowId: number): FlowWithFindings | null {
    const row = this.get<{ id: number; extra: string }>('SELECT id, extra FROM flows WHERE capture_id = ? AND id = ?', captureId, flowId);
    return row ? this.assemble(captureId, [row])[0] : null;
  }

  /** The path matrix: per path, connections by posture and findings by severity. */
  matrix(captureId: number): MatrixRow[] {
    const rows = new Map<CommPath, MatrixRow>();
    const row = (path: CommPath) => rows.get(path) ?? rows.set(path, { path, connections: 0, postures: {}, severities: {} }).get(path)!;
    for (const { path, posture, n } of this.all<{ path: CommPath; posture: Posture; n: number }>(
      'SELECT path, posture, count(*) AS n FROM flows WHERE capture_id = ? GROUP BY path, posture', captureId,
    )) {
      row(path).connections += n;
      row(path).postures[posture] = n;
    }
    for (const { path, severity, n } of this.all<{ path: CommPath; severity: number; n: number }>(
      'SELECT path, severity, count(*) AS n FROM findings WHERE capture_id = ? GROUP BY path, severity', captureId,
    )) {
      row(path).severities[SEVERITIES[severity]] = n;
    }
    return [...rows.values()];
  }

  flowCount(captureId: number, filter = ''): number {
    const { where, parameters } = filterClause(filter);
    return this.get<{ n: number }>(`SELECT count(*) AS n FROM flows f LEFT JOIN tls t ON t.capture_id = f.capture_id AND t.flow_id = f.id
      WHERE f.capture_id = ? ${where}`, captureId, ...parameters)!.n;
  }

  /** One page of the flows table: only the rows asked for are read. */
  flows(captureId: number, query: FlowQuery = {}): FlowRow[] {
    return this.flowRows(captureId, this.flowIds(captureId, query));
  }

  /**
   * The ids of one page of the flows table, in its order. Apart from the columns: an OFFSET deep in
   * 200,000 flows then walks a covering index instead of building every skipped row.
   */
  flowIds(captureId: number, query: FlowQuery = {}): number[] {
    const { where, parameters } = filterClause(query.filter ?? '');
    const join = where ? 'LEFT JOIN tls t ON t.capture_id = f.capture_id AND t.flow_id = f.id' : '';
    return this.all<{ id: number }>(
      `SELECT f.id FROM flows f ${join} WHERE f.capture_id = ? ${where} ORDER BY ${ORDER[query.sort ?? 'time']} LIMIT ? OFFSET ?`,
      captureId, ...parameters, query.limit ?? 100, query.offset ?? 0,
    ).map((row) => row.id);
  }

  /** The flows table's rows of these flows, in the order of `ids` (flows not stored are left out). */
  flowRows(captureId: number, ids: readonly number[]): FlowRow[] {
    if (ids.length === 0) return [];
    const rows = this.all<Omit<FlowRow, 'worstSeverity'> & { worstSeverity: number | null }>(
      `SELECT f.id, f.first_ts AS firstTs, f.src, f.sport, f.dst, f.dport, f.client_role AS clientRole, f.server_role AS serverRole, f.path, f.via,
        f.protocol, t.version AS tlsVersion, t.sni, t.server_cert_verdict AS verdict, f.posture, f.bytes_c2s + f.bytes_s2c AS bytes,
        f.finding_count AS findingCount, f.worst_severity AS worstSeverity,
        coalesce((SELECT group_concat(rule, ',') FROM (SELECT rule FROM findings x WHERE x.capture_id = f.capture_id AND x.flow_id = f.id ORDER BY severity DESC, rule)), '') AS rules
       FROM flows f LEFT JOIN tls t ON t.capture_id = f.capture_id AND t.flow_id = f.id
       WHERE f.capture_id = ? AND f.id IN (SELECT value FROM json_each(?))`,
      captureId, JSON.stringify(ids),
    );
    const byId = new Map(rows.map((row) => [row.id, { ...row, worstSeverity: row.worstSeverity === null ? null : SEVERITIES[row.worstSeverity] }]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /** One capture's status, or null when the database holds no such capture. */
  captureStatus(captureId: number): CaptureStatus | null {
    return this.get<CaptureStatus>(`SELECT id, source, format, started, finished, packets, bytes, decode_errors AS decodeErrors, dropped,
      (SELECT count(*) FROM flows WHERE capture_id = c.id) AS flows, (SELECT count(*) FROM findings WHERE capture_id = c.id) AS findings
      FROM captures c WHERE id = ?`, captureId) ?? null;
  }

  /** Findings grouped by rule and severity, worst first, with the first flows behind each. */
  findingGroups(captureId: number, flowsPerGroup = 20): FindingGroup[] {
    // SQLite takes the bare columns from the row of min(flow_id): the group's first finding.
    const groups = this.all<FindingRow & { count: number }>(
      `SELECT ${FINDING_COLUMNS}, min(flow_id), count(*) AS count FROM findings WHERE capture_id = ?
       GROUP BY rule, severity ORDER BY severity DESC, rule`, captureId,
    );
    return groups.map((group) => {
      const { rule, severity, name, title, remediation } = findingOf(group);
      return {
        rule, severity, name, title, remediation, count: group.count,
        flowIds: this.all<{ id: number }>('SELECT flow_id AS id FROM findings WHERE capture_id = ? AND rule = ? AND severity = ? ORDER BY flow_id LIMIT ?',
          captureId, group.rule, group.severity, flowsPerGroup).map((row) => row.id),
      };
    });
  }

  /** The writer's progress rows after `sinceWall` (seconds since the epoch), oldest first. */
  progress(captureId: number, sinceWall = 0): ProgressRow[] {
    return this.all<ProgressRow>('SELECT wall, packets, bytes, flows, findings, dropped FROM progress WHERE capture_id = ? AND wall > ? ORDER BY wall', captureId, sinceWall);
  }

  close(): void {
    this.db.close();
  }

  /** The capture's summary: SPEC.md §5's `capture`. */
  capture(captureId: number): CaptureJson {
    const row = this.get<{ source: string; format: string; linktypes: string; packets: number; bytes: number; first_ts: number | null; last_ts: number | null; decode_errors: number; dropped: number | null; summary: string | null }>(
      'SELECT * FROM captures WHERE id = ?', captureId,
    );
    if (!row) {
      const runs = this.get<{ first: number | null; last: number | null }>('SELECT min(id) AS first, max(id) AS last FROM captures')!;
      throw new KwireError('DB_NO_CAPTURE', `${this.file}: holds no run ${captureId} (${runs.first === null ? 'none yet' : runs.first === runs.last ? `its only run is ${runs.first}` : `its runs are ${runs.first} to ${runs.last}`})`);
    }
    // A writer killed before its end left no summary: the counts of its last progress row stand.
    const { decodeErrorsByName = {}, damage = null, reassembly = NO_REASSEMBLY, ...rest } = row.summary === null ? {} : (JSON.parse(row.summary) as Partial<CaptureJson>);
    return {
      source: row.source, format: row.format as CaptureJson['format'], linktypes: JSON.parse(row.linktypes) as string[], packets: row.packets, bytes: row.bytes,
      firstTs: row.first_ts, lastTs: row.last_ts, decodeErrors: row.decode_errors, decodeErrorsByName, damage, dropped: row.dropped, reassembly, ...rest,
    };
  }

  /** Flows read back whole: their certificate chains, requests and findings, for the ids from first to last of `rows`. */
  private assemble(captureId: number, rows: { id: number; extra: string }[]): FlowWithFindings[] {
    const [first, last] = [rows[0].id, rows[rows.length - 1].id];
    const range = [captureId, first, last];
    const chains = new Map<string, CertificateInfo[]>();
    for (const row of this.all<{ flow_id: number; side: string; info: string }>(
      `SELECT fc.flow_id, fc.side, c.info FROM flow_certificates fc JOIN certificates c ON c.sha256 = fc.sha256
       WHERE fc.capture_id = ? AND fc.flow_id BETWEEN ? AND ? ORDER BY fc.flow_id, fc.side, fc.position`, ...range,
    )) listIn(chains, `${row.flow_id} ${row.side}`).push(JSON.parse(row.info) as CertificateInfo);
    const requests = new Map<number, HttpRequestInfo[]>();
    for (const row of this.all<{ flow_id: number; info: string }>(
      'SELECT flow_id, info FROM http_requests WHERE capture_id = ? AND flow_id BETWEEN ? AND ? ORDER BY flow_id, seq', ...range,
    )) listIn(requests, row.flow_id).push(JSON.parse(row.info) as HttpRequestInfo);
    const findings = new Map<number, Finding[]>();
    for (const finding of this.findingsBetween(captureId, first, last)) listIn(findings, finding.flowId).push(finding);
    return rows.map((row) => {
      const flow = JSON.parse(row.extra) as FlowJson;
      if (flow.tls) {
        flow.tls.serverChain = chains.get(`${row.id} server`) ?? [];
        flow.tls.clientChain = chains.get(`${row.id} client`) ?? [];
      }
      if (flow.http) flow.http.requests = requests.get(row.id) ?? [];
      return { flow, findings: findings.get(row.id) ?? [] };
    });
  }

  /** The findings of the flows with ids from `first` to `last`: flow order, and worst first within a flow, as `analyze()` gives them. */
  private findingsBetween(captureId: number, first: number, last: number): Finding[] {
    return this.all<FindingRow>(
      `SELECT ${FINDING_COLUMNS} FROM findings WHERE capture_id = ? AND flow_id BETWEEN ? AND ? ORDER BY flow_id, severity DESC, rule`, captureId, first, last,
    ).map(findingOf);
  }

  private all<T>(sql: string, ...parameters: unknown[]): T[] {
    return attempt(this.file, 'read', () => this.statement(sql).all(...parameters) as T[]);
  }

  private get<T>(sql: string, ...parameters: unknown[]): T | undefined {
    return attempt(this.file, 'read', () => this.statement(sql).get(...parameters) as T | undefined);
  }

  /** Each query is prepared once: the dashboard repeats the same few many times a second. */
  private statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

function listIn<K, V>(map: Map<K, V[]>, key: K): V[] {
  let list = map.get(key);
  if (!list) map.set(key, (list = []));
  return list;
}

/** `kubelet KW003` → every word must appear (case-insensitive) in the searchable text. */
function filterClause(filter: string): { where: string; parameters: string[] } {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  return { where: words.map(() => `AND instr(${SEARCHABLE}, ?) > 0`).join(' '), parameters: words };
}

/** A findings row: the columns, and in `extra` what no column holds. */
interface FindingRow {
  flow_id: number;
  rule: Finding['rule'];
  severity: number;
  path: CommPath;
  title: string;
  detail: string;
  remediation: string;
  evidence: string;
  extra: string;
}

const FINDING_COLUMNS = 'flow_id, rule, severity, path, title, detail, remediation, evidence, extra';

/** The finding of SPEC.md §4 again, its fields in the order analyze() gives them. */
function findingOf(row: FindingRow): Finding {
  const { name, references } = JSON.parse(row.extra) as Pick<Finding, 'name' | 'references'>;
  return {
    rule: row.rule, name, severity: SEVERITIES[row.severity], flowId: row.flow_id, path: row.path,
    title: row.title, detail: row.detail, remediation: row.remediation, references, evidence: JSON.parse(row.evidence) as Finding['evidence'],
  };
}

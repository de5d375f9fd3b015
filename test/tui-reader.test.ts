/**
 * The reader's queries the dashboard pages with (src/store/reader.ts), on a database the CLI wrote
 * from the sample capture: pages in every sort that join up to the whole table, the filter, rows
 * by id in the order asked, and a capture's status.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { kwire } from './helpers/cli.js';
import { SEVERITIES } from '../src/model/finding.js';
import { StoreReader, type FlowRow, type FlowSort } from '../src/store/index.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'kwire-tui-reader-'));
const db = path.join(scratch, 'kwire.db');
let reader: StoreReader;

beforeAll(() => {
  expect(kwire(['read', 'captures/sample-tls-http.pcap', '--db', db, '-q']).status).toBe(0);
  reader = StoreReader.open(db);
});
afterAll(() => {
  reader?.close();
  rmSync(scratch, { recursive: true, force: true });
});

const severityRank = (row: FlowRow) => (row.worstSeverity === null ? -1 : SEVERITIES.indexOf(row.worstSeverity));
const inOrder: Record<FlowSort, (a: FlowRow, b: FlowRow) => number> = {
  time: (a, b) => a.firstTs - b.firstTs || a.id - b.id,
  severity: (a, b) => severityRank(b) - severityRank(a) || a.id - b.id,
  bytes: (a, b) => b.bytes - a.bytes || a.id - b.id,
  path: (a, b) => a.path.localeCompare(b.path) || a.id - b.id,
};

describe('pages of the flows table', () => {
  it('in every sort, pages of 3 join up to the whole table in that order', () => {
    const all = reader.flows(1, { limit: 1000 });
    expect(all).toHaveLength(14);
    for (const sort of Object.keys(inOrder) as FlowSort[]) {
      const pages: FlowRow[] = [];
      for (let offset = 0; offset < 14; offset += 3) pages.push(...reader.flows(1, { sort, offset, limit: 3 }));
      expect(pages.map((row) => row.id), sort).toEqual([...all].sort(inOrder[sort]).map((row) => row.id));
      expect(reader.flowIds(1, { sort, offset: 0, limit: 1000 })).toEqual(pages.map((row) => row.id));
    }
  });

  it('filters by every word, over addresses, role names, path and rule ids, case-insensitively', () => {
    expect(reader.flowCount(1, 'kubelet')).toBe(4);
    expect(reader.flows(1, { filter: 'kubelet' }).every((row) => row.path === 'client->kubelet')).toBe(true);
    const kw013 = reader.flows(1, { filter: 'kw013 60420' });
    expect(kw013.map((row) => [row.id, row.rules])).toEqual([[3, 'KW013,KW001,KW011']]);
    expect(reader.flowIds(1, { filter: 'no-such-thing' })).toEqual([]);
  });

  it('reads rows by id in the order asked, leaving out ids not stored', () => {
    expect(reader.flowRows(1, [9, 2, 999, 5]).map((row) => row.id)).toEqual([9, 2, 5]);
    expect(reader.flowRows(1, [])).toEqual([]);
    expect(reader.flowRows(1, [2])[0]).toMatchObject({ id: 2, src: '198.18.0.12', sport: 58200, dport: 10250, serverRole: 'kubelet', path: 'client->kubelet', protocol: 'tls', tlsVersion: '1.2', rules: 'KW004', worstSeverity: 'high' });
  });
});

describe('a capture\'s status', () => {
  it('has the counts and the end of a finished run; null for a capture not in the database', () => {
    expect(reader.captureStatus(1)).toMatchObject({ id: 1, source: 'captures/sample-tls-http.pcap', format: 'pcap', packets: 258, decodeErrors: 0, dropped: null, flows: 14, findings: 13 });
    expect(reader.captureStatus(1)!.finished).toBeGreaterThan(reader.captureStatus(1)!.started);
    expect(reader.captureStatus(2)).toBeNull();
  });
});

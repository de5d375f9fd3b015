/**
 * The dashboard's state and its reducer: every key and every arrival of data is an action, and
 * `reduce` is a pure function of the state and the action (tested without rendering). What to
 * read from the database next is derived from the state too (`wantedFlowWindow`); data.ts reads it.
 */
import type { CaptureStatus, FindingGroup, FlowRow, FlowSort, MatrixRow, ProgressRow } from '../store/index.js';
import type { FlowJson } from '../model/document.js';
import type { Finding } from '../model/finding.js';
import { detailLines } from './detail.js';

export type View = 'overview' | 'flows' | 'detail' | 'findings';

/** In the order of the keys 1–4 and of Tab. */
export const VIEWS: readonly View[] = ['overview', 'flows', 'detail', 'findings'];

export const VIEW_TITLES: Record<View, string> = { overview: 'Overview', flows: 'Flows', detail: 'Detail', findings: 'Findings' };

export const SORTS: readonly FlowSort[] = ['time', 'severity', 'bytes', 'path'];

export interface Size {
  columns: number;
  rows: number;
}

/** One flow's whole record, as the detail view shows it. */
export interface FlowRecord {
  flow: FlowJson;
  findings: Finding[];
}

/** Packets and bytes per second between two progress rows of the writer. */
export interface Rate {
  wall: number;
  packetsPerSecond: number;
  bytesPerSecond: number;
}

export interface FlowsState {
  filter: string;
  sort: FlowSort;
  /** Flows that match the filter. */
  total: number;
  /** Absolute index (in sort order) of the selected row, and of the first row on screen. */
  cursor: number;
  top: number;
  /** The rows read from the database: `rows[i]` is at absolute index `offset + i`. */
  window: { filter: string; sort: FlowSort; offset: number; rows: FlowRow[] } | null;
  /** The selected flow's id, kept across refreshes so that the selection follows the flow. */
  selectedId: number | null;
}

export interface FindingsState {
  groups: FindingGroup[];
  /** The rows of the flows behind the groups (their first few), by id. */
  flows: ReadonlyMap<number, FlowRow>;
  cursor: number;
  top: number;
}

export interface DetailState {
  flowId: number | null;
  record: FlowRecord | null;
  scroll: number;
  /** The view Esc goes back to. */
  from: View;
}

export interface TuiState {
  size: Size;
  view: View;
  help: boolean;
  /** The filter being typed after `/`; null when not typing. */
  typing: string | null;
  /** The capture shown; `follow` moves to a newer one when it appears (no --capture given). */
  captureId: number | null;
  follow: boolean;
  capture: CaptureStatus | null;
  matrix: MatrixRow[];
  /** The writer's progress rows read so far (the last few), and the rates between them. */
  progress: ProgressRow[];
  rates: Rate[];
  flows: FlowsState;
  findings: FindingsState;
  detail: DetailState;
  quit: boolean;
}

export type Action =
  | { type: 'resize'; size: Size }
  | { type: 'move'; by: number }
  | { type: 'page'; by: 1 | -1 }
  | { type: 'jump'; to: 'first' | 'last' }
  | { type: 'open' }
  | { type: 'back' }
  | { type: 'show'; view: View }
  | { type: 'nextView' }
  | { type: 'filterStart' }
  | { type: 'filterType'; text: string }
  | { type: 'filterErase' }
  | { type: 'filterApply' }
  | { type: 'sortNext' }
  | { type: 'help' }
  | { type: 'quit' }
  | { type: 'captureLoaded'; captureId: number; capture: CaptureStatus; matrix: MatrixRow[]; groups: FindingGroup[]; groupFlows: FlowRow[]; progress: ProgressRow[] }
  | { type: 'flowsLoaded'; filter: string; sort: FlowSort; total: number; offset: number; rows: FlowRow[] }
  | { type: 'detailLoaded'; flowId: number; record: FlowRecord | null };

/** Progress rows kept: the sparkline shows at most this many rates. */
export const PROGRESS_KEPT = 60;

/** Lines of the screen that are not the view's body: the header and the footer. */
const CHROME_LINES = 2;

/**
 * Lines the dashboard draws: one fewer than the terminal has, because Ink clears the whole screen
 * (a flicker) on every frame that fills it.
 */
export function frameLines(size: Size): number {
  return Math.max(4, size.rows - 1);
}

export function bodyLines(size: Size): number {
  return frameLines(size) - CHROME_LINES;
}

/** Rows of the flows table on screen (its body less the column titles). */
export function flowLinesVisible(size: Size): number {
  return Math.max(1, bodyLines(size) - 1);
}

/** Lines kept under the findings list for the selected rule's fix. */
export const FIX_LINES = 3;

export function findingLinesVisible(size: Size): number {
  return Math.max(1, bodyLines(size) - FIX_LINES);
}

export function initialState(options: { size: Size; captureId?: number | null; view?: View } = { size: { columns: 80, rows: 24 } }): TuiState {
  return {
    size: options.size,
    view: options.view ?? 'overview',
    help: false,
    typing: null,
    captureId: options.captureId ?? null,
    follow: options.captureId === undefined || options.captureId === null,
    capture: null,
    matrix: [],
    progress: [],
    rates: [],
    flows: { filter: '', sort: 'time', total: 0, cursor: 0, top: 0, window: null, selectedId: null },
    findings: { groups: [], flows: new Map(), cursor: 0, top: 0 },
    detail: { flowId: null, record: null, scroll: 0, from: 'flows' },
    quit: false,
  };
}

export function reduce(state: TuiState, action: Action): TuiState {
  switch (action.type) {
    case 'resize':
      return withDetailScroll(withFlowsCursor({ ...state, size: action.size }, state.flows.cursor));
    case 'move':
      return moveBy(state, action.by);
    case 'page':
      return moveBy(state, action.by * Math.max(1, pageLines(state) - 1));
    case 'jump':
      return moveBy(state, action.to === 'first' ? -Infinity : Infinity);
    case 'open':
      return open(state);
    case 'back':
      return back(state);
    case 'show':
      return { ...state, view: action.view, help: false, detail: action.view === 'detail' && state.view !== 'detail' ? { ...state.detail, from: state.view } : state.detail };
    case 'nextView':
      return reduce(state, { type: 'show', view: VIEWS[(VIEWS.indexOf(state.view) + 1) % VIEWS.length] });
    case 'filterStart':
      return { ...state, view: 'flows', help: false, typing: state.flows.filter };
    case 'filterType':
      return state.typing === null ? state : { ...state, typing: state.typing + action.text };
    case 'filterErase':
      return state.typing === null ? state : { ...state, typing: state.typing.slice(0, -1) };
    case 'filterApply':
      return state.typing === null ? state : withFlowQuery({ ...state, typing: null }, { filter: state.typing.trim() });
    case 'sortNext':
      return withFlowQuery({ ...state, view: state.view === 'overview' ? 'flows' : state.view }, { sort: SORTS[(SORTS.indexOf(state.flows.sort) + 1) % SORTS.length] });
    case 'help':
      return { ...state, help: !state.help };
    case 'quit':
      return { ...state, quit: true };
    case 'captureLoaded':
      return captureLoaded(state, action);
    case 'flowsLoaded':
      return flowsLoaded(state, action);
    case 'detailLoaded':
      if (action.flowId !== state.detail.flowId) return state;
      if (state.detail.record && action.record && sameJson(state.detail.record, action.record)) return state;
      return withDetailScroll({ ...state, detail: { ...state.detail, record: action.record } });
  }
}

/** How far PgUp/PgDn move in the current view. */
function pageLines(state: TuiState): number {
  if (state.view === 'flows') return flowLinesVisible(state.size);
  return state.view === 'findings' ? findingLinesVisible(state.size) : bodyLines(state.size);
}

function moveBy(state: TuiState, by: number): TuiState {
  switch (state.view) {
    case 'flows':
      return withFlowsCursor(state, clampFinite(state.flows.cursor + by, 0, state.flows.total - 1));
    case 'findings': {
      const lines = findingLines(state.findings);
      const cursor = clampFinite(state.findings.cursor + by, 0, lines.length - 1);
      return { ...state, findings: { ...state.findings, cursor, top: scrolledTop(state.findings.top, cursor, findingLinesVisible(state.size)) } };
    }
    case 'detail':
      return { ...state, detail: { ...state.detail, scroll: clampFinite(state.detail.scroll + by, 0, lastDetailScroll(state)) } };
    case 'overview':
      return state;
  }
}

/** Moves the flows cursor and scrolls the table so that it stays on screen. */
/** The detail scrolls until its last line is at the bottom of the screen. */
function lastDetailScroll(state: TuiState): number {
  const record = state.detail.record;
  return record ? detailLines(record, state.size.columns).length - bodyLines(state.size) : 0;
}

function withDetailScroll(state: TuiState): TuiState {
  const scroll = clampFinite(state.detail.scroll, 0, lastDetailScroll(state));
  return scroll === state.detail.scroll ? state : { ...state, detail: { ...state.detail, scroll } };
}

function withFlowsCursor(state: TuiState, cursor: number): TuiState {
  const flows = state.flows;
  const visible = flowLinesVisible(state.size);
  const top = clampFinite(scrolledTop(flows.top, cursor, visible), 0, Math.max(0, flows.total - visible));
  const selectedId = rowAt(flows, cursor)?.id ?? (cursor === flows.cursor ? flows.selectedId : null);
  if (cursor === flows.cursor && top === flows.top && selectedId === flows.selectedId) return state;
  return { ...state, flows: { ...flows, cursor, top, selectedId } };
}

/** A new filter or sort: back to the first row; the rows come with the next read. */
function withFlowQuery(state: TuiState, change: Partial<Pick<FlowsState, 'filter' | 'sort'>>): TuiState {
  const flows = { ...state.flows, ...change };
  if (flows.filter === state.flows.filter && flows.sort === state.flows.sort) return state;
  return { ...state, flows: { ...flows, cursor: 0, top: 0, selectedId: null } };
}

function open(state: TuiState): TuiState {
  if (state.view === 'flows') {
    const row = rowAt(state.flows, state.flows.cursor);
    return row ? showDetail(state, row.id, 'flows') : state;
  }
  if (state.view === 'findings') {
    const line = findingLines(state.findings)[state.findings.cursor];
    if (!line) return state;
    if (line.kind === 'flow') return showDetail(state, line.flowId, 'findings');
    // A rule, or the flows beyond the first few: every flow of the rule, in the flows view.
    return withFlowQuery({ ...state, view: 'flows' }, { filter: line.group.rule, sort: 'time' });
  }
  return state;
}

function showDetail(state: TuiState, flowId: number, from: View): TuiState {
  const record = state.detail.flowId === flowId ? state.detail.record : null;
  return { ...state, view: 'detail', detail: { flowId, record, scroll: 0, from } };
}

function back(state: TuiState): TuiState {
  if (state.help) return { ...state, help: false };
  if (state.typing !== null) return { ...state, typing: null };
  if (state.view === 'detail') return { ...state, view: state.detail.from === 'detail' ? 'flows' : state.detail.from };
  if (state.view === 'flows' && state.flows.filter) return withFlowQuery(state, { filter: '' });
  return state;
}

function captureLoaded(state: TuiState, action: Extract<Action, { type: 'captureLoaded' }>): TuiState {
  const newCapture = action.captureId !== state.captureId;
  const base = newCapture ? { ...initialState({ size: state.size, view: state.view }), help: state.help, follow: state.follow, typing: state.typing } : state;
  const flows = newCapture ? { ...base.flows, filter: state.flows.filter, sort: state.flows.sort } : base.flows;
  const progress = [...base.progress, ...action.progress].slice(-PROGRESS_KEPT);
  const findingsChanged = !sameJson(base.findings.groups, action.groups) || !sameJson([...base.findings.flows.values()], action.groupFlows);
  const next: TuiState = {
    ...base,
    captureId: action.captureId,
    capture: sameJson(base.capture, action.capture) ? base.capture : action.capture,
    matrix: sameJson(base.matrix, action.matrix) ? base.matrix : action.matrix,
    progress: action.progress.length > 0 ? progress : base.progress,
    rates: action.progress.length > 0 ? ratesOf(progress) : base.rates,
    flows,
    findings: findingsChanged ? clampFindings({ ...base.findings, groups: action.groups, flows: new Map(action.groupFlows.map((row) => [row.id, row])) }, state.size) : base.findings,
  };
  const unchanged = !newCapture && next.capture === state.capture && next.matrix === state.matrix && next.progress === state.progress && next.findings === state.findings;
  return unchanged ? state : next;
}

/**
 * A page of flows arrived. The selection follows its flow when the flow is still in view (new
 * flows sorted before it push it down); else the cursor keeps its place, within the new total.
 */
function flowsLoaded(state: TuiState, action: Extract<Action, { type: 'flowsLoaded' }>): TuiState {
  const flows = state.flows;
  if (action.filter !== flows.filter || action.sort !== flows.sort) return state; // an answer to a query since replaced
  const window = { filter: action.filter, sort: action.sort, offset: action.offset, rows: action.rows };
  if (flows.total === action.total && flows.window && sameJson(flows.window, window)) return state;
  const at = flows.selectedId === null ? -1 : action.rows.findIndex((row) => row.id === flows.selectedId);
  const cursor = clampFinite(at >= 0 ? action.offset + at : flows.cursor, 0, action.total - 1);
  const shift = cursor - flows.cursor;
  const moved = { ...state, flows: { ...flows, total: action.total, window, top: flows.top + shift } };
  return withFlowsCursor(moved, cursor);
}

/** The rows the flows table needs next, when those read do not cover the screen; else null. */
export function wantedFlowWindow(state: TuiState): { filter: string; sort: FlowSort; offset: number; limit: number } | null {
  const { flows } = state;
  const visible = flowLinesVisible(state.size);
  const window = flows.window;
  const covered =
    window !== null && window.filter === flows.filter && window.sort === flows.sort &&
    flows.top >= window.offset && Math.min(flows.top + visible, flows.total) <= window.offset + window.rows.length;
  if (covered) return null;
  // A screen above and a screen below too: scrolling reads once a screen, not once a line.
  const offset = Math.max(0, flows.top - visible);
  return { filter: flows.filter, sort: flows.sort, offset, limit: flows.top - offset + 2 * visible };
}

/** Where the table's rows are re-read on a refresh: the window read last, or the one wanted. */
export function refreshFlowWindow(state: TuiState): { filter: string; sort: FlowSort; offset: number; limit: number } {
  const wanted = wantedFlowWindow(state);
  if (wanted) return wanted;
  const window = state.flows.window!;
  return { filter: window.filter, sort: window.sort, offset: window.offset, limit: Math.max(window.rows.length, flowLinesVisible(state.size) * 3) };
}

export function rowAt(flows: FlowsState, index: number): FlowRow | undefined {
  const window = flows.window;
  if (!window || window.filter !== flows.filter || window.sort !== flows.sort) return undefined;
  return window.rows[index - window.offset];
}

/** Flows shown under each rule in the findings view; the rest are a line that opens them all. */
export const FLOWS_PER_RULE = 5;

export type FindingLine =
  | { kind: 'rule'; group: FindingGroup }
  | { kind: 'flow'; group: FindingGroup; flowId: number }
  | { kind: 'more'; group: FindingGroup; more: number };

/** The findings view's lines: each rule, worst first, then its first flows. */
export function findingLines(findings: FindingsState): FindingLine[] {
  return findings.groups.flatMap((group): FindingLine[] => {
    const shown = group.flowIds.slice(0, FLOWS_PER_RULE);
    const lines: FindingLine[] = [{ kind: 'rule', group }, ...shown.map((flowId) => ({ kind: 'flow' as const, group, flowId }))];
    if (group.count > shown.length) lines.push({ kind: 'more', group, more: group.count - shown.length });
    return lines;
  });
}

function clampFindings(findings: FindingsState, size: Size): FindingsState {
  const cursor = clampFinite(findings.cursor, 0, findingLines(findings).length - 1);
  return { ...findings, cursor, top: scrolledTop(findings.top, cursor, findingLinesVisible(size)) };
}

/** Rates between consecutive progress rows (a writer adds one about every second). */
export function ratesOf(progress: readonly ProgressRow[]): Rate[] {
  const rates: Rate[] = [];
  for (let i = 1; i < progress.length; i++) {
    const seconds = progress[i].wall - progress[i - 1].wall;
    if (seconds <= 0) continue;
    rates.push({
      wall: progress[i].wall,
      packetsPerSecond: Math.max(0, (progress[i].packets - progress[i - 1].packets) / seconds),
      bytesPerSecond: Math.max(0, (progress[i].bytes - progress[i - 1].bytes) / seconds),
    });
  }
  return rates;
}

/** The first line on screen, moved as little as keeps `cursor` within `visible` lines. */
function scrolledTop(top: number, cursor: number, visible: number): number {
  if (cursor < top) return cursor;
  if (cursor >= top + visible) return cursor - visible + 1;
  return top;
}

/** `value` within [min, max] (an empty range gives min); ±Infinity lands on the ends. */
function clampFinite(value: number, min: number, max: number): number {
  return Math.max(min, Math.min(Math.max(min, max), value));
}

/** Data read again equals what is shown: keep the old object, so that nothing re-renders. */
function sameJson(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

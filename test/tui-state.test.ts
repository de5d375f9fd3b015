/**
 * The dashboard's reducer (src/tui/state.ts) and key map (src/tui/keys.ts), without rendering:
 * navigation, paging, filter, sort, view switching, and a refresh that keeps the selection on its
 * flow. Pure functions fed the actions data.ts would feed them.
 */
import { describe, expect, it } from 'vitest';
import { actionFor } from '../src/tui/keys.js';
import { flowLinesVisible, initialState, reduce, wantedFlowWindow, findingLines, ratesOf, type Action, type TuiState } from '../src/tui/state.js';
import type { FindingGroup, FlowRow, FlowSort } from '../src/store/index.js';

const size = { columns: 80, rows: 24 };
/** 24 rows: a header, a footer, the column titles and one line Ink must not fill leave 20 rows of flows. */
const VISIBLE = 20;

function row(id: number): FlowRow {
  return {
    id, firstTs: 1_700_000_000 + id, src: '198.18.0.1', sport: 40000 + id, dst: '198.18.0.2', dport: 10250, clientRole: null, serverRole: 'kubelet',
    path: 'client->kubelet', via: null, protocol: 'tls', tlsVersion: '1.2', sni: null, verdict: 'untrusted', posture: 'unjudged', bytes: id * 100,
    findingCount: 0, worstSeverity: null, rules: '',
  };
}

/** What data.ts does: reads the window the state asks for, from a table of `total` flows with ids 1…total (or `ids`). */
function load(state: TuiState, ids: number[]): TuiState {
  const wanted = wantedFlowWindow(state);
  if (!wanted) return state;
  const rows = ids.slice(wanted.offset, wanted.offset + wanted.limit).map(row);
  return reduce(state, { type: 'flowsLoaded', filter: wanted.filter, sort: wanted.sort, total: ids.length, offset: wanted.offset, rows });
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

function flowsView(total: number): TuiState {
  return load(reduce(initialState({ size }), { type: 'show', view: 'flows' }), range(total));
}

const run = (state: TuiState, ids: number[], ...actions: Action[]) => actions.reduce((s, action) => load(reduce(s, action), ids), state);

describe('the flows table', () => {
  it('has 20 rows on 80×24, and reads a screen above and below the one shown', () => {
    expect(flowLinesVisible(size)).toBe(VISIBLE);
    const state = flowsView(200_000);
    expect(state.flows).toMatchObject({ total: 200_000, cursor: 0, top: 0, selectedId: 1 });
    expect(state.flows.window).toMatchObject({ offset: 0 });
    expect(state.flows.window!.rows).toHaveLength(2 * VISIBLE);
    expect(wantedFlowWindow(state)).toBeNull();
  });

  it('moves with j/k, scrolls at the edge, pages, and jumps to the ends', () => {
    const ids = range(200_000);
    let state = flowsView(ids.length);
    state = run(state, ids, { type: 'move', by: -1 });
    expect(state.flows).toMatchObject({ cursor: 0, top: 0 });
    state = run(state, ids, ...Array<Action>(25).fill({ type: 'move', by: 1 }));
    expect(state.flows).toMatchObject({ cursor: 25, top: 25 - VISIBLE + 1, selectedId: 26 });
    state = run(state, ids, { type: 'page', by: 1 });
    expect(state.flows).toMatchObject({ cursor: 25 + VISIBLE - 1, selectedId: 25 + VISIBLE });
    state = run(state, ids, { type: 'jump', to: 'last' });
    expect(state.flows).toMatchObject({ cursor: 199_999, top: 200_000 - VISIBLE, selectedId: 200_000 });
    // Only the rows around the screen were read.
    expect(state.flows.window!.offset).toBe(200_000 - 2 * VISIBLE);
    expect(state.flows.window!.rows.length).toBeLessThanOrEqual(3 * VISIBLE);
    state = run(state, ids, { type: 'move', by: 1 });
    expect(state.flows.cursor).toBe(199_999);
    state = run(state, ids, { type: 'jump', to: 'first' });
    expect(state.flows).toMatchObject({ cursor: 0, top: 0, selectedId: 1 });
    state = run(state, ids, { type: 'page', by: -1 });
    expect(state.flows.cursor).toBe(0);
  });

  it('reads again only when the screen leaves the rows read', () => {
    const ids = range(1000);
    let state = flowsView(ids.length);
    const first = state.flows.window;
    state = run(state, ids, ...Array<Action>(VISIBLE + 5).fill({ type: 'move', by: 1 }));
    expect(state.flows.window).toBe(first);
    state = run(state, ids, { type: 'page', by: 1 }, { type: 'page', by: 1 });
    expect(state.flows.window).not.toBe(first);
  });

  it('keeps the selection on its flow when a refresh brings flows sorted before it', () => {
    let state = flowsView(100);
    state = run(state, range(100), ...Array<Action>(5).fill({ type: 'move', by: 1 }));
    expect(state.flows).toMatchObject({ cursor: 5, selectedId: 6 });
    // Three new flows sort first (they began earlier but ended later): flow 6 is now the 9th row.
    const refreshed = [1001, 1002, 1003, ...range(100)];
    const window = state.flows.window!;
    state = reduce(state, { type: 'flowsLoaded', filter: '', sort: 'time', total: 103, offset: window.offset, rows: refreshed.slice(window.offset, window.offset + window.rows.length).map(row) });
    expect(state.flows).toMatchObject({ total: 103, cursor: 8, selectedId: 6 });
    // The same data again changes nothing: the same state object, nothing to draw.
    const again = reduce(state, { type: 'flowsLoaded', filter: '', sort: 'time', total: 103, offset: window.offset, rows: refreshed.slice(window.offset, window.offset + window.rows.length).map(row) });
    expect(again).toBe(state);
  });

  it('clamps the selection when the filtered flows are fewer', () => {
    let state = run(flowsView(100), range(100), { type: 'jump', to: 'last' });
    for (const action of [{ type: 'filterStart' }, { type: 'filterType', text: 'kubelet' }, { type: 'filterApply' }] as Action[]) state = reduce(state, action);
    expect(state.flows).toMatchObject({ filter: 'kubelet', cursor: 0, top: 0 });
    const filtered = [3, 7];
    state = load(state, filtered);
    expect(state.flows).toMatchObject({ total: 2, cursor: 0, selectedId: 3 });
  });
});

describe('filter and sort', () => {
  it('types a filter after /, erases, applies it on Enter, and Esc cancels or clears it', () => {
    let state = reduce(initialState({ size }), { type: 'filterStart' });
    expect(state).toMatchObject({ view: 'flows', typing: '' });
    for (const text of ['k', 'u', 'b', 'x']) state = reduce(state, { type: 'filterType', text });
    state = reduce(state, { type: 'filterErase' });
    expect(state.typing).toBe('kub');
    state = reduce(state, { type: 'filterApply' });
    expect(state).toMatchObject({ typing: null, flows: { filter: 'kub' } });
    expect(wantedFlowWindow(state)).toMatchObject({ filter: 'kub', offset: 0 });
    // Esc while typing keeps the filter that was applied.
    state = reduce(reduce(state, { type: 'filterStart' }), { type: 'filterType', text: 'zzz' });
    state = reduce(state, { type: 'back' });
    expect(state).toMatchObject({ typing: null, flows: { filter: 'kub' } });
    // Esc in the table clears it.
    state = reduce(state, { type: 'back' });
    expect(state.flows.filter).toBe('');
  });

  it('cycles the sort through time, severity, bytes and path, back to the first row each time', () => {
    let state = run(flowsView(100), range(100), { type: 'move', by: 10 });
    const sorts: FlowSort[] = [];
    for (let i = 0; i < 4; i++) {
      state = reduce(state, { type: 'sortNext' });
      sorts.push(state.flows.sort);
      expect(state.flows.cursor).toBe(0);
    }
    expect(sorts).toEqual(['severity', 'bytes', 'path', 'time']);
    // A page read for a sort since replaced is dropped.
    const stale = reduce(state, { type: 'flowsLoaded', filter: '', sort: 'bytes', total: 5, offset: 0, rows: [row(1)] });
    expect(stale).toBe(state);
  });
});

describe('views', () => {
  it('switches with 1–4 and Tab, opens a flow with Enter and goes back with Esc', () => {
    let state = flowsView(50);
    state = run(state, range(50), { type: 'move', by: 2 }, { type: 'open' });
    expect(state).toMatchObject({ view: 'detail', detail: { flowId: 3, from: 'flows', record: null } });
    state = reduce(state, { type: 'back' });
    expect(state.view).toBe('flows');
    expect(state.flows.cursor).toBe(2);
    const views = [];
    for (let i = 0; i < 4; i++) views.push((state = reduce(state, { type: 'nextView' })).view);
    expect(views).toEqual(['detail', 'findings', 'overview', 'flows']);
    expect(reduce(state, { type: 'show', view: 'findings' }).view).toBe('findings');
  });

  it('shows and hides the help; q quits', () => {
    let state = reduce(initialState({ size }), { type: 'help' });
    expect(state.help).toBe(true);
    state = reduce(state, { type: 'back' });
    expect(state.help).toBe(false);
    expect(reduce(state, { type: 'quit' }).quit).toBe(true);
  });

  it('walks the findings: Enter on a flow opens it, on a rule lists its flows', () => {
    const groups: FindingGroup[] = [
      { rule: 'KW005', severity: 'critical', name: 'credentials-in-cleartext', title: 'Credentials in clear', remediation: 'use TLS', count: 2, flowIds: [4, 9] },
      { rule: 'KW004', severity: 'high', name: 'no-client-auth', title: 'No client certificate', remediation: 'mTLS', count: 7, flowIds: [1, 2, 3, 5, 6, 8, 10] },
    ];
    const capture = { id: 1, source: 'x.pcap', format: 'pcap', started: 1, finished: 2, packets: 10, bytes: 1000, decodeErrors: 0, dropped: null, flows: 10, findings: 9 };
    let state = reduce(initialState({ size }), { type: 'captureLoaded', captureId: 1, capture, matrix: [], groups, groupFlows: [], progress: [] });
    state = reduce(state, { type: 'show', view: 'findings' });
    expect(findingLines(state.findings).map((line) => `${line.kind} ${line.group.rule}`)).toEqual([
      'rule KW005', 'flow KW005', 'flow KW005', 'rule KW004', 'flow KW004', 'flow KW004', 'flow KW004', 'flow KW004', 'flow KW004', 'more KW004',
    ]);
    state = reduce(reduce(state, { type: 'move', by: 2 }), { type: 'open' });
    expect(state).toMatchObject({ view: 'detail', detail: { flowId: 9, from: 'findings' } });
    state = reduce(state, { type: 'back' });
    expect(state.view).toBe('findings');
    state = reduce(reduce(state, { type: 'jump', to: 'last' }), { type: 'open' });
    expect(state).toMatchObject({ view: 'flows', flows: { filter: 'KW004', cursor: 0 } });
  });
});

describe('data arriving', () => {
  const capture = (id: number, flows: number) => ({ id, source: 'stdin', format: 'pcap', started: 1, finished: null, packets: 10, bytes: 1000, decodeErrors: 0, dropped: null, flows, findings: 0 });
  const progress = (wall: number) => ({ wall, packets: wall * 100, bytes: wall * 1e4, flows: 0, findings: 0, dropped: null });

  it('the same data again is the same state (nothing to draw); new progress adds rates', () => {
    const loaded = (state: TuiState, flows: number, rows: ReturnType<typeof progress>[]) =>
      reduce(state, { type: 'captureLoaded', captureId: 1, capture: capture(1, flows), matrix: [], groups: [], groupFlows: [], progress: rows });
    const first = loaded(initialState({ size }), 5, [progress(1), progress(2)]);
    expect(first.rates).toEqual([{ wall: 2, packetsPerSecond: 100, bytesPerSecond: 1e4 }]);
    expect(loaded(first, 5, [])).toBe(first);
    const more = loaded(first, 7, [progress(4)]);
    expect(more.capture!.flows).toBe(7);
    expect(more.rates.map((rate) => rate.wall)).toEqual([2, 4]);
  });

  it('a newer capture starts afresh, keeping the filter and the sort', () => {
    let state = run(flowsView(100), range(100), { type: 'move', by: 30 }, { type: 'sortNext' });
    state = reduce(state, { type: 'filterStart' });
    state = reduce(reduce(state, { type: 'filterType', text: 'kubelet' }), { type: 'filterApply' });
    state = reduce(state, { type: 'captureLoaded', captureId: 1, capture: capture(1, 100), matrix: [], groups: [], groupFlows: [], progress: [] });
    state = reduce(state, { type: 'captureLoaded', captureId: 2, capture: capture(2, 0), matrix: [], groups: [], groupFlows: [], progress: [] });
    expect(state).toMatchObject({ captureId: 2, view: 'flows', flows: { filter: 'kubelet', sort: 'severity', cursor: 0, total: 0, window: null } });
  });
});

describe('keys', () => {
  const idle = { typing: null };
  it('maps arrows, vi keys, paging, views, filter, sort, help and quit', () => {
    expect(actionFor(idle, 'j', {})).toEqual({ type: 'move', by: 1 });
    expect(actionFor(idle, '', { upArrow: true })).toEqual({ type: 'move', by: -1 });
    expect(actionFor(idle, '', { pageDown: true })).toEqual({ type: 'page', by: 1 });
    expect(actionFor(idle, 'G', { shift: true })).toEqual({ type: 'jump', to: 'last' });
    expect(actionFor(idle, 'g', {})).toEqual({ type: 'jump', to: 'first' });
    expect(actionFor(idle, '2', {})).toEqual({ type: 'show', view: 'flows' });
    expect(actionFor(idle, '4', {})).toEqual({ type: 'show', view: 'findings' });
    expect(actionFor(idle, '', { tab: true })).toEqual({ type: 'nextView' });
    expect(actionFor(idle, '', { return: true })).toEqual({ type: 'open' });
    expect(actionFor(idle, '', { escape: true })).toEqual({ type: 'back' });
    expect(actionFor(idle, '/', {})).toEqual({ type: 'filterStart' });
    expect(actionFor(idle, 's', {})).toEqual({ type: 'sortNext' });
    expect(actionFor(idle, '?', {})).toEqual({ type: 'help' });
    expect(actionFor(idle, 'q', {})).toEqual({ type: 'quit' });
    expect(actionFor(idle, 'c', { ctrl: true })).toEqual({ type: 'quit' });
  });

  it('takes every printable key as filter text while typing', () => {
    const typing = { typing: 'ku' };
    expect(actionFor(typing, 'q', {})).toEqual({ type: 'filterType', text: 'q' });
    expect(actionFor(typing, 'j', {})).toEqual({ type: 'filterType', text: 'j' });
    expect(actionFor(typing, '', { backspace: true })).toEqual({ type: 'filterErase' });
    expect(actionFor(typing, '', { return: true })).toEqual({ type: 'filterApply' });
    expect(actionFor(typing, '', { escape: true })).toEqual({ type: 'back' });
    expect(actionFor(typing, 'c', { ctrl: true })).toEqual({ type: 'quit' });
  });
});

describe('rates', () => {
  it('are the differences between progress rows over their time', () => {
    const rows = [0, 1, 3].map((wall, i) => ({ wall: 100 + wall, packets: [0, 500, 2500][i], bytes: [0, 1e6, 2e6][i], flows: 0, findings: 0, dropped: null }));
    expect(ratesOf(rows)).toEqual([
      { wall: 101, packetsPerSecond: 500, bytesPerSecond: 1e6 },
      { wall: 103, packetsPerSecond: 1000, bytesPerSecond: 5e5 },
    ]);
  });
});

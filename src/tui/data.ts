/**
 * The dashboard's data layer: it holds the state, passes keys through the reducer, and reads
 * from the database (StoreReader) what the state says it needs — the rows of the flows table on
 * screen and a little around them, the record of the flow in detail — and, every half second
 * while a writer runs, what changed. Reads are synchronous (better-sqlite3), so a key and the rows
 * it needs make one frame. The React side subscribes with useSyncExternalStore: a state that did
 * not change is the same object, and nothing is drawn again.
 */
import type { StoreReader } from '../store/index.js';
import { initialState, reduce, refreshFlowWindow, wantedFlowWindow, FLOWS_PER_RULE, type Action, type Size, type TuiState } from './state.js';

export interface DashboardOptions {
  size: Size;
  /** The capture to show; by default the latest, and a newer one as soon as it appears. */
  captureId?: number | null;
  /** Least time between two reads of the database, in ms. */
  refreshMs?: number;
}

export class Dashboard {
  private state: TuiState;
  private readonly listeners = new Set<() => void>();
  private readonly refreshMs: number;
  private timer: NodeJS.Timeout | null = null;
  /** What the last refresh saw of the capture: when it is unchanged, nothing else is read. */
  private seen = '';
  /** The writer's last progress row read (seconds since the epoch). */
  private progressWall = 0;
  /** Flows matching a filter, counted once per filter and state of the capture (a count scans the flows). */
  private totals = new Map<string, number>();
  /** The error that stopped the refreshes, for the command to report. */
  failure: Error | null = null;

  constructor(
    private readonly reader: StoreReader,
    options: DashboardOptions,
  ) {
    this.refreshMs = options.refreshMs ?? 500;
    this.state = initialState({ size: options.size, captureId: options.captureId ?? null });
    this.refresh();
  }

  readonly getState = (): TuiState => this.state;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly dispatch = (action: Action): void => {
    this.update(this.withData(reduce(this.state, action)));
  };

  /**
   * Reads the database again now and then: every `refreshMs` while the capture's writer runs or a
   * newer capture may come; a slow read (a large database) spaces the next ones out.
   */
  start(onError: (error: Error) => void = () => {}): void {
    const tick = () => {
      const started = Date.now();
      try {
        this.refresh();
      } catch (error) {
        this.failure = error as Error;
        onError(this.failure);
        return;
      }
      this.timer = setTimeout(tick, Math.max(this.refreshMs, 4 * (Date.now() - started)));
    };
    this.timer = setTimeout(tick, this.refreshMs);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Reads what changed in the database since the last time, and what the screen needs. */
  refresh(): void {
    const state = this.state;
    const captureId = state.follow ? this.reader.latestCaptureId() : state.captureId;
    if (captureId === null) return;
    const finished = state.capture !== null && state.capture.id === captureId && state.capture.finished !== null;
    if (finished && this.seen.startsWith(`${captureId} `)) return; // a finished capture does not change
    const capture = this.reader.captureStatus(captureId);
    if (!capture) return;
    const seen = `${captureId} ${capture.finished} ${capture.flows} ${capture.findings} ${capture.packets}`;
    if (captureId !== state.captureId) this.progressWall = 0;
    const progress = this.reader.progress(captureId, this.progressWall);
    if (progress.length > 0) this.progressWall = progress[progress.length - 1].wall;
    if (seen === this.seen && progress.length === 0) return;
    const changed = seen !== this.seen;
    this.seen = seen;
    if (changed) this.totals.clear();
    const groups = changed || captureId !== state.captureId ? this.reader.findingGroups(captureId, FLOWS_PER_RULE) : state.findings.groups;
    const groupFlows = changed ? this.reader.flowRows(captureId, [...new Set(groups.flatMap((group) => group.flowIds))]) : [...state.findings.flows.values()];
    let next = reduce(state, {
      type: 'captureLoaded', captureId, capture, groups, groupFlows, progress,
      matrix: changed || captureId !== state.captureId ? this.reader.matrix(captureId) : state.matrix,
    });
    if (changed && next.captureId === state.captureId && state.flows.window) next = this.readFlows(next, refreshFlowWindow(next));
    this.update(this.withData(next));
  }

  /** The state with the rows and the record it asks for read. */
  private withData(state: TuiState): TuiState {
    if (state.captureId === null) return state;
    let next = state;
    const wanted = wantedFlowWindow(next);
    if (wanted && next.view === 'flows') next = this.readFlows(next, wanted);
    const { detail } = next;
    if (next.view === 'detail' && detail.flowId !== null && detail.record === null) {
      next = reduce(next, { type: 'detailLoaded', flowId: detail.flowId, record: this.reader.flow(next.captureId!, detail.flowId) });
    }
    return next;
  }

  private readFlows(state: TuiState, window: NonNullable<ReturnType<typeof wantedFlowWindow>>): TuiState {
    const captureId = state.captureId!;
    let total = this.totals.get(window.filter);
    if (total === undefined) {
      total = this.reader.flowCount(captureId, window.filter);
      this.totals.set(window.filter, total);
    }
    const rows = this.reader.flows(captureId, { filter: window.filter, sort: window.sort, offset: window.offset, limit: window.limit });
    return reduce(state, { type: 'flowsLoaded', filter: window.filter, sort: window.sort, total, offset: window.offset, rows });
  }

  private update(next: TuiState): void {
    if (next === this.state) return;
    this.state = next;
    for (const listener of this.listeners) listener();
  }
}

import { Api, api as defaultApi } from '../api';
import { IRunFilters, IRunSummary } from '../types';
import {
  browserScheduler,
  IRefreshIntervals,
  IScheduler,
  nextDelay
} from './schedule';

/** Listed active runs looked up one by one per refresh, at most. */
export const MAX_LOOKUPS = 10;

/** Whether a run is still pending or processing. */
export function isActive(run: IRunSummary): boolean {
  return run.state !== 'TERMINATED';
}

/** What the run list shows. */
export interface IRunsState {
  runs: IRunSummary[];
  filters: IRunFilters;
  hasMore: boolean;
  loading: boolean;
  error: string | null;
  updatedAt: number | null;
  /** Seconds until the next automatic refresh (0 while paused). */
  nextRefreshSeconds: number;
}

/** Options of the run list model. */
export interface IRunsModelOptions {
  api?: Pick<Api, 'listRuns' | 'getRun'>;
  pageSize?: number;
  intervals: IRefreshIntervals;
  scheduler?: IScheduler;
  /** Called once for every listed run seen to terminate. */
  onTerminated?: (run: IRunSummary) => void;
  /** Called when the server says the platform login is gone (HTTP 401). */
  onUnauthorized?: () => void;
}

function message(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

function isUnauthorized(reason: unknown): boolean {
  return (reason as { status?: number } | null)?.status === 401;
}

/**
 * The run list: pages loaded on demand, refreshed automatically with backoff (about `activeSeconds` while runs
 * are active, doubling up to `idleSeconds` when idle, paused while the panel is hidden), and a callback when a
 * listed run terminates.
 *
 * A refresh fetches the first page (new runs and recent progress); when listed active runs are further down, the
 * first pages of the processing and pending runs; and then, one by one (at most {@link MAX_LOOKUPS} per refresh),
 * listed active runs found in neither (they terminated).
 */
export class RunsModel {
  constructor(options: IRunsModelOptions) {
    this._api = options.api ?? defaultApi;
    this._pageSize = options.pageSize ?? 50;
    this.intervals = options.intervals;
    this._scheduler = options.scheduler ?? browserScheduler;
    this._onTerminated = options.onTerminated;
    this._onUnauthorized = options.onUnauthorized;
  }

  /** The refresh intervals (settings may change them). */
  intervals: IRefreshIntervals;

  /** The current state (a new object after every change). */
  get state(): IRunsState {
    return this._state;
  }

  /** Call `listener` after every change; returns the unsubscribe function. */
  subscribe(listener: (state: IRunsState) => void): () => void {
    this._listeners.add(listener);
    return () => this._listeners.delete(listener);
  }

  /** Replace the filters and load the first page again. */
  async setFilters(filters: IRunFilters): Promise<void> {
    this._update({ filters: { ...filters }, runs: [], hasMore: false });
    this._page = 0;
    await this.reload();
  }

  /** Load the first page again (the list restarts from it). */
  async reload(): Promise<void> {
    this._page = 0;
    this._update({ loading: true });
    try {
      const page = await this._api.listRuns(
        this._state.filters,
        1,
        this._pageSize
      );
      this._page = 1;
      this._noteTerminations(page.runs);
      this._update({
        runs: page.runs,
        hasMore: page.has_more,
        error: null,
        updatedAt: this._scheduler.now()
      });
    } catch (reason) {
      this._fail(reason);
    } finally {
      this._update({ loading: false });
      this._schedule();
    }
  }

  /** Load the next page and append it. */
  async loadMore(): Promise<void> {
    if (!this._state.hasMore || this._loadingMore) {
      return;
    }
    this._loadingMore = true;
    this._update({ loading: true });
    try {
      const page = await this._api.listRuns(
        this._state.filters,
        this._page + 1,
        this._pageSize
      );
      this._page += 1;
      const known = new Set(this._state.runs.map(run => run.run_id));
      const added = page.runs.filter(run => !known.has(run.run_id));
      this._noteTerminations(added);
      this._update({
        runs: [...this._state.runs, ...added],
        hasMore: page.has_more,
        error: null
      });
    } catch (reason) {
      this._fail(reason);
    } finally {
      this._loadingMore = false;
      this._update({ loading: false });
    }
  }

  /** Refresh the listed runs now (see the class comment). */
  async refresh(): Promise<void> {
    if (this._page === 0) {
      return this.reload();
    }
    try {
      const filters = this._state.filters;
      const first = await this._api.listRuns(filters, 1, this._pageSize);
      const fresh = new Map(first.runs.map(run => [run.run_id, run]));
      const listed = this._state.runs;
      const stale = () =>
        listed.filter(run => isActive(run) && !fresh.has(run.run_id));
      if (stale().length > 0) {
        for (const state of ['PROCESSING', 'PENDING'] as const) {
          if (filters.state && filters.state !== state) {
            continue;
          }
          const active = await this._api.listRuns(
            { ...filters, state },
            1,
            100
          );
          active.runs.forEach(run => fresh.set(run.run_id, run));
        }
        // Active runs in neither list have terminated; look a few up each time (the rest on later refreshes).
        for (const run of stale().slice(0, MAX_LOOKUPS)) {
          fresh.set(run.run_id, await this._api.getRun(run.run_id));
        }
      }
      const known = new Set(listed.map(run => run.run_id));
      const added = first.runs.filter(run => !known.has(run.run_id));
      const merged = listed
        .map(run => fresh.get(run.run_id) ?? run)
        .filter(run => !filters.state || run.state === filters.state);
      this._noteTerminations([...added, ...merged]);
      this._update({
        runs: [...added, ...merged],
        error: null,
        updatedAt: this._scheduler.now(),
        hasMore: this._page === 1 ? first.has_more : this._state.hasMore
      });
    } catch (reason) {
      this._fail(reason);
    }
  }

  /** Refresh automatically from now on (immediately when `now`). */
  resume(now = true): void {
    this._paused = false;
    if (now) {
      this._delay = 0;
      void this._tick();
    } else {
      this._schedule();
    }
  }

  /** Stop refreshing automatically (the panel is hidden). */
  pause(): void {
    this._paused = true;
    this._clearTimer();
    this._update({ nextRefreshSeconds: 0 });
  }

  /** Stop everything. */
  dispose(): void {
    this.pause();
    this._listeners.clear();
  }

  private async _tick(): Promise<void> {
    this._clearTimer();
    if (this._paused) {
      return;
    }
    await this.refresh();
    this._schedule();
  }

  private _schedule(): void {
    this._clearTimer();
    if (this._paused) {
      return;
    }
    const active = this._state.runs.some(isActive);
    this._delay = nextDelay(this._delay, active, this.intervals);
    this._timer = this._scheduler.set(
      () => void this._tick(),
      this._delay * 1000
    );
    this._update({ nextRefreshSeconds: this._delay });
  }

  private _clearTimer(): void {
    if (this._timer !== null) {
      this._scheduler.clear(this._timer);
      this._timer = null;
    }
  }

  /** Remember each run's state; tell about runs seen active before and terminated now. */
  private _noteTerminations(runs: IRunSummary[]): void {
    for (const run of runs) {
      const before = this._seen.get(run.run_id);
      this._seen.set(run.run_id, run.state);
      if (before && before !== 'TERMINATED' && run.state === 'TERMINATED') {
        this._onTerminated?.(run);
      }
    }
  }

  private _fail(reason: unknown): void {
    this._update({ error: message(reason) });
    if (isUnauthorized(reason)) {
      this.pause();
      this._onUnauthorized?.();
    }
  }

  private _update(change: Partial<IRunsState>): void {
    this._state = { ...this._state, ...change };
    this._listeners.forEach(listener => listener(this._state));
  }

  private _api: Pick<Api, 'listRuns' | 'getRun'>;
  private _pageSize: number;
  private _scheduler: IScheduler;
  private _onTerminated?: (run: IRunSummary) => void;
  private _onUnauthorized?: () => void;
  private _listeners = new Set<(state: IRunsState) => void>();
  private _seen = new Map<string, string>();
  private _page = 0;
  private _delay = 0;
  private _timer: number | null = null;
  private _paused = true;
  private _loadingMore = false;
  private _state: IRunsState = {
    runs: [],
    filters: {},
    hasMore: false,
    loading: false,
    error: null,
    updatedAt: null,
    nextRefreshSeconds: 0
  };
}

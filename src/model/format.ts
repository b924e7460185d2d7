import { IRunSummary } from '../types';

/** A byte count for people: `1.5 MB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

/** A time as `2026-11-21 19:05` in the browser's zone, or `—`. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) {
    return '—';
  }
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return iso;
  }
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

/** The badge a run shows: its state, or how it terminated. */
export function runBadge(run: IRunSummary): { label: string; kind: string } {
  if (run.state !== 'TERMINATED') {
    return { label: run.state.toLowerCase(), kind: run.state.toLowerCase() };
  }
  if (run.termination_reason === 'CANCELED_BY_USER') {
    return { label: 'canceled', kind: 'canceled' };
  }
  if (run.termination_reason === 'CANCELED_BY_SYSTEM') {
    return { label: 'failed', kind: 'failed' };
  }
  const stats = run.statistics;
  if (stats.item_succeeded_count === stats.item_count) {
    return { label: 'succeeded', kind: 'succeeded' };
  }
  return stats.item_succeeded_count > 0
    ? { label: 'partial', kind: 'partial' }
    : { label: 'failed', kind: 'failed' };
}

/** `done/total` of a run: succeeded items out of all, and the share terminated (0..1). */
export function runProgress(run: IRunSummary): {
  succeeded: number;
  total: number;
  finished: number;
} {
  const stats = run.statistics;
  const total = stats.item_count;
  const finished =
    total === 0
      ? 0
      : (total - stats.item_pending_count - stats.item_processing_count) /
        total;
  return { succeeded: stats.item_succeeded_count, total, finished };
}

/** Whether results can be downloaded: some item succeeded. */
export function hasResults(run: IRunSummary): boolean {
  return run.statistics.item_succeeded_count > 0;
}

/** The notification text for a run that terminated. */
export function terminationMessage(run: IRunSummary): string {
  const { succeeded, total } = runProgress(run);
  const badge = runBadge(run);
  return `Run ${run.run_id.slice(0, 8)} (${run.application_id} ${run.version_number}) ${badge.label}: ${succeeded}/${total} items succeeded.`;
}

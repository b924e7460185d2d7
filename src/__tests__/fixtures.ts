import { IRunDetails, IRunSummary, RunState } from '../types';

let counter = 0;

/** A run summary with sensible defaults. */
export function makeRun(change: Partial<IRunSummary> = {}): IRunSummary {
  counter += 1;
  const id =
    change.run_id ??
    `${String(counter).padStart(8, '0')}-0000-4000-8000-000000000000`;
  const state: RunState = change.state ?? 'PROCESSING';
  return {
    run_id: id,
    application_id: 'he-tme',
    version_number: '1.0.0',
    state,
    output: 'NONE',
    termination_reason: state === 'TERMINATED' ? 'ALL_ITEMS_PROCESSED' : null,
    error_code: null,
    error_message: null,
    statistics: {
      item_count: 2,
      item_pending_count: state === 'TERMINATED' ? 0 : 1,
      item_processing_count: 0,
      item_user_error_count: 0,
      item_system_error_count: 0,
      item_skipped_count: 0,
      item_succeeded_count: state === 'TERMINATED' ? 2 : 1
    },
    submitted_at: '2026-11-21T18:00:00+00:00',
    terminated_at: null,
    tags: ['cohort-a'],
    note: null,
    ...change
  };
}

/** A run with one item per external id. */
export function makeDetails(
  run: IRunSummary,
  externalIds: string[] = ['slides/case-1.svs']
): IRunDetails {
  return {
    ...run,
    items: externalIds.map((externalId, index) => ({
      item_id: `item-${index}`,
      external_id: externalId,
      state: 'TERMINATED',
      output: index === 0 ? 'FULL' : 'NONE',
      termination_reason: index === 0 ? 'SUCCEEDED' : 'USER_ERROR',
      error_code: index === 0 ? null : 'INPUT.UNSUPPORTED_FORMAT',
      error_message: index === 0 ? null : 'not a slide',
      terminated_at: null,
      artifacts: [
        {
          name: 'tissue_qc:geojson_polygons',
          state: 'TERMINATED',
          output: 'AVAILABLE',
          error_message: null
        }
      ]
    })),
    download: null
  };
}

/** A scheduler whose timers run only when told. */
export class FakeScheduler {
  timers = new Map<number, { callback: () => void; ms: number }>();
  time = 0;
  private next = 1;

  set = (callback: () => void, ms: number): number => {
    const id = this.next++;
    this.timers.set(id, { callback, ms });
    return id;
  };

  clear = (id: number): void => {
    this.timers.delete(id);
  };

  now = (): number => this.time;

  /** The delays (ms) of the pending timers. */
  pending(): number[] {
    return [...this.timers.values()].map(timer => timer.ms);
  }

  /** Run every pending timer once. */
  async fire(): Promise<void> {
    const due = [...this.timers.entries()];
    this.timers.clear();
    for (const [, timer] of due) {
      this.time += timer.ms;
      timer.callback();
    }
    await flush();
  }
}

/** Let pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await Promise.resolve();
  }
}

jest.mock(
  '../request',
  () => jest.requireActual('./fakeRequest').requestModule
);

import { RunsModel } from '../model/runs';
import { nextDelay } from '../model/schedule';
import { IRunSummary } from '../types';
import {
  callsTo,
  FakeRequestError,
  resetRequests,
  respond
} from './fakeRequest';
import { FakeScheduler, flush, makeRun } from './fixtures';

const intervals = { activeSeconds: 5, idleSeconds: 60 };

function page(runs: IRunSummary[], hasMore = false) {
  return { runs, page: 1, page_size: 50, has_more: hasMore };
}

describe('nextDelay', () => {
  it('uses the active interval while runs are active', () => {
    expect(nextDelay(40, true, intervals)).toBe(5);
    expect(nextDelay(0, false, intervals)).toBe(5);
  });

  it('doubles up to the idle cap when nothing is active', () => {
    const delays: number[] = [];
    let delay = 0;
    for (let i = 0; i < 6; i++) {
      delay = nextDelay(delay, false, intervals);
      delays.push(delay);
    }
    expect(delays).toEqual([5, 10, 20, 40, 60, 60]);
  });
});

describe('RunsModel', () => {
  beforeEach(resetRequests);

  it('loads the first page with the filters', async () => {
    const runs = [makeRun(), makeRun({ state: 'TERMINATED' })];
    respond('GET api/runs', page(runs, true));
    const model = new RunsModel({
      intervals,
      scheduler: new FakeScheduler(),
      pageSize: 20
    });

    await model.setFilters({ state: 'PROCESSING', tag: 'cohort-a' });

    expect(model.state.runs.map(r => r.run_id)).toEqual(
      runs.map(r => r.run_id)
    );
    expect(model.state.hasMore).toBe(true);
    expect(callsTo('GET api/runs')[0].query).toEqual({
      state: 'PROCESSING',
      tag: 'cohort-a',
      page: '1',
      page_size: '20'
    });
  });

  it('appends the next page without duplicates', async () => {
    const first = [makeRun(), makeRun()];
    const second = [first[1], makeRun()];
    respond('GET api/runs', page(first, true), {
      ...page(second, false),
      page: 2
    });
    const model = new RunsModel({ intervals, scheduler: new FakeScheduler() });
    await model.reload();

    await model.loadMore();

    expect(model.state.runs).toHaveLength(3);
    expect(model.state.hasMore).toBe(false);
    expect(callsTo('GET api/runs')[1].query.page).toBe('2');
    await model.loadMore(); // nothing more
    expect(callsTo('GET api/runs')).toHaveLength(2);
  });

  it('refreshes with backoff, and every 5 s while runs are active', async () => {
    const scheduler = new FakeScheduler();
    const idle = makeRun({ state: 'TERMINATED' });
    respond('GET api/runs', page([idle]));
    const model = new RunsModel({ intervals, scheduler });
    await model.reload();

    model.resume();
    await flush();
    expect(scheduler.pending()).toEqual([5000]);
    await scheduler.fire();
    expect(scheduler.pending()).toEqual([10000]);
    await scheduler.fire();
    expect(scheduler.pending()).toEqual([20000]);

    respond('GET api/runs', page([makeRun({ state: 'PENDING' }), idle]));
    await scheduler.fire();
    expect(model.state.runs).toHaveLength(2);
    expect(scheduler.pending()).toEqual([5000]);
    expect(model.state.nextRefreshSeconds).toBe(5);
  });

  it('stops refreshing while paused', async () => {
    const scheduler = new FakeScheduler();
    respond('GET api/runs', page([makeRun()]));
    const model = new RunsModel({ intervals, scheduler });
    model.resume();
    await flush();
    expect(scheduler.pending()).toEqual([5000]);

    model.pause();

    expect(scheduler.pending()).toEqual([]);
    expect(model.state.nextRefreshSeconds).toBe(0);
  });

  it('tells once when a listed run terminates, including runs below the first page', async () => {
    const scheduler = new FakeScheduler();
    const onTerminated = jest.fn();
    const top = makeRun({ state: 'PROCESSING' });
    const deep = makeRun({ state: 'PROCESSING' });
    respond('GET api/runs', page([top], true), { ...page([deep]), page: 2 });
    const model = new RunsModel({ intervals, scheduler, onTerminated });
    await model.reload();
    await model.loadMore();

    const topDone = { ...top, state: 'TERMINATED' as const };
    const deepDone = { ...deep, state: 'TERMINATED' as const };
    respond('GET api/runs', call =>
      call.query.state ? page([]) : page([topDone], true)
    );
    respond(`GET api/runs/${deep.run_id}`, {
      ...deepDone,
      items: [],
      download: null
    });
    await model.refresh();
    await model.refresh();

    expect(onTerminated).toHaveBeenCalledTimes(2);
    expect(onTerminated.mock.calls.map(c => c[0].run_id).sort()).toEqual(
      [top.run_id, deep.run_id].sort()
    );
    expect(model.state.runs.map(r => r.state)).toEqual([
      'TERMINATED',
      'TERMINATED'
    ]);
    // Active runs further down were looked for in the PROCESSING and PENDING lists first.
    const states = callsTo('GET api/runs')
      .map(c => c.query.state)
      .filter(Boolean);
    expect(states).toEqual(['PROCESSING', 'PENDING']);
  });

  it('puts new runs first and keeps the error of a failed refresh', async () => {
    const old = makeRun({ state: 'TERMINATED' });
    respond('GET api/runs', page([old]));
    const model = new RunsModel({ intervals, scheduler: new FakeScheduler() });
    await model.reload();
    const fresh = makeRun();
    respond('GET api/runs', page([fresh, old]));

    await model.refresh();
    expect(model.state.runs.map(r => r.run_id)).toEqual([
      fresh.run_id,
      old.run_id
    ]);

    respond('GET api/runs', new Error('The platform is unreachable'));
    await model.refresh();
    expect(model.state.error).toBe('The platform is unreachable');
    expect(model.state.runs).toHaveLength(2);
  });

  it('pauses and asks for the session again when the login is gone', async () => {
    const scheduler = new FakeScheduler();
    const onUnauthorized = jest.fn();
    respond('GET api/runs', new FakeRequestError('Not logged in', 401));
    const model = new RunsModel({ intervals, scheduler, onUnauthorized });

    model.resume();
    await flush();

    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    expect(model.state.error).toBe('Not logged in');
    expect(scheduler.pending()).toEqual([]);
  });
});

jest.mock(
  '../request',
  () => jest.requireActual('./fakeRequest').requestModule
);

import React from 'react';

import { BucketView } from '../components/BucketView';
import { LoginView } from '../components/LoginView';
import { RunDetailsView } from '../components/RunDetailsView';
import { RunsView } from '../components/RunsView';
import { SidebarView } from '../components/SidebarView';
import { DEFAULT_SETTINGS } from '../components/ui';
import { VirtualList } from '../components/VirtualList';
import { BucketModel } from '../model/bucket';
import { RunsModel } from '../model/runs';
import { SessionModel } from '../model/session';
import { callsTo, resetRequests, respond } from './fakeRequest';
import { FakeScheduler, makeDetails, makeRun } from './fixtures';
import { act, button, click, fakeUi, render } from './render';
import { loggedIn, loggedOut, pending } from './sessions';

const health = {
  name: 'aignostics-jupyter',
  version: '0.1.0',
  status: 'ok',
  components: { platform: { status: 'ok', api_root: 'http://127.0.0.1:8123' } }
};

function runsModel(): RunsModel {
  return new RunsModel({
    intervals: { activeSeconds: 5, idleSeconds: 60 },
    scheduler: new FakeScheduler()
  });
}

beforeEach(() => {
  resetRequests();
  respond('GET api/health', health);
  respond('GET api/applications', {
    applications: [
      {
        application_id: 'he-tme',
        name: 'Atlas H&E-TME',
        description: '',
        latest_version: '1.0.0'
      }
    ]
  });
});

describe('LoginView', () => {
  it('shows the code and link of a pending login', async () => {
    const { container } = await render(
      <LoginView
        state={{ session: pending, busy: false, error: null }}
        onLogin={jest.fn()}
      />
    );

    expect(
      container.querySelector('[aria-label="user code"]')?.textContent
    ).toBe('ABCD-EFGH');
    const link = container.querySelector('a');
    expect(link?.getAttribute('href')).toBe(
      pending.login?.verification_uri_complete
    );
    expect(link?.getAttribute('target')).toBe('_blank');
  });

  it('offers the login when logged out', async () => {
    const onLogin = jest.fn();
    const { container } = await render(
      <LoginView
        state={{ session: loggedOut, busy: false, error: null }}
        onLogin={onLogin}
      />
    );

    await click(button(container, 'Log in'));

    expect(onLogin).toHaveBeenCalled();
    expect(container.textContent).toContain('(local platform)');
  });
});

describe('SidebarView', () => {
  it('logs in from the panel, then shows the user, organization, runs and version', async () => {
    respond('GET api/session', loggedOut, loggedIn);
    respond('POST api/session', pending);
    respond('GET api/runs', {
      runs: [makeRun()],
      page: 1,
      page_size: 50,
      has_more: false
    });
    const session = new SessionModel(undefined, new FakeScheduler());
    const runs = runsModel();
    await session.load();
    const { container } = await render(
      <SidebarView
        session={session}
        runs={runs}
        bucket={new BucketModel()}
        ui={fakeUi()}
        settings={DEFAULT_SETTINGS}
        selectedFiles={() => []}
      />
    );
    expect(
      container.querySelector('.jp-AignosticsPanel-version')?.textContent
    ).toBe('0.1.0');

    await click(button(container, 'Log in'));
    expect(container.textContent).toContain('ABCD-EFGH');
    await act(() => session.load());
    await act(() => runs.reload());

    expect(
      container.querySelector('.jp-AignosticsUser-name')?.textContent
    ).toBe('Ada');
    expect(container.querySelector('.jp-AignosticsUser-org')?.textContent).toBe(
      'Org'
    );
    expect(container.querySelectorAll('.jp-AignosticsRunCard')).toHaveLength(1);
    expect(
      container.querySelector('[role="tab"][aria-selected="true"]')?.textContent
    ).toBe('Runs');
  });
});

describe('RunsView', () => {
  it('shows one card per run with state, progress and tags; filters go to the server', async () => {
    const run = makeRun({ tags: ['cohort-a', 'fast'] });
    respond('GET api/runs', {
      runs: [run],
      page: 1,
      page_size: 50,
      has_more: false
    });
    const model = runsModel();
    await model.reload();
    const onOpen = jest.fn();
    const { container } = await render(
      <RunsView model={model} onOpen={onOpen} />
    );

    const card = container.querySelector(
      `[data-run-id="${run.run_id}"]`
    ) as HTMLElement;
    expect(card.querySelector('.jp-AignosticsBadge')?.textContent).toBe(
      'processing'
    );
    expect(card.querySelector('.jp-AignosticsProgress-text')?.textContent).toBe(
      '1/2 succeeded'
    );
    expect(
      [...card.querySelectorAll('.jp-AignosticsTag')].map(t => t.textContent)
    ).toEqual(['cohort-a', 'fast']);
    expect(card.getAttribute('aria-label')).toContain('he-tme 1.0.0');
    await click(card);
    expect(onOpen).toHaveBeenCalledWith(run);

    const state = container.querySelector(
      '[aria-label="Filter by state"]'
    ) as HTMLSelectElement;
    await act(() => {
      state.value = 'TERMINATED';
      state.dispatchEvent(new Event('change', { bubbles: true }));
    });
    expect(callsTo('GET api/runs').pop()?.query.state).toBe('TERMINATED');
    const apps = container.querySelector(
      '[aria-label="Filter by application"]'
    ) as HTMLSelectElement;
    expect([...apps.options].map(o => o.textContent)).toEqual([
      'All applications',
      'Atlas H&E-TME'
    ]);
  });

  it('renders only the visible cards of 2,000 runs and loads more near the end', async () => {
    const runs = Array.from({ length: 2000 }, () =>
      makeRun({ state: 'TERMINATED' })
    );
    respond('GET api/runs', { runs, page: 1, page_size: 2000, has_more: true });
    const model = runsModel();
    await model.reload();
    const loadMore = jest.spyOn(model, 'loadMore').mockResolvedValue();

    const started = performance.now();
    const { container } = await render(
      <RunsView model={model} onOpen={jest.fn()} />
    );
    const elapsed = performance.now() - started;

    const list = container.querySelector('[role="list"]') as HTMLElement;
    expect(list.getAttribute('data-count')).toBe('2000');
    expect(
      container.querySelectorAll('.jp-AignosticsRunCard').length
    ).toBeLessThan(30);
    expect(elapsed).toBeLessThan(1000);
    expect(loadMore).not.toHaveBeenCalled();
    await act(() => {
      list.scrollTop = 1999 * 92;
      list.dispatchEvent(new Event('scroll'));
    });
    expect(loadMore).toHaveBeenCalled();
    const shown = [...container.querySelectorAll('.jp-AignosticsRunCard')];
    expect(shown.length).toBeLessThan(30);
    expect(shown[shown.length - 1].getAttribute('data-run-id')).toBe(
      runs[1999].run_id
    );
  });
});

describe('VirtualList', () => {
  it('moves the focus with the keyboard, also to rows not rendered yet', async () => {
    const items = Array.from({ length: 500 }, (_, i) => `row-${i}`);
    const { container } = await render(
      <VirtualList
        items={items}
        rowHeight={20}
        initialHeight={100}
        itemKey={x => x}
        renderItem={x => <button>{x}</button>}
        label="rows"
      />
    );
    const first = button(container, 'row-0');
    first.focus();

    await act(() => {
      first.dispatchEvent(
        new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true })
      );
    });
    expect(document.activeElement?.textContent).toBe('row-1');

    await act(() => {
      document.activeElement?.dispatchEvent(
        new KeyboardEvent('keydown', { key: 'End', bubbles: true })
      );
    });
    expect(document.activeElement?.textContent).toBe('row-499');
    expect(container.querySelectorAll('button').length).toBeLessThan(30);
  });

  it('positions rows by index', async () => {
    const { container } = await render(
      <VirtualList
        items={['a', 'b', 'c']}
        rowHeight={10}
        itemKey={x => x}
        renderItem={x => <span>{x}</span>}
        label="letters"
      />
    );
    const rows = [
      ...container.querySelectorAll<HTMLElement>('[role="listitem"]')
    ];
    expect(rows.map(r => r.style.top)).toEqual(['0px', '10px', '20px']);
    expect(
      container.querySelector('[role="list"]')?.getAttribute('aria-label')
    ).toBe('letters');
  });
});

describe('RunDetailsView', () => {
  it('lists items with errors, cancels after confirming, downloads and opens in a notebook', async () => {
    const run = makeRun({ state: 'PROCESSING' });
    const details = makeDetails(run, ['slides/case-1.svs', 'slides/bad.txt']);
    respond(`GET api/runs/${run.run_id}`, details);
    respond(`POST api/runs/${run.run_id}/cancel`, {
      ...run,
      state: 'TERMINATED'
    });
    respond(`POST api/runs/${run.run_id}/download`, {
      job_id: 'j',
      run_id: run.run_id,
      folder: `aignostics-results/${run.run_id}`,
      state: 'running',
      started_at: 0,
      finished_at: null,
      current_file: 'cells.geojson',
      bytes_done: 10,
      bytes_total: 20,
      files_downloaded: 0,
      files_skipped: 0,
      files: [],
      error: null
    });
    const ui = fakeUi(true);
    const { container } = await render(
      <RunDetailsView
        runId={run.run_id}
        ui={ui}
        settings={DEFAULT_SETTINGS}
        onBack={jest.fn()}
      />
    );

    const items = container.querySelectorAll('.jp-AignosticsItem');
    expect(items).toHaveLength(2);
    expect(items[1].textContent).toContain(
      'INPUT.UNSUPPORTED_FORMAT: not a slide'
    );
    expect(items[0].textContent).toContain('1/1 output artifacts available');

    await click(button(container, 'Cancel run'));
    expect(ui.confirms).toEqual(['Cancel run?']);
    expect(callsTo(`POST api/runs/${run.run_id}/cancel`)).toHaveLength(1);
    expect(ui.notes[0][0]).toBe('info');

    await click(button(container, 'Download results'));
    expect(callsTo(`POST api/runs/${run.run_id}/download`)[0].body).toEqual({
      folder: 'aignostics-results'
    });
    expect(
      container.querySelector('[aria-label="results download"]')?.textContent
    ).toContain('cells.geojson');

    await click(button(container, 'Open in notebook'));
    expect(ui.opened).toEqual([run.run_id]);
  });

  it('does not cancel when the dialog is dismissed', async () => {
    const run = makeRun({ state: 'PENDING' });
    respond(`GET api/runs/${run.run_id}`, makeDetails(run));
    const ui = fakeUi(false);
    const { container } = await render(
      <RunDetailsView
        runId={run.run_id}
        ui={ui}
        settings={DEFAULT_SETTINGS}
        onBack={jest.fn()}
      />
    );

    await click(button(container, 'Cancel run'));

    expect(callsTo(`POST api/runs/${run.run_id}/cancel`)).toHaveLength(0);
  });
});

describe('BucketView', () => {
  const listing = {
    bucket: 'org-bucket',
    protocol: 'local',
    prefix: '',
    folders: [{ prefix: 'slides/', name: 'slides', objects: 2, size: 2048 }],
    objects: [
      { key: 'notes.csv', name: 'notes.csv', size: 8, last_modified: null }
    ]
  };

  it('browses folders, downloads into the current folder, copies a signed URL, deletes after confirming', async () => {
    respond('GET api/bucket', call => ({
      ...listing,
      prefix: call.query.prefix ?? ''
    }));
    respond('POST api/bucket/download', {
      key: 'notes.csv',
      path: 'notebooks/notes.csv',
      size: 8
    });
    respond('POST api/bucket/sign', {
      key: 'notes.csv',
      url: 'http://signed/notes.csv',
      expires: 604800
    });
    respond('POST api/bucket/delete', { deleted: ['notes.csv'] });
    const ui = fakeUi(true);
    const { container } = await render(
      <BucketView model={new BucketModel()} ui={ui} selectedFiles={() => []} />
    );

    expect(container.textContent).toContain('org-bucket');
    await click(
      container.querySelector(
        '[aria-label="Download notes.csv into the current folder"]'
      )
    );
    expect(callsTo('POST api/bucket/download')[0].body).toEqual({
      key: 'notes.csv',
      folder: 'notebooks'
    });
    expect(ui.notes.pop()).toEqual([
      'success',
      'Downloaded notes.csv to notebooks/notes.csv.'
    ]);

    await click(
      container.querySelector('[aria-label="Copy a signed URL of notes.csv"]')
    );
    expect(ui.copied).toEqual(['http://signed/notes.csv']);

    await click(container.querySelector('[aria-label="Delete notes.csv"]'));
    expect(ui.confirms).toEqual(['Delete from the bucket?']);
    expect(callsTo('POST api/bucket/delete')[0].body).toEqual({
      keys: ['notes.csv']
    });

    await click(container.querySelector('[aria-label="Open folder slides"]'));
    expect(callsTo('GET api/bucket').pop()?.query.prefix).toBe('slides/');
  });

  it('uploads the files selected in the file browser and files dropped on it', async () => {
    respond('GET api/bucket', listing);
    respond('POST api/bucket/upload', call => ({
      key: `${(call.body as { path: string }).path}`,
      size: 1,
      skipped: false,
      url: 'local://b/k'
    }));
    const ui = fakeUi();
    const { container } = await render(
      <BucketView
        model={new BucketModel()}
        ui={ui}
        selectedFiles={() => ['data/a.svs']}
      />
    );

    await click(button(container, 'Upload selected files'));
    expect(callsTo('POST api/bucket/upload')[0].body).toEqual({
      path: 'data/a.svs',
      prefix: ''
    });

    const zone = container.querySelector('.jp-AignosticsBucket') as HTMLElement;
    const drop = Object.assign(
      new Event('lm-drop', { bubbles: true, cancelable: true }),
      {
        mimeData: {
          hasData: (mime: string) => mime === 'application/x-jupyter-icontents',
          getData: () => ['data/b.svs']
        },
        dropAction: 'none',
        proposedAction: 'move'
      }
    );
    await act(() => {
      zone.dispatchEvent(drop);
    });
    expect(callsTo('POST api/bucket/upload')[1].body).toEqual({
      path: 'data/b.svs',
      prefix: ''
    });
    expect(drop.dropAction).toBe('move'); // what the file browser offers; the file is uploaded, not moved
    expect(ui.notes.filter(n => n[0] === 'success')).toHaveLength(2);
  });
});

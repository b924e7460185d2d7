import {
  formatBytes,
  formatTime,
  runBadge,
  runProgress,
  terminationMessage
} from '../model/format';
import { parentPrefix } from '../model/bucket';
import { relativePath, slideViewerCell } from '../notebookCell';
import { queryString } from '../api';
import { makeDetails, makeRun } from './fixtures';

describe('formatting', () => {
  it('formats bytes and times', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1_500_000)).toBe('1.5 MB');
    expect(formatTime(null)).toBe('—');
    expect(formatTime('2026-11-21T18:05:00')).toBe('2026-11-21 18:05');
  });

  it('badges runs by state and outcome', () => {
    expect(runBadge(makeRun({ state: 'PENDING' })).label).toBe('pending');
    expect(runBadge(makeRun({ state: 'TERMINATED' })).kind).toBe('succeeded');
    expect(
      runBadge(
        makeRun({ state: 'TERMINATED', termination_reason: 'CANCELED_BY_USER' })
      ).label
    ).toBe('canceled');
    const partial = makeRun({ state: 'TERMINATED' });
    partial.statistics.item_succeeded_count = 1;
    expect(runBadge(partial).label).toBe('partial');
  });

  it('computes progress and the termination message', () => {
    const run = makeRun({ state: 'PROCESSING' });
    expect(runProgress(run)).toEqual({ succeeded: 1, total: 2, finished: 0.5 });
    const done = makeRun({ state: 'TERMINATED', run_id: 'abcdef12-0000' });
    expect(terminationMessage(done)).toBe(
      'Run abcdef12 (he-tme 1.0.0) succeeded: 2/2 items succeeded.'
    );
  });

  it('builds query strings and parent prefixes', () => {
    expect(queryString({ a: 'x y', b: '', c: undefined, d: 2 })).toBe(
      '?a=x%20y&d=2'
    );
    expect(queryString({})).toBe('');
    expect(parentPrefix('a/b/')).toBe('a/');
    expect(parentPrefix('a/')).toBe('');
  });
});

describe('slideViewerCell', () => {
  it('points at the results relative to the notebook (the kernel runs there)', () => {
    expect(relativePath('', 'aignostics-results/r')).toBe(
      'aignostics-results/r'
    );
    expect(relativePath('aignostics-results/r', 'aignostics-results/r')).toBe(
      '.'
    );
    expect(relativePath('work/nb', 'aignostics-results/r')).toBe(
      '../../aignostics-results/r'
    );
    const run = makeDetails(makeRun({ run_id: 'r', state: 'TERMINATED' }));
    expect(slideViewerCell(run, 'aignostics-results', 'work')).toContain(
      'results = "../aignostics-results/r"'
    );
  });

  it('opens the first item with output in a SlideViewer on the downloaded results', () => {
    const run = makeDetails(makeRun({ run_id: 'r-1', state: 'TERMINATED' }), [
      'slides/case "1".svs',
      'slides/case-2.svs'
    ]);

    const code = slideViewerCell(run, 'aignostics-results/');

    expect(code).toContain(
      'from aignostics_jupyter.widgets import SlideViewer'
    );
    expect(code).toContain('results = "aignostics-results/r-1"');
    expect(code).toContain('viewer.add_results(results, item=slides[0])');
    expect(code).toContain('"slides/case \\"1\\".svs",');
    expect(code).not.toContain('case-2');
    expect(code).toContain('viewer = SlideViewer(slides[0])');
  });
});

import { IRunDetails } from './types';

/**
 * The path of `to` as seen from the folder `fromDir` (both relative to the server root, `/`-separated).
 *
 * @example relativePath('a/b', 'a/c/d') === '../c/d'
 */
export function relativePath(fromDir: string, to: string): string {
  const from = fromDir.split('/').filter(Boolean);
  const target = to.split('/').filter(Boolean);
  let common = 0;
  while (
    common < from.length &&
    common < target.length &&
    from[common] === target[common]
  ) {
    common += 1;
  }
  const up = from.slice(common).map(() => '..');
  return [...up, ...target.slice(common)].join('/') || '.';
}

/** Quote a text as a Python string literal. */
export function pyString(text: string): string {
  return JSON.stringify(text);
}

/**
 * The code cell "Open in notebook" inserts: it opens the first slide with output in a `SlideViewer` and overlays
 * its downloaded results (`SlideViewer.add_results`); the other slides are listed so the user can switch.
 *
 * @param run - The run, with its items.
 * @param resultsFolder - Where the sidebar downloads results (relative to the server root).
 * @param notebookDir - The notebook's folder (relative to the server root): the kernel's working directory.
 */
export function slideViewerCell(
  run: IRunDetails,
  resultsFolder: string,
  notebookDir = ''
): string {
  const folder = relativePath(
    notebookDir,
    `${resultsFolder.replace(/\/+$/, '')}/${run.run_id}`
  );
  const withOutput = run.items.filter(item => item.output === 'FULL');
  const items = withOutput.length ? withOutput : run.items;
  const slides = items.map(item => `    ${pyString(item.external_id)},`);
  return [
    `# Results of run ${run.run_id} (${run.application_id} ${run.version_number}), opened from the Aignostics sidebar.`,
    'from aignostics_jupyter.widgets import SlideViewer',
    '',
    `results = ${pyString(folder)}  # "Download results" in the sidebar puts them here`,
    'slides = [',
    ...slides,
    ']',
    'viewer = SlideViewer(slides[0])',
    'try:',
    '    viewer.add_results(results, item=slides[0])',
    'except FileNotFoundError as missing:',
    '    print(missing)',
    'viewer'
  ].join('\n');
}

import { JupyterFrontEnd } from '@jupyterlab/application';
import {
  Clipboard,
  Dialog,
  Notification,
  showDialog
} from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import {
  INotebookTracker,
  NotebookActions,
  NotebookPanel
} from '@jupyterlab/notebook';

import { ISidebarSettings, IUiServices } from './components/ui';
import { terminationMessage } from './model/format';
import { slideViewerCell } from './notebookCell';
import { IRunDetails, IRunSummary } from './types';

/** The workspace files selected in the file browser (folders left out). */
export function selectedFiles(
  fileBrowser: IDefaultFileBrowser | null
): string[] {
  if (!fileBrowser) {
    return [];
  }
  return Array.from(fileBrowser.selectedItems())
    .filter(item => item.type !== 'directory')
    .map(item => item.path);
}

/** Tell that a run terminated, with a button that shows it. */
export function notifyTerminated(run: IRunSummary, show: () => void): void {
  const ok = run.statistics.item_succeeded_count === run.statistics.item_count;
  const notify = ok ? Notification.success : Notification.warning;
  notify(terminationMessage(run), {
    autoClose: 8000,
    actions: [{ label: 'Show', callback: show }]
  });
}

/**
 * Put a cell into the current notebook (below the active cell), or into a new notebook in `cwd`.
 *
 * @param code - Makes the cell's code for the notebook's folder (relative paths depend on it).
 */
async function insertCell(
  app: JupyterFrontEnd,
  notebooks: INotebookTracker | null,
  cwd: string,
  code: (notebookDir: string) => string
): Promise<void> {
  let panel: NotebookPanel | null = notebooks?.currentWidget ?? null;
  let fresh = false;
  if (!panel) {
    // Name the default kernel, so no kernel selection dialog interrupts.
    const kernelName = app.serviceManager.kernelspecs.specs?.default;
    panel = (await app.commands.execute('notebook:create-new', {
      cwd,
      ...(kernelName ? { kernelName } : {})
    })) as NotebookPanel;
    fresh = true;
  }
  await panel.context.ready;
  const notebook = panel.content;
  const active = notebook.activeCell;
  const reuse = fresh || (active?.model.sharedModel.getSource() ?? 'x') === '';
  if (!reuse) {
    NotebookActions.insertBelow(notebook);
  }
  const cell = notebook.activeCell;
  if (cell) {
    if (cell.model.type !== 'code') {
      NotebookActions.changeCellType(notebook, 'code');
    }
    const path = panel.context.localPath;
    const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
    notebook.activeCell?.model.sharedModel.setSource(code(dir));
  }
  app.shell.activateById(panel.id);
}

/** The JupyterLab side of the views: dialogs, notifications, clipboard, notebooks, file browser. */
export function createUiServices(
  app: JupyterFrontEnd,
  notebooks: INotebookTracker | null,
  fileBrowser: IDefaultFileBrowser | null,
  settings: () => ISidebarSettings
): IUiServices {
  const currentFolder = () =>
    fileBrowser?.model.path.replace(/^[^/:]+:/, '') ?? '';
  return {
    confirm: async (title, body, accept) => {
      const result = await showDialog({
        title,
        body,
        buttons: [
          Dialog.cancelButton({ label: 'Keep' }),
          Dialog.warnButton({ label: accept })
        ]
      });
      return result.button.accept;
    },
    notify: (kind, message) => {
      Notification.emit(message, kind, { autoClose: 6000 });
    },
    copy: text => Clipboard.copyToSystem(text),
    openInNotebook: (run: IRunDetails) =>
      insertCell(app, notebooks, currentFolder(), dir =>
        slideViewerCell(run, settings().resultsFolder, dir)
      ),
    currentFolder,
    reveal: path => {
      void app.commands.execute('filebrowser:go-to-path', {
        path: `/${path}`
      });
    }
  };
}

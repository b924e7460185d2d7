import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { DEFAULT_SETTINGS, ISidebarSettings } from './components/ui';
import { errorText } from './model/session';
import { AignosticsPanel } from './panel';
import { createUiServices, notifyTerminated, selectedFiles } from './lab';

/** Command ids of the extension. */
export const CommandIDs = {
  open: 'aignostics:open-sidebar',
  refresh: 'aignostics:refresh-runs',
  login: 'aignostics:login',
  logout: 'aignostics:logout',
  upload: 'aignostics:upload-to-bucket'
} as const;

const PLUGIN_ID = 'aignostics-jupyter:plugin';

/** Read the sidebar's settings, falling back to the defaults. */
function readSettings(settings: ISettingRegistry.ISettings): ISidebarSettings {
  const get = <T>(name: keyof ISidebarSettings): T =>
    (settings.get(name).composite ?? DEFAULT_SETTINGS[name]) as T;
  return {
    activeRefreshSeconds: get<number>('activeRefreshSeconds'),
    idleRefreshSeconds: get<number>('idleRefreshSeconds'),
    resultsFolder: get<string>('resultsFolder'),
    pageSize: get<number>('pageSize')
  };
}

/** The sidebar plugin: the "Aignostics" panel (runs and buckets), its commands and the file browser menu. */
const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'The Aignostics Platform in JupyterLab: a sidebar for runs and buckets.',
  autoStart: true,
  requires: [ILabShell],
  optional: [
    ICommandPalette,
    ISettingRegistry,
    INotebookTracker,
    IDefaultFileBrowser
  ],
  activate: async (
    app: JupyterFrontEnd,
    shell: ILabShell,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null,
    notebooks: INotebookTracker | null,
    fileBrowser: IDefaultFileBrowser | null
  ) => {
    let settings: ISidebarSettings = { ...DEFAULT_SETTINGS };
    let loaded: ISettingRegistry.ISettings | null = null;
    if (settingRegistry) {
      try {
        loaded = await settingRegistry.load(PLUGIN_ID);
        settings = readSettings(loaded);
      } catch (reason) {
        console.warn('aignostics-jupyter: could not load settings', reason);
      }
    }
    const current = { settings };
    const ui = createUiServices(
      app,
      notebooks,
      fileBrowser,
      () => current.settings
    );
    const panel: AignosticsPanel = new AignosticsPanel({
      ui,
      settings,
      selectedFiles: () => selectedFiles(fileBrowser),
      onTerminated: run =>
        notifyTerminated(run, () => {
          shell.activateById(panel.id);
          panel.openRun(run.run_id);
        })
    });
    shell.add(panel, 'left', { rank: 600 });
    loaded?.changed.connect(() => {
      if (loaded) {
        current.settings = readSettings(loaded);
        panel.updateSettings(current.settings);
      }
    });

    app.commands.addCommand(CommandIDs.open, {
      label: 'Open Aignostics Sidebar',
      caption: 'Show the Aignostics Platform panel',
      execute: () => shell.activateById(panel.id)
    });
    app.commands.addCommand(CommandIDs.refresh, {
      label: 'Refresh Aignostics Runs',
      execute: () => panel.runs.refresh()
    });
    app.commands.addCommand(CommandIDs.login, {
      label: 'Log In to the Aignostics Platform',
      execute: async () => {
        shell.activateById(panel.id);
        await panel.session.login();
      }
    });
    app.commands.addCommand(CommandIDs.logout, {
      label: 'Log Out of the Aignostics Platform',
      execute: () => panel.session.logout()
    });
    app.commands.addCommand(CommandIDs.upload, {
      label: 'Upload to Aignostics bucket',
      caption:
        'Upload the selected files into the open folder of the Aignostics bucket',
      isEnabled: () => selectedFiles(fileBrowser).length > 0,
      execute: async () => {
        const paths = selectedFiles(fileBrowser);
        try {
          const keys = await panel.bucket.upload(paths);
          ui.notify(
            'success',
            `Uploaded to the Aignostics bucket: ${keys.join(', ')}`
          );
        } catch (reason) {
          ui.notify('error', errorText(reason));
        }
      }
    });
    for (const command of Object.values(CommandIDs)) {
      palette?.addItem({ command, category: 'Aignostics' });
    }
  }
};

export default plugin;

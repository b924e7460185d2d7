import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { AignosticsPanel } from './panel';

/** Command ids of the extension. */
export const CommandIDs = {
  open: 'aignostics:open-sidebar'
} as const;

const PLUGIN_ID = 'aignostics-jupyter:plugin';

/** The sidebar plugin: adds the "Aignostics" panel to the left area and a palette command to open it. */
const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'The Aignostics Platform in JupyterLab: a sidebar for runs and buckets.',
  autoStart: true,
  requires: [ILabShell],
  optional: [ICommandPalette, ISettingRegistry],
  activate: async (
    app: JupyterFrontEnd,
    shell: ILabShell,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null
  ) => {
    let refreshSeconds = 30;
    if (settingRegistry) {
      try {
        const settings = await settingRegistry.load(PLUGIN_ID);
        refreshSeconds = settings.get('healthRefreshSeconds')
          .composite as number;
      } catch (reason) {
        console.warn('aignostics-jupyter: could not load settings', reason);
      }
    }
    const panel = new AignosticsPanel(refreshSeconds);
    shell.add(panel, 'left', { rank: 600 });

    app.commands.addCommand(CommandIDs.open, {
      label: 'Open Aignostics Sidebar',
      caption: 'Show the Aignostics Platform panel',
      execute: () => shell.activateById(panel.id)
    });
    palette?.addItem({ command: CommandIDs.open, category: 'Aignostics' });
  }
};

export default plugin;

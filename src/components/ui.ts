import { IRunDetails } from '../types';

/** What the views need from JupyterLab (dialogs, notifications, notebooks, the file browser); tests fake it. */
export interface IUiServices {
  /** Ask before doing something that cannot be undone. */
  confirm(title: string, body: string, accept: string): Promise<boolean>;
  /** Show a notification. */
  notify(kind: 'success' | 'error' | 'info' | 'warning', message: string): void;
  /** Copy a text to the clipboard. */
  copy(text: string): void;
  /** Insert a cell that opens the run's results in a SlideViewer. */
  openInNotebook(run: IRunDetails): Promise<void>;
  /** The file browser's current folder, relative to the server root. */
  currentFolder(): string;
  /** Show a workspace path in the file browser (and the file browser). */
  reveal(path: string): void;
}

/** The sidebar's settings (schema/plugin.json). */
export interface ISidebarSettings {
  activeRefreshSeconds: number;
  idleRefreshSeconds: number;
  resultsFolder: string;
  pageSize: number;
}

/** The defaults of schema/plugin.json. */
export const DEFAULT_SETTINGS: ISidebarSettings = {
  activeRefreshSeconds: 5,
  idleRefreshSeconds: 60,
  resultsFolder: 'aignostics-results',
  pageSize: 50
};

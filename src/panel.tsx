import { ReactWidget } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import React from 'react';

import { SidebarView } from './components/SidebarView';
import { ISidebarSettings, IUiServices } from './components/ui';
import { aignosticsIcon } from './icon';
import { BucketModel } from './model/bucket';
import { RunsModel } from './model/runs';
import { SessionModel } from './model/session';
import { IRunSummary } from './types';

/** Options of the sidebar panel. */
export interface IAignosticsPanelOptions {
  ui: IUiServices;
  settings: ISidebarSettings;
  selectedFiles: () => string[];
  onTerminated: (run: IRunSummary) => void;
}

/**
 * The left sidebar panel "Aignostics". It owns the models; the run list refreshes only while the panel is
 * visible and the user is logged in.
 */
export class AignosticsPanel extends ReactWidget {
  constructor(options: IAignosticsPanelOptions) {
    super();
    this.id = 'aignostics-jupyter-sidebar';
    this.addClass('jp-AignosticsPanel');
    this.title.icon = aignosticsIcon;
    this.title.caption = 'Aignostics';
    this._options = options;
    this.settings = { ...options.settings };
    this.session = new SessionModel();
    this.runs = new RunsModel({
      intervals: {
        activeSeconds: this.settings.activeRefreshSeconds,
        idleSeconds: this.settings.idleRefreshSeconds
      },
      pageSize: this.settings.pageSize,
      onTerminated: options.onTerminated,
      // The login expired or was revoked elsewhere: read the session again (it shows the login view).
      onUnauthorized: () => void this.session.load()
    });
    this.bucket = new BucketModel();
    this.session.subscribe(state => {
      const loggedIn = state.session?.logged_in ?? false;
      if (loggedIn !== this._loggedIn) {
        this._loggedIn = loggedIn;
        this._syncRefresh(true);
      }
    });
    void this.session.load();
  }

  readonly session: SessionModel;
  readonly runs: RunsModel;
  readonly bucket: BucketModel;
  settings: ISidebarSettings;

  /** Apply changed settings. */
  updateSettings(settings: ISidebarSettings): void {
    this.settings = { ...settings };
    this.runs.intervals = {
      activeSeconds: settings.activeRefreshSeconds,
      idleSeconds: settings.idleRefreshSeconds
    };
    this.update();
  }

  /** Show a run's details. */
  openRun(runId: string): void {
    this._openRun = { runId, serial: (this._openRun?.serial ?? 0) + 1 };
    this.update();
  }

  dispose(): void {
    this.runs.dispose();
    this.session.dispose();
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.session.load();
    this._syncRefresh(true);
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._syncRefresh(false);
  }

  private _syncRefresh(now: boolean): void {
    if (this._loggedIn && this.isVisible) {
      this.runs.resume(now);
    } else {
      this.runs.pause();
    }
  }

  protected render(): JSX.Element {
    return (
      <SidebarView
        session={this.session}
        runs={this.runs}
        bucket={this.bucket}
        ui={this._options.ui}
        settings={this.settings}
        selectedFiles={this._options.selectedFiles}
        openRun={this._openRun}
      />
    );
  }

  private _options: IAignosticsPanelOptions;
  private _loggedIn = false;
  private _openRun: { runId: string; serial: number } | null = null;
}

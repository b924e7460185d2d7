import React, { useEffect, useState } from 'react';

import { fetchHealth, IHealth } from '../health';
import { BucketModel } from '../model/bucket';
import { RunsModel } from '../model/runs';
import { SessionModel } from '../model/session';
import { IRunSummary } from '../types';
import { BucketView } from './BucketView';
import { LoginView } from './LoginView';
import { RunDetailsView } from './RunDetailsView';
import { RunsView } from './RunsView';
import { ISidebarSettings, IUiServices } from './ui';
import { useModel } from './useModel';

/** Props of {@link SidebarView}. */
export interface ISidebarViewProps {
  session: SessionModel;
  runs: RunsModel;
  bucket: BucketModel;
  ui: IUiServices;
  settings: ISidebarSettings;
  selectedFiles: () => string[];
  /** The run whose details to show (set by commands), with a counter so the same run can be opened again. */
  openRun?: { runId: string; serial: number } | null;
}

type Tab = 'runs' | 'bucket';

/** The version and platform status, from `api/health`. */
function Footer(): JSX.Element {
  const [health, setHealth] = useState<IHealth | null>(null);
  const [error, setError] = useState(false);
  useEffect(() => {
    fetchHealth()
      .then(setHealth)
      .catch(() => setError(true));
  }, []);
  const platform = health?.components.platform;
  return (
    <footer className="jp-AignosticsPanel-footer">
      <span>
        aignostics-jupyter{' '}
        <span className="jp-AignosticsPanel-version">
          {health?.version ?? (error ? '?' : '…')}
        </span>
      </span>
      {platform && (
        <span
          className="jp-AignosticsPanel-status"
          data-status={platform.status}
          aria-label="platform status"
          title={String(platform.api_root ?? '')}
        >
          platform {platform.status}
        </span>
      )}
    </footer>
  );
}

/** The whole sidebar: login, or the user with tabs for runs and the bucket. */
export function SidebarView(props: ISidebarViewProps): JSX.Element {
  const sessionState = useModel(props.session);
  const [tab, setTab] = useState<Tab>('runs');
  const [runId, setRunId] = useState<string | null>(null);
  const session = sessionState.session;

  useEffect(() => {
    if (props.openRun) {
      setTab('runs');
      setRunId(props.openRun.runId);
    }
  }, [props.openRun]);

  let body: JSX.Element;
  if (!session) {
    body = sessionState.error ? (
      <div>
        <p className="jp-AignosticsError" role="alert">
          {sessionState.error}
        </p>
        <button
          className="jp-AignosticsLinkButton"
          onClick={() => void props.session.load()}
        >
          Try again
        </button>
      </div>
    ) : (
      <p>Loading…</p>
    );
  } else if (!session.logged_in) {
    body = (
      <LoginView
        state={sessionState}
        onLogin={() => void props.session.login()}
      />
    );
  } else {
    body = (
      <>
        <div
          className="jp-AignosticsUser"
          aria-label="Logged in user"
          title={
            session.expires_at
              ? `${session.user?.email ?? ''} · access token valid until ${new Date(session.expires_at * 1000).toLocaleTimeString()}`
              : (session.user?.email ?? '')
          }
        >
          <div className="jp-AignosticsUser-who">
            <span className="jp-AignosticsUser-name">{session.user?.name}</span>
            <span className="jp-AignosticsUser-org">
              {session.organization?.name}
            </span>
          </div>
          <button
            className="jp-AignosticsLinkButton"
            onClick={() => void props.session.logout()}
            disabled={sessionState.busy}
            aria-label="Log out"
          >
            Log out
          </button>
        </div>
        <div className="jp-AignosticsTabs" role="tablist" aria-label="Sections">
          {(['runs', 'bucket'] as Tab[]).map(name => (
            <button
              key={name}
              role="tab"
              id={`jp-AignosticsTab-${name}`}
              aria-selected={tab === name}
              aria-controls={`jp-AignosticsTabPanel-${name}`}
              className="jp-AignosticsTab"
              onClick={() => setTab(name)}
            >
              {name === 'runs' ? 'Runs' : 'Bucket'}
            </button>
          ))}
        </div>
        <div
          className="jp-AignosticsTabPanel"
          role="tabpanel"
          id={`jp-AignosticsTabPanel-${tab}`}
          aria-labelledby={`jp-AignosticsTab-${tab}`}
        >
          {tab === 'runs' &&
            (runId ? (
              <RunDetailsView
                key={runId}
                runId={runId}
                ui={props.ui}
                settings={props.settings}
                onBack={() => setRunId(null)}
              />
            ) : (
              <RunsView
                model={props.runs}
                onOpen={(run: IRunSummary) => setRunId(run.run_id)}
              />
            ))}
          {tab === 'bucket' && (
            <BucketView
              model={props.bucket}
              ui={props.ui}
              selectedFiles={props.selectedFiles}
            />
          )}
        </div>
      </>
    );
  }
  return (
    <div className="jp-AignosticsPanel-content">
      <div className="jp-AignosticsPanel-header">
        <span className="jp-AignosticsPanel-title">Aignostics Platform</span>
      </div>
      <div className="jp-AignosticsPanel-body">{body}</div>
      <Footer />
    </div>
  );
}

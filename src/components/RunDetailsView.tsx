import React, { useCallback, useEffect, useState } from 'react';

import { api } from '../api';
import { formatBytes, formatTime, hasResults } from '../model/format';
import { errorText } from '../model/session';
import { IDownloadJob, IItem, IRunDetails } from '../types';
import { RunProgress, StateBadge } from './RunCard';
import { ISidebarSettings, IUiServices } from './ui';

/** Props of {@link RunDetailsView}. */
export interface IRunDetailsViewProps {
  runId: string;
  ui: IUiServices;
  settings: ISidebarSettings;
  onBack: () => void;
}

function basename(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

/** One item: slide, state, error, artifacts. */
function ItemRow(props: { item: IItem }): JSX.Element {
  const { item } = props;
  const available = item.artifacts.filter(a => a.output === 'AVAILABLE').length;
  const state =
    item.state === 'TERMINATED'
      ? (item.termination_reason ?? 'terminated').toLowerCase()
      : item.state.toLowerCase();
  return (
    <li className="jp-AignosticsItem" data-state={item.state}>
      <div className="jp-AignosticsItem-head">
        <span className="jp-AignosticsItem-name" title={item.external_id}>
          {basename(item.external_id)}
        </span>
        <span
          className="jp-AignosticsBadge"
          data-kind={
            item.termination_reason === 'SUCCEEDED'
              ? 'succeeded'
              : item.state === 'TERMINATED'
                ? 'failed'
                : item.state.toLowerCase()
          }
        >
          {state.replace(/_/g, ' ')}
        </span>
      </div>
      {item.error_message && (
        <div className="jp-AignosticsError">
          {item.error_code ? `${item.error_code}: ` : ''}
          {item.error_message}
        </div>
      )}
      {item.artifacts.length > 0 && (
        <div className="jp-AignosticsMuted">
          {available}/{item.artifacts.length} output artifacts available
        </div>
      )}
    </li>
  );
}

/** The progress of a results download. */
function DownloadStatus(props: {
  job: IDownloadJob;
  onReveal: () => void;
}): JSX.Element {
  const { job } = props;
  const share = job.bytes_total ? job.bytes_done / job.bytes_total : 0;
  return (
    <div
      className="jp-AignosticsDownload"
      data-state={job.state}
      role="status"
      aria-label="results download"
    >
      {job.state === 'running' && (
        <>
          <div className="jp-AignosticsProgress-bar">
            <div
              className="jp-AignosticsProgress-fill"
              style={{ width: `${Math.round(share * 100)}%` }}
            />
          </div>
          <span>
            Downloading {job.current_file ?? '…'} ({formatBytes(job.bytes_done)}
            {job.bytes_total ? ` of ${formatBytes(job.bytes_total)}` : ''})
          </span>
        </>
      )}
      {job.state === 'succeeded' && (
        <span>
          {job.files_downloaded} files downloaded
          {job.files_skipped
            ? `, ${job.files_skipped} already there`
            : ''} into{' '}
          <button className="jp-AignosticsLinkButton" onClick={props.onReveal}>
            {job.folder}
          </button>
        </span>
      )}
      {job.state === 'failed' && (
        <span className="jp-AignosticsError">
          The download failed: {job.error}
        </span>
      )}
    </div>
  );
}

/** A run's details: header, actions (cancel, download, open in notebook) and items with their errors. */
export function RunDetailsView(props: IRunDetailsViewProps): JSX.Element {
  const { runId, ui, settings } = props;
  const [run, setRun] = useState<IRunDetails | null>(null);
  const [job, setJob] = useState<IDownloadJob | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      const details = await api.getRun(runId);
      setRun(details);
      setJob(current => details.download ?? current);
      setError(null);
    } catch (reason) {
      setError(errorText(reason));
    }
  }, [runId]);

  useEffect(() => {
    void load();
  }, [load]);

  // Poll the run while it is active, and the download while it runs.
  useEffect(() => {
    if (!run) {
      return;
    }
    const downloading = job?.state === 'running';
    if (run.state === 'TERMINATED' && !downloading) {
      return;
    }
    const seconds = downloading ? 1 : settings.activeRefreshSeconds;
    const timer = window.setTimeout(async () => {
      if (downloading) {
        try {
          const next = await api.downloadProgress(runId);
          setJob(next);
          if (next.state === 'succeeded') {
            ui.notify(
              'success',
              `Results of run ${runId.slice(0, 8)} downloaded into ${next.folder}.`
            );
          } else if (next.state === 'failed') {
            ui.notify('error', `The download failed: ${next.error}`);
          }
        } catch (reason) {
          setError(errorText(reason));
        }
      }
      if (run.state !== 'TERMINATED') {
        await load();
      }
    }, seconds * 1000);
    return () => window.clearTimeout(timer);
  }, [run, job, load, runId, settings.activeRefreshSeconds, ui]);

  const cancel = async () => {
    const ok = await ui.confirm(
      'Cancel run?',
      `Cancel run ${runId}? Items not yet processed are skipped; finished results stay downloadable.`,
      'Cancel run'
    );
    if (!ok) {
      return;
    }
    setBusy(true);
    try {
      await api.cancelRun(runId);
      ui.notify('info', `Run ${runId.slice(0, 8)} was canceled.`);
      await load();
    } catch (reason) {
      ui.notify('error', errorText(reason));
    } finally {
      setBusy(false);
    }
  };

  const download = async () => {
    setBusy(true);
    try {
      setJob(await api.downloadRun(runId, settings.resultsFolder));
    } catch (reason) {
      ui.notify('error', errorText(reason));
    } finally {
      setBusy(false);
    }
  };

  const openInNotebook = async () => {
    if (!run) {
      return;
    }
    try {
      await ui.openInNotebook(run);
    } catch (reason) {
      ui.notify('error', errorText(reason));
    }
  };

  return (
    <section className="jp-AignosticsRunDetails" aria-label={`Run ${runId}`}>
      <div className="jp-AignosticsRunDetails-nav">
        <button
          className="jp-AignosticsLinkButton"
          onClick={props.onBack}
          aria-label="Back to the runs"
        >
          ← Runs
        </button>
        <button
          className="jp-AignosticsLinkButton"
          onClick={() => void load()}
          aria-label="Refresh the run"
        >
          Refresh
        </button>
      </div>
      {error && (
        <p className="jp-AignosticsError" role="alert">
          {error}
        </p>
      )}
      {!run && !error && <p>Loading…</p>}
      {run && (
        <>
          <header className="jp-AignosticsRunDetails-head">
            <div className="jp-AignosticsRunCard-head">
              <span className="jp-AignosticsRunCard-app">
                {run.application_id}
              </span>
              <span className="jp-AignosticsRunCard-version">
                {run.version_number}
              </span>
              <StateBadge run={run} />
            </div>
            <RunProgress run={run} />
            <dl className="jp-AignosticsFacts">
              <dt>Run</dt>
              <dd className="jp-AignosticsMono">{run.run_id}</dd>
              <dt>Submitted</dt>
              <dd>{formatTime(run.submitted_at)}</dd>
              {run.terminated_at && (
                <>
                  <dt>Terminated</dt>
                  <dd>{formatTime(run.terminated_at)}</dd>
                </>
              )}
              {run.tags.length > 0 && (
                <>
                  <dt>Tags</dt>
                  <dd>{run.tags.join(', ')}</dd>
                </>
              )}
              {run.note && (
                <>
                  <dt>Note</dt>
                  <dd>{run.note}</dd>
                </>
              )}
            </dl>
            {run.error_message && (
              <p className="jp-AignosticsError">
                {run.error_code ? `${run.error_code}: ` : ''}
                {run.error_message}
              </p>
            )}
          </header>
          <div
            className="jp-AignosticsActions"
            role="toolbar"
            aria-label="Run actions"
          >
            {run.state !== 'TERMINATED' && (
              <button
                className="jp-mod-styled jp-mod-warn"
                onClick={() => void cancel()}
                disabled={busy}
              >
                Cancel run
              </button>
            )}
            <button
              className="jp-mod-styled jp-mod-accept"
              onClick={() => void download()}
              disabled={busy || !hasResults(run) || job?.state === 'running'}
              title={`Download into ${settings.resultsFolder}/${run.run_id}`}
            >
              Download results
            </button>
            <button
              className="jp-mod-styled"
              onClick={() => void openInNotebook()}
              disabled={run.items.length === 0}
            >
              Open in notebook
            </button>
          </div>
          {job && (
            <DownloadStatus job={job} onReveal={() => ui.reveal(job.folder)} />
          )}
          <h3 className="jp-AignosticsHeading">Items ({run.items.length})</h3>
          <ul className="jp-AignosticsItems" aria-label="Items">
            {run.items.map(item => (
              <ItemRow key={item.item_id} item={item} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

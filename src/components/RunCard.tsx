import React from 'react';

import { formatTime, runBadge, runProgress } from '../model/format';
import { IRunSummary } from '../types';

/** The height of a run card in the virtual list (pixels). */
export const RUN_CARD_HEIGHT = 92;

/** A state badge. */
export function StateBadge(props: { run: IRunSummary }): JSX.Element {
  const badge = runBadge(props.run);
  return (
    <span
      className="jp-AignosticsBadge"
      data-kind={badge.kind}
      aria-label={`state ${badge.label}`}
    >
      {badge.label}
    </span>
  );
}

/** A progress bar of terminated items with `succeeded/total`. */
export function RunProgress(props: { run: IRunSummary }): JSX.Element {
  const { succeeded, total, finished } = runProgress(props.run);
  return (
    <div className="jp-AignosticsProgress">
      <div
        className="jp-AignosticsProgress-bar"
        role="progressbar"
        aria-label="items finished"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(finished * 100)}
      >
        <div
          className="jp-AignosticsProgress-fill"
          style={{ width: `${Math.round(finished * 100)}%` }}
        />
      </div>
      <span className="jp-AignosticsProgress-text">
        {succeeded}/{total} succeeded
      </span>
    </div>
  );
}

/** Props of {@link RunCard}. */
export interface IRunCardProps {
  run: IRunSummary;
  onOpen: (run: IRunSummary) => void;
}

/** One run in the list: application, version, state, progress, tags, submitted time. */
export function RunCard(props: IRunCardProps): JSX.Element {
  const { run } = props;
  return (
    <button
      className="jp-AignosticsRunCard"
      data-run-id={run.run_id}
      data-state={run.state}
      onClick={() => props.onOpen(run)}
      aria-label={`Run ${run.run_id} of ${run.application_id} ${run.version_number}, ${runBadge(run).label}`}
      title={run.note ?? run.run_id}
    >
      <div className="jp-AignosticsRunCard-head">
        <span className="jp-AignosticsRunCard-app">{run.application_id}</span>
        <span className="jp-AignosticsRunCard-version">
          {run.version_number}
        </span>
        <StateBadge run={run} />
      </div>
      <RunProgress run={run} />
      <div className="jp-AignosticsRunCard-tags">
        {run.tags.map(tag => (
          <span key={tag} className="jp-AignosticsTag">
            {tag}
          </span>
        ))}
      </div>
      <div className="jp-AignosticsRunCard-meta">
        <span>{formatTime(run.submitted_at)}</span>
        <span className="jp-AignosticsRunCard-id">
          {run.run_id.slice(0, 8)}
        </span>
      </div>
    </button>
  );
}

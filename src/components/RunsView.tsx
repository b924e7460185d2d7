import React, { useCallback, useEffect, useState } from 'react';

import { api } from '../api';
import { RunsModel } from '../model/runs';
import { IApplication, IRunFilters, IRunSummary, RunState } from '../types';
import { RUN_CARD_HEIGHT, RunCard } from './RunCard';
import { useModel } from './useModel';
import { VirtualList } from './VirtualList';

const STATES: { value: RunState | ''; label: string }[] = [
  { value: '', label: 'All states' },
  { value: 'PENDING', label: 'Pending' },
  { value: 'PROCESSING', label: 'Processing' },
  { value: 'TERMINATED', label: 'Terminated' }
];

/** Props of {@link RunsView}. */
export interface IRunsViewProps {
  model: RunsModel;
  onOpen: (run: IRunSummary) => void;
}

/** Filters for state, application and tag. */
function Filters(props: {
  filters: IRunFilters;
  onChange: (filters: IRunFilters) => void;
}): JSX.Element {
  const [applications, setApplications] = useState<IApplication[]>([]);
  const [tag, setTag] = useState(props.filters.tag ?? '');
  useEffect(() => {
    api
      .applications()
      .then(answer => setApplications(answer.applications))
      .catch(() => setApplications([]));
  }, []);
  const { filters, onChange } = props;
  return (
    <form
      className="jp-AignosticsFilters"
      aria-label="Run filters"
      onSubmit={event => {
        event.preventDefault();
        onChange({ ...filters, tag: tag.trim() });
      }}
    >
      <select
        className="jp-mod-styled"
        aria-label="Filter by state"
        value={filters.state ?? ''}
        onChange={event =>
          onChange({ ...filters, state: event.target.value as RunState | '' })
        }
      >
        {STATES.map(state => (
          <option key={state.value} value={state.value}>
            {state.label}
          </option>
        ))}
      </select>
      <select
        className="jp-mod-styled"
        aria-label="Filter by application"
        value={filters.application_id ?? ''}
        onChange={event =>
          onChange({ ...filters, application_id: event.target.value })
        }
      >
        <option value="">All applications</option>
        {applications.map(app => (
          <option key={app.application_id} value={app.application_id}>
            {app.name || app.application_id}
          </option>
        ))}
      </select>
      <input
        className="jp-mod-styled jp-AignosticsFilters-tag"
        type="search"
        placeholder="Tag"
        aria-label="Filter by tag"
        value={tag}
        onChange={event => setTag(event.target.value)}
        onBlur={() => {
          if (tag.trim() !== (filters.tag ?? '')) {
            onChange({ ...filters, tag: tag.trim() });
          }
        }}
      />
    </form>
  );
}

/** The run list: filters, one card per run (virtualized), more pages on scroll, automatic refresh. */
export function RunsView(props: IRunsViewProps): JSX.Element {
  const { model } = props;
  const state = useModel(model);
  const loadMore = useCallback(() => void model.loadMore(), [model]);
  const renderRun = useCallback(
    (run: IRunSummary) => <RunCard run={run} onOpen={props.onOpen} />,
    [props.onOpen]
  );
  return (
    <section className="jp-AignosticsRuns" aria-label="Runs">
      <Filters
        filters={state.filters}
        onChange={filters => void model.setFilters(filters)}
      />
      <div className="jp-AignosticsRuns-status" aria-live="polite">
        <span>
          {state.runs.length}
          {state.hasMore ? '+' : ''} runs
          {state.loading ? ' · loading…' : ''}
        </span>
        {state.nextRefreshSeconds > 0 && (
          <span className="jp-AignosticsMuted">
            refresh every {state.nextRefreshSeconds} s
          </span>
        )}
        <button
          className="jp-AignosticsLinkButton"
          onClick={() => void model.refresh()}
          aria-label="Refresh runs"
        >
          Refresh
        </button>
      </div>
      {state.error && (
        <p className="jp-AignosticsError" role="alert">
          {state.error}
        </p>
      )}
      {state.runs.length === 0 && !state.loading && !state.error ? (
        <p className="jp-AignosticsMuted">
          No runs yet. Submit one from a notebook:{' '}
          <code>client.runs.submit(…)</code>
        </p>
      ) : (
        <VirtualList
          items={state.runs}
          rowHeight={RUN_CARD_HEIGHT}
          itemKey={run => run.run_id}
          renderItem={renderRun}
          onEndReached={state.hasMore ? loadMore : undefined}
          label="Runs, newest first"
          className="jp-AignosticsRuns-list"
        />
      )}
    </section>
  );
}

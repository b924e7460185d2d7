import { ReactWidget } from '@jupyterlab/ui-components';
import React, { useCallback, useEffect, useState } from 'react';

import { describeComponent, fetchHealth, IHealth } from './health';
import { aignosticsIcon } from './icon';

/** Props of the health view. */
export interface IHealthViewProps {
  refreshSeconds: number;
  load?: () => Promise<IHealth>;
  visible: () => boolean;
}

/** Shows the server extension's version and the status of each component. */
export function HealthView(props: IHealthViewProps): JSX.Element {
  const load = props.load ?? fetchHealth;
  const [health, setHealth] = useState<IHealth | null>(null);
  const [error, setError] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    try {
      setHealth(await load());
      setError(null);
    } catch (reason) {
      setError(reason instanceof Error ? reason.message : String(reason));
    }
  }, [load]);

  useEffect(() => {
    void refresh();
    const timer = window.setInterval(() => {
      if (props.visible()) {
        void refresh();
      }
    }, props.refreshSeconds * 1000);
    return () => window.clearInterval(timer);
  }, [refresh, props.refreshSeconds]);

  return (
    <div className="jp-AignosticsPanel-content">
      <div className="jp-AignosticsPanel-header">
        <aignosticsIcon.react tag="span" />
        <span>Aignostics Platform</span>
        {health && (
          <span
            className="jp-AignosticsPanel-status"
            data-status={health.status}
            aria-label="extension status"
          >
            {health.status}
          </span>
        )}
      </div>
      {error && (
        <p className="jp-AignosticsPanel-error" role="alert">
          Could not read the extension's health: {error}
        </p>
      )}
      {!health && !error && <p>Loading…</p>}
      {health && (
        <table
          className="jp-AignosticsPanel-table"
          aria-label="component status"
        >
          <tbody>
            <tr>
              <td>version</td>
              <td className="jp-AignosticsPanel-version">{health.version}</td>
            </tr>
            {Object.entries(health.components).map(([name, component]) => (
              <tr key={name} data-component={name}>
                <td>{name.replace(/_/g, ' ')}</td>
                <td>
                  <span
                    className="jp-AignosticsPanel-status"
                    data-status={component.status}
                  >
                    {component.status}
                  </span>{' '}
                  {describeComponent(component)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <button
        className="jp-mod-styled jp-mod-accept"
        onClick={() => void refresh()}
        aria-label="Refresh health"
      >
        Refresh
      </button>
    </div>
  );
}

/** The left sidebar panel "Aignostics". */
export class AignosticsPanel extends ReactWidget {
  constructor(private readonly refreshSeconds: number) {
    super();
    this.id = 'aignostics-jupyter-sidebar';
    this.addClass('jp-AignosticsPanel');
    this.title.icon = aignosticsIcon;
    this.title.caption = 'Aignostics';
  }

  protected render(): JSX.Element {
    return (
      <HealthView
        refreshSeconds={this.refreshSeconds}
        visible={() => this.isVisible}
      />
    );
  }
}

import React from 'react';

import { ISessionState } from '../model/session';

/** Props of {@link LoginView}. */
export interface ILoginViewProps {
  state: ISessionState;
  onLogin: () => void;
}

/** Shown when logged out: starts a device-flow login and shows the code and link while it is pending. */
export function LoginView(props: ILoginViewProps): JSX.Element {
  const { session, busy, error } = props.state;
  const login = session?.login ?? null;
  const pending = login?.state === 'pending';
  const link = login?.verification_uri_complete ?? login?.verification_uri;
  return (
    <section className="jp-AignosticsLogin" aria-label="Log in">
      <p>
        Log in to the Aignostics Platform
        {session ? (
          <>
            {' '}
            at{' '}
            <code className="jp-AignosticsLogin-root">{session.api_root}</code>
            {session.local ? ' (local platform)' : ''}
          </>
        ) : null}
        . Notebooks on this server share the login.
      </p>
      {pending && login ? (
        <div className="jp-AignosticsLogin-pending" role="status">
          <p>Open the link and confirm this code:</p>
          <p className="jp-AignosticsLogin-code" aria-label="user code">
            {login.user_code}
          </p>
          <p>
            <a
              className="jp-AignosticsLogin-link"
              href={link}
              target="_blank"
              rel="noopener noreferrer"
            >
              {login.verification_uri}
            </a>
          </p>
          <p className="jp-AignosticsMuted">Waiting for approval…</p>
        </div>
      ) : (
        <button
          className="jp-mod-styled jp-mod-accept jp-AignosticsLogin-button"
          onClick={props.onLogin}
          disabled={busy}
          aria-label="Log in with a device code"
        >
          Log in
        </button>
      )}
      {login && (login.state === 'failed' || login.state === 'cancelled') && (
        <p className="jp-AignosticsError" role="alert">
          The login did not complete: {login.error ?? login.state}
        </p>
      )}
      {error && (
        <p className="jp-AignosticsError" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

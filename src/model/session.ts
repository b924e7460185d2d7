import { Api, api as defaultApi } from '../api';
import { ISession } from '../types';
import { browserScheduler, IScheduler } from './schedule';

/** What the login view shows. */
export interface ISessionState {
  session: ISession | null;
  busy: boolean;
  error: string | null;
}

/** Seconds between polls of a pending login. */
export const LOGIN_POLL_SECONDS = 2;

/**
 * The login state of the sidebar: read it, start a device-flow login and poll until it ends, log out.
 * The server keeps the tokens (in the cache it shares with kernels); this model only ever sees the state.
 */
export class SessionModel {
  constructor(
    private readonly _api: Pick<
      Api,
      'session' | 'startLogin' | 'logout'
    > = defaultApi,
    private readonly _scheduler: IScheduler = browserScheduler
  ) {}

  /** The current state. */
  get state(): ISessionState {
    return this._state;
  }

  /** Call `listener` after every change; returns the unsubscribe function. */
  subscribe(listener: (state: ISessionState) => void): () => void {
    this._listeners.add(listener);
    return () => this._listeners.delete(listener);
  }

  /** Read the login state (continues polling while a login is pending). */
  async load(): Promise<void> {
    try {
      const session = await this._api.session();
      this._update({ session, error: null });
      this._pollIfPending();
    } catch (reason) {
      this._update({ error: errorText(reason) });
    }
  }

  /** Start a device-flow login; the state then carries the code and link to show. */
  async login(): Promise<void> {
    this._update({ busy: true, error: null });
    try {
      const session = await this._api.startLogin();
      this._update({ session });
      this._pollIfPending();
    } catch (reason) {
      this._update({ error: errorText(reason) });
    } finally {
      this._update({ busy: false });
    }
  }

  /** Log out (the kernels too). */
  async logout(): Promise<void> {
    this._update({ busy: true, error: null });
    this._stopPolling();
    try {
      this._update({ session: await this._api.logout() });
    } catch (reason) {
      this._update({ error: errorText(reason) });
    } finally {
      this._update({ busy: false });
    }
  }

  /** Stop polling. */
  dispose(): void {
    this._stopPolling();
    this._listeners.clear();
  }

  private _pollIfPending(): void {
    this._stopPolling();
    const session = this._state.session;
    if (session && !session.logged_in && session.login?.state === 'pending') {
      this._timer = this._scheduler.set(
        () => void this.load(),
        LOGIN_POLL_SECONDS * 1000
      );
    }
  }

  private _stopPolling(): void {
    if (this._timer !== null) {
      this._scheduler.clear(this._timer);
      this._timer = null;
    }
  }

  private _update(change: Partial<ISessionState>): void {
    this._state = { ...this._state, ...change };
    this._listeners.forEach(listener => listener(this._state));
  }

  private _listeners = new Set<(state: ISessionState) => void>();
  private _timer: number | null = null;
  private _state: ISessionState = { session: null, busy: false, error: null };
}

/** The message of an error. */
export function errorText(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

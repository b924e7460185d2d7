import { ILogin, ISession } from '../types';

/** Canned login states. */
export const loggedOut: ISession = {
  logged_in: false,
  api_root: 'http://127.0.0.1:8123',
  local: true,
  user: null,
  organization: null,
  expires_at: null,
  login: null
};
export const pending: ISession = {
  ...loggedOut,
  login: {
    state: 'pending',
    verification_uri: 'http://127.0.0.1:8123/activate',
    verification_uri_complete:
      'http://127.0.0.1:8123/activate?user_code=ABCD-EFGH',
    user_code: 'ABCD-EFGH',
    expires_at: 2_000_000_000,
    error: null
  }
};
export const loggedIn: ISession = {
  ...loggedOut,
  logged_in: true,
  user: { id: 'u1', email: 'a@b.c', name: 'Ada' },
  organization: { id: 'o1', name: 'Org' },
  expires_at: 2_000_000_000,
  login: { ...(pending.login as ILogin), state: 'succeeded' }
};

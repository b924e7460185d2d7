jest.mock(
  '../request',
  () => jest.requireActual('./fakeRequest').requestModule
);

import { SessionModel } from '../model/session';
import { callsTo, resetRequests, respond } from './fakeRequest';
import { FakeScheduler } from './fixtures';
import { loggedIn, loggedOut, pending } from './sessions';

describe('SessionModel', () => {
  beforeEach(resetRequests);

  it('starts a device login and polls until it succeeds', async () => {
    const scheduler = new FakeScheduler();
    respond('POST api/session', pending);
    respond('GET api/session', pending, loggedIn);
    const model = new SessionModel(undefined, scheduler);

    await model.login();
    expect(model.state.session?.login?.user_code).toBe('ABCD-EFGH');
    expect(scheduler.pending()).toEqual([2000]);

    await scheduler.fire();
    expect(model.state.session?.logged_in).toBe(false);
    await scheduler.fire();
    expect(model.state.session?.logged_in).toBe(true);
    expect(scheduler.pending()).toEqual([]);
    expect(callsTo('GET api/session')).toHaveLength(2);
  });

  it('logs out and stops polling', async () => {
    const scheduler = new FakeScheduler();
    respond('GET api/session', pending);
    respond('DELETE api/session', loggedOut);
    const model = new SessionModel(undefined, scheduler);
    await model.load();
    expect(scheduler.pending()).toHaveLength(1);

    await model.logout();

    expect(model.state.session).toEqual(loggedOut);
    expect(scheduler.pending()).toEqual([]);
  });

  it('keeps the error message', async () => {
    respond('POST api/session', new Error('AIGNOSTICS_DEVICE_URL is not set'));
    const model = new SessionModel(undefined, new FakeScheduler());

    await model.login();

    expect(model.state.error).toBe('AIGNOSTICS_DEVICE_URL is not set');
    expect(model.state.busy).toBe(false);
  });
});

/**
 * The fake of the one request module (`src/request.ts`): a table of canned responses keyed by
 * `METHOD path` (the path without its query string), and a log of every call.
 *
 * Usage in a test file:
 *   jest.mock('../request', () => require('./fakeRequest').requestModule);
 *   respond('GET api/runs', page);
 */

/** One call the code under test made. */
export interface ICall {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

type Canned = unknown | ((call: ICall) => unknown);

const table = new Map<string, Canned[]>();
export const calls: ICall[] = [];

/** An error with an HTTP status, as `requestAPI` throws. */
export class FakeRequestError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
  }
}

/**
 * Answer `key` (`METHOD path`) with `responses` in turn; the last one repeats. A function is called with the
 * request; an `Error` is thrown.
 */
export function respond(key: string, ...responses: Canned[]): void {
  table.set(key, responses);
}

/** Forget every canned response and call. */
export function resetRequests(): void {
  table.clear();
  calls.length = 0;
}

/** The calls made to `key` (`METHOD path`). */
export function callsTo(key: string): ICall[] {
  return calls.filter(call => `${call.method} ${call.path}` === key);
}

async function requestAPI<T>(
  endPoint = '',
  init: RequestInit = {}
): Promise<T> {
  const [path, search = ''] = endPoint.split('?');
  const query: Record<string, string> = {};
  new URLSearchParams(search).forEach((value, key) => (query[key] = value));
  const method = (init.method ?? 'GET').toUpperCase();
  const body =
    typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
  const call = { method, path, query, body };
  calls.push(call);
  const key = `${method} ${path}`;
  const queue = table.get(key);
  if (!queue || queue.length === 0) {
    throw new FakeRequestError(`no canned response for ${key}`, 599);
  }
  const next = queue.length > 1 ? queue.shift() : queue[0];
  const value =
    typeof next === 'function' ? (next as (c: ICall) => unknown)(call) : next;
  if (value instanceof Error) {
    throw value;
  }
  return JSON.parse(JSON.stringify(value)) as T;
}

/** What `jest.mock('../request', ...)` returns. */
export const requestModule = {
  NAMESPACE: 'aignostics-jupyter',
  RequestError: FakeRequestError,
  requestAPI
};

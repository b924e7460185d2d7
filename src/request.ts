import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** The namespace of every route the server extension registers. */
export const NAMESPACE = 'aignostics-jupyter';

/** An error answered by the server extension, with its HTTP status. */
export class RequestError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

/**
 * Call a route of the server extension. All HTTP from the front end goes through here.
 *
 * @param endPoint - The path below `{base_url}aignostics-jupyter/`, e.g. `api/health`.
 * @param init - The fetch options.
 * @param settings - The server connection settings (the default uses the page's base URL and token).
 * @returns The decoded JSON body.
 */
export async function requestAPI<T>(
  endPoint = '',
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, NAMESPACE, endPoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }
  const text = await response.text();
  let data: unknown = text;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    const body = data as { error?: { message?: string }; message?: string };
    const message =
      body?.error?.message ?? body?.message ?? response.statusText;
    throw new RequestError(message, response.status);
  }
  return data as T;
}

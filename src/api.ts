import { requestAPI } from './request';
import {
  IApplication,
  IBucketListing,
  IDownloadJob,
  IRunDetails,
  IRunFilters,
  IRunPage,
  IRunSummary,
  ISession
} from './types';

/** Send a JSON body with `method`. */
function json(method: string, body: unknown): RequestInit {
  return { method, body: JSON.stringify(body) };
}

/** Build a query string from the non-empty values. */
export function queryString(
  params: Record<string, string | number | undefined | null>
): string {
  const parts = Object.entries(params)
    .filter(
      ([, value]) => value !== undefined && value !== null && value !== ''
    )
    .map(
      ([key, value]) =>
        `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`
    );
  return parts.length ? `?${parts.join('&')}` : '';
}

/** The REST API of the server extension, one function per operation. */
export const api = {
  session: (): Promise<ISession> => requestAPI<ISession>('api/session'),
  startLogin: (): Promise<ISession> =>
    requestAPI<ISession>('api/session', { method: 'POST', body: '{}' }),
  logout: (): Promise<ISession> =>
    requestAPI<ISession>('api/session', { method: 'DELETE' }),

  listRuns: (
    filters: IRunFilters,
    page: number,
    pageSize: number
  ): Promise<IRunPage> =>
    requestAPI<IRunPage>(
      'api/runs' +
        queryString({
          state: filters.state,
          application_id: filters.application_id,
          tag: filters.tag,
          page,
          page_size: pageSize
        })
    ),
  getRun: (runId: string): Promise<IRunDetails> =>
    requestAPI<IRunDetails>(`api/runs/${encodeURIComponent(runId)}`),
  cancelRun: (runId: string): Promise<IRunSummary> =>
    requestAPI<IRunSummary>(
      `api/runs/${encodeURIComponent(runId)}/cancel`,
      json('POST', {})
    ),
  downloadRun: (runId: string, folder: string): Promise<IDownloadJob> =>
    requestAPI<IDownloadJob>(
      `api/runs/${encodeURIComponent(runId)}/download`,
      json('POST', { folder })
    ),
  downloadProgress: (runId: string): Promise<IDownloadJob> =>
    requestAPI<IDownloadJob>(`api/runs/${encodeURIComponent(runId)}/download`),
  applications: (): Promise<{ applications: IApplication[] }> =>
    requestAPI<{ applications: IApplication[] }>('api/applications'),

  browseBucket: (prefix: string): Promise<IBucketListing> =>
    requestAPI<IBucketListing>('api/bucket' + queryString({ prefix })),
  uploadToBucket: (
    path: string,
    prefix: string
  ): Promise<{ key: string; size: number; skipped: boolean; url: string }> =>
    requestAPI('api/bucket/upload', json('POST', { path, prefix })),
  downloadFromBucket: (
    key: string,
    folder: string
  ): Promise<{ key: string; path: string; size: number }> =>
    requestAPI('api/bucket/download', json('POST', { key, folder })),
  deleteFromBucket: (keys: string[]): Promise<{ deleted: string[] }> =>
    requestAPI('api/bucket/delete', json('POST', { keys })),
  signUrl: (
    key: string,
    expires?: number
  ): Promise<{ key: string; url: string; expires: number }> =>
    requestAPI(
      'api/bucket/sign',
      json('POST', expires ? { key, expires } : { key })
    )
};

/** The API as the models and components use it (tests pass a fake). */
export type Api = typeof api;

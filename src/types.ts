/** The JSON shapes of the server extension's REST API (see `specification/rest-api.yml`). */

/** The state of a run or an item. */
export type RunState = 'PENDING' | 'PROCESSING' | 'TERMINATED';

/** Item counts of a run. */
export interface IRunStatistics {
  item_count: number;
  item_pending_count: number;
  item_processing_count: number;
  item_user_error_count: number;
  item_system_error_count: number;
  item_skipped_count: number;
  item_succeeded_count: number;
}

/** One run as the sidebar lists it. */
export interface IRunSummary {
  run_id: string;
  application_id: string;
  version_number: string;
  state: RunState;
  output: 'NONE' | 'PARTIAL' | 'FULL';
  termination_reason:
    'ALL_ITEMS_PROCESSED' | 'CANCELED_BY_SYSTEM' | 'CANCELED_BY_USER' | null;
  error_code: string | null;
  error_message: string | null;
  statistics: IRunStatistics;
  submitted_at: string;
  submitted_by?: string;
  terminated_at: string | null;
  tags: string[];
  note: string | null;
}

/** One page of `GET api/runs`. */
export interface IRunPage {
  runs: IRunSummary[];
  page: number;
  page_size: number;
  has_more: boolean;
}

/** The filters of the run list. */
export interface IRunFilters {
  state?: RunState | '';
  application_id?: string;
  tag?: string;
}

/** An output artifact of an item. */
export interface IArtifact {
  name: string;
  state: string;
  output: string;
  error_message: string | null;
}

/** One item (slide) of a run. */
export interface IItem {
  item_id: string;
  external_id: string;
  state: RunState;
  output: 'NONE' | 'FULL';
  termination_reason: string | null;
  error_code: string | null;
  error_message: string | null;
  terminated_at: string | null;
  artifacts: IArtifact[];
}

/** A background download of a run's results into the workspace. */
export interface IDownloadJob {
  job_id: string;
  run_id: string;
  folder: string;
  state: 'running' | 'succeeded' | 'failed';
  started_at: number;
  finished_at: number | null;
  current_file: string | null;
  bytes_done: number;
  bytes_total: number;
  files_downloaded: number;
  files_skipped: number;
  files: string[];
  error: string | null;
}

/** A run with its items and its download job. */
export interface IRunDetails extends IRunSummary {
  items: IItem[];
  download: IDownloadJob | null;
}

/** A device-flow login in progress. */
export interface ILogin {
  state: 'pending' | 'succeeded' | 'failed' | 'cancelled';
  verification_uri: string;
  verification_uri_complete: string | null;
  user_code: string;
  expires_at: number;
  interval?: number;
  error: string | null;
}

/** The login state of `GET api/session`. */
export interface ISession {
  logged_in: boolean;
  api_root: string;
  local: boolean;
  user: { id: string; email: string | null; name: string } | null;
  organization: { id: string; name: string } | null;
  expires_at: number | null;
  login: ILogin | null;
}

/** An application the user may run. */
export interface IApplication {
  application_id: string;
  name: string;
  description: string;
  latest_version: string | null;
}

/** A folder (sub-prefix) of a bucket listing. */
export interface IBucketFolder {
  prefix: string;
  name: string;
  objects: number;
  size: number;
}

/** An object of a bucket listing. */
export interface IBucketObject {
  key: string;
  name: string;
  size: number;
  last_modified: string | null;
}

/** `GET api/bucket?prefix=`. */
export interface IBucketListing {
  bucket: string;
  protocol: string;
  prefix: string;
  folders: IBucketFolder[];
  objects: IBucketObject[];
}

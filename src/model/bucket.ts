import { Api, api as defaultApi } from '../api';
import { IBucketListing } from '../types';
import { errorText } from './session';

/** What the bucket browser shows. */
export interface IBucketState {
  prefix: string;
  listing: IBucketListing | null;
  loading: boolean;
  error: string | null;
  /** Workspace files being uploaded. */
  uploading: string[];
}

/** The parent of a prefix: `a/b/` → `a/`, `a/` → ``. */
export function parentPrefix(prefix: string): string {
  const parts = prefix.split('/').filter(Boolean);
  parts.pop();
  return parts.length ? `${parts.join('/')}/` : '';
}

/** The organization bucket, browsed by prefix like folders. */
export class BucketModel {
  constructor(
    private readonly _api: Pick<
      Api,
      | 'browseBucket'
      | 'uploadToBucket'
      | 'downloadFromBucket'
      | 'deleteFromBucket'
      | 'signUrl'
    > = defaultApi
  ) {}

  /** The current state. */
  get state(): IBucketState {
    return this._state;
  }

  /** Call `listener` after every change; returns the unsubscribe function. */
  subscribe(listener: (state: IBucketState) => void): () => void {
    this._listeners.add(listener);
    return () => this._listeners.delete(listener);
  }

  /** List a prefix (default: the current one). */
  async open(prefix = this._state.prefix): Promise<void> {
    this._update({ prefix, loading: true });
    try {
      const listing = await this._api.browseBucket(prefix);
      if (this._state.prefix === prefix) {
        this._update({ listing, error: null });
      }
    } catch (reason) {
      this._update({ error: errorText(reason) });
    } finally {
      this._update({ loading: false });
    }
  }

  /**
   * Upload workspace files into the current prefix, then list it again.
   *
   * @returns The keys uploaded.
   */
  async upload(paths: string[]): Promise<string[]> {
    const prefix = this._state.prefix;
    this._update({ uploading: [...this._state.uploading, ...paths] });
    const keys: string[] = [];
    try {
      for (const path of paths) {
        const result = await this._api.uploadToBucket(path, prefix);
        keys.push(result.key);
        this._update({
          uploading: this._state.uploading.filter(p => p !== path)
        });
      }
    } finally {
      this._update({
        uploading: this._state.uploading.filter(p => !paths.includes(p))
      });
      await this.open();
    }
    return keys;
  }

  /** Download an object into a workspace folder; returns the workspace path. */
  async download(key: string, folder: string): Promise<string> {
    return (await this._api.downloadFromBucket(key, folder)).path;
  }

  /** Delete objects, then list again. */
  async remove(keys: string[]): Promise<void> {
    try {
      await this._api.deleteFromBucket(keys);
    } finally {
      await this.open();
    }
  }

  /** A presigned GET URL of an object. */
  async sign(key: string): Promise<string> {
    return (await this._api.signUrl(key)).url;
  }

  private _update(change: Partial<IBucketState>): void {
    this._state = { ...this._state, ...change };
    this._listeners.forEach(listener => listener(this._state));
  }

  private _listeners = new Set<(state: IBucketState) => void>();
  private _state: IBucketState = {
    prefix: '',
    listing: null,
    loading: false,
    error: null,
    uploading: []
  };
}

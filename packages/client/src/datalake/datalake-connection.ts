/**
 * What the datalake's parts share: the DataStore for service calls, and the resolved URL
 * and token for the routes that are not services (`/assets/<id>/file`, `/assets/upload`,
 * `/dataset-versions/<id>/archive`).
 */
import type { LarderError } from '@larder/protocol';
import { resolveConnection } from '../config/credentials.js';
import { DataStore, type DataStoreOptions } from '../datastore/data-store.js';
import { errorFromAnswer, unreachable } from '../datastore/rest-transport.js';

export class DatalakeConnection {
  readonly store: DataStore;
  readonly #options: DataStoreOptions;
  #resolved: Promise<{ url: string; token: string | undefined }> | undefined;

  constructor(options: DataStoreOptions) {
    this.#options = options;
    this.store = new DataStore(options);
  }

  resolved(): Promise<{ url: string; token: string | undefined }> {
    this.#resolved ??= resolveConnection(this.#options).then(({ url, token }) => ({
      url: url.replace(/\/+$/, ''),
      token,
    }));
    return this.#resolved;
  }

  /** A plain HTTP request to the server, signed in. */
  async request(
    method: string,
    path: string,
    headers: Record<string, string> = {},
    body?: RequestInit['body'],
  ): Promise<Response> {
    const { url, token } = await this.resolved();
    const all: Record<string, string> = { ...headers };
    if (token) all.authorization = `Bearer ${token}`;
    const fetchFn = this.#options.fetch ?? globalThis.fetch;
    const timeout = 600_000;
    try {
      const init: RequestInit = { method, headers: all, signal: AbortSignal.timeout(timeout) };
      if (body !== undefined) init.body = body;
      return await fetchFn(`${url}${path}`, init);
    } catch (cause) {
      throw unreachable(method, `${url}${path}`, url, timeout, cause);
    }
  }

  async errorOf(method: string, response: Response): Promise<LarderError> {
    const text = await response.text().catch(() => '');
    return errorFromAnswer(method, response.url, response.status, text);
  }
}

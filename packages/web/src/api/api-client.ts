/**
 * Calls to the Larder REST API with the session's token: services (`find`, `get`), plain
 * routes, and file downloads (fetched with the token, since links cannot carry it). A 401
 * ends the session, which brings the sign-in page back.
 *
 * @example
 * const page = await api.find<Run>('runs', { status: 'Running', $limit: 50 });
 */
import { ApiError, apiErrorOf } from './api-error.js';
import { encodeQuery, type Query } from './query-string.js';
import { currentToken, endSession } from './session.js';

export interface Page<T> {
  total: number;
  limit: number;
  skip: number;
  data: T[];
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const token = currentToken();
  return { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra };
}

async function call(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'Unavailable', 'The server cannot be reached');
  }
  if (!response.ok) {
    const error = await apiErrorOf(response);
    if (error.unauthenticated && path !== '/authentication') endSession();
    throw error;
  }
  return response;
}

export function withQuery(path: string, query?: Query): string {
  const encoded = query ? encodeQuery(query) : '';
  return encoded ? `${path}?${encoded}` : path;
}

export const api = {
  async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const response = await call(method, path, body, signal);
    return (response.status === 204 ? undefined : await response.json()) as T;
  },
  find<T>(service: string, query?: Query, signal?: AbortSignal): Promise<Page<T>> {
    return api.request<Page<T>>('GET', withQuery(`/${service}`, query), undefined, signal);
  },
  get<T>(service: string, id: string, signal?: AbortSignal): Promise<T> {
    return api.request<T>('GET', `/${service}/${encodeURIComponent(id)}`, undefined, signal);
  },
  /** A file behind the API (run files, pictures) as bytes the page can show. */
  async blob(path: string, signal?: AbortSignal): Promise<Blob> {
    return (await call('GET', path, undefined, signal)).blob();
  },
  /** Saves a file behind the API to the user's downloads. */
  async download(path: string, filename: string): Promise<void> {
    const url = URL.createObjectURL(await api.blob(path));
    const link = document.createElement('a');
    link.href = url;
    link.download = filename;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  },
};

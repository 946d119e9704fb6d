/**
 * Carries service calls over Feathers REST: `GET /svc?query`, `GET /svc/id`, `POST /svc`,
 * `PUT|PATCH|DELETE /svc/id`, and `PATCH|DELETE /svc?query` for every match.
 *
 * @example
 * const rest = new RestTransport({ url: 'http://127.0.0.1:3030', token: () => undefined, timeout: 30_000 });
 * await rest.call({ method: 'find', path: 'runs', query: { $limit: 1 } });
 */
import { errorNameForStatus, LarderError, toLarderError } from '@larder/protocol';
import { encodeQuery } from './query-string.js';
import type { ServiceCall, ServiceMethod, Transport, TransportOptions } from './transport.js';

export interface RestTransportOptions extends TransportOptions {
  /** The fetch to use; defaults to the global one. */
  fetch?: typeof fetch;
}

const HTTP_METHODS: Record<ServiceMethod, string> = {
  find: 'GET',
  get: 'GET',
  create: 'POST',
  update: 'PUT',
  patch: 'PATCH',
  remove: 'DELETE',
};

export class RestTransport implements Transport {
  readonly #options: RestTransportOptions;
  readonly #base: string;

  constructor(options: RestTransportOptions) {
    this.#options = options;
    this.#base = options.url.replace(/\/+$/, '');
  }

  /** The URL a call goes to, e.g. `http://host/runs/01j…?$limit=1`. */
  urlFor(call: ServiceCall): string {
    const segments = call.path.split('/').filter(Boolean).map(encodeURIComponent);
    if (call.id !== undefined && call.id !== null) segments.push(encodeURIComponent(String(call.id)));
    const search = call.query ? encodeQuery(call.query) : '';
    return `${this.#base}/${segments.join('/')}${search ? `?${search}` : ''}`;
  }

  async call(call: ServiceCall): Promise<unknown> {
    const method = HTTP_METHODS[call.method];
    const target = this.urlFor(call);
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = this.#options.token();
    if (token) headers.authorization = `Bearer ${token}`;
    const init: RequestInit = { method, headers, signal: AbortSignal.timeout(this.#options.timeout) };
    if (call.data !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(call.data);
    }
    const fetchFn = this.#options.fetch ?? globalThis.fetch;
    let status: number;
    let text: string;
    try {
      const response = await fetchFn(target, init);
      status = response.status;
      text = await response.text();
    } catch (cause) {
      throw unreachable(method, target, this.#base, this.#options.timeout, cause);
    }
    if (status < 200 || status >= 300) throw errorFromAnswer(method, target, status, text);
    if (text === '') return null;
    try {
      return JSON.parse(text) as unknown;
    } catch (cause) {
      throw new LarderError('GeneralError', `${method} ${target} answered ${status} with a body that is not JSON`, {
        cause,
      });
    }
  }

  close(): void {}
}

/** What a request that got no answer at all becomes: a Timeout, or Unavailable with the reason. */
export function unreachable(
  method: string,
  target: string,
  base: string,
  timeout: number,
  cause: unknown,
): LarderError {
  if (cause instanceof Error && cause.name === 'TimeoutError') {
    return new LarderError(
      'Timeout',
      `${method} ${target} got no answer within ${timeout} ms; is the server overloaded or unreachable?`,
      { cause },
    );
  }
  return new LarderError(
    'Unavailable',
    `Could not reach ${target} (${describeCause(cause)}); is the Larder server running at ${base}?`,
    { cause },
  );
}

/** Node's fetch says only "fetch failed"; the useful part (ECONNREFUSED…) is its cause. */
function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const inner = cause.cause;
  if (inner instanceof Error) return inner.message || inner.name;
  if (inner !== null && typeof inner === 'object' && 'code' in inner) return String(inner.code);
  return cause.message;
}

/** A Feathers error body keeps its name and message; anything else is named from the status. */
export function errorFromAnswer(method: string, target: string, status: number, text: string): LarderError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (body !== null && typeof body === 'object' && 'message' in body && typeof body.message === 'string') {
    const error = toLarderError(body);
    // A body without a known name still tells the status.
    if ('name' in body && body.name === error.name) return error;
    return new LarderError(errorNameForStatus(status), error.message, { data: error.data, cause: body });
  }
  const excerpt = text.trim().slice(0, 200);
  return new LarderError(
    errorNameForStatus(status),
    `${method} ${target} answered ${status}${excerpt ? `: ${excerpt}` : ''}`,
    { data: body },
  );
}

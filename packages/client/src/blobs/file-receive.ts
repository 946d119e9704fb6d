/**
 * Receiving a file route's body into a file, where a byte is placed by position: resumable
 * (the caller keeps `progress.at`, and asks with `Range` from there), the same whichever
 * client carries it: the caller's `fetch` when one was given; else, over plain HTTP, a socket
 * of its own read straight into the file (`socketDownload`); else (https, or an answer the
 * socket path does not read) `node:http`. Used by registry pulls and blob downloads.
 */
import { LarderError } from '@larder/protocol';
import { errorFromAnswer, unreachable } from '../datastore/rest-transport.js';
import { type BodyPlacement, writeAt } from './body-placement.js';
import { SocketAnswerUnsupported, socketDownload } from './socket-download.js';

/** Where and how an SDK part makes its HTTP requests. */
export interface FileHttp {
  url: string;
  token: string | undefined;
  fetch?: typeof fetch;
  /** Milliseconds one request may take (default 10 minutes). */
  timeout?: number;
}

/** A route's full URL, its server's base, the timeout, and `headers` with the token added. */
function resolveRoute(http: FileHttp, route: string, headers: Record<string, string>) {
  const base = http.url.replace(/\/+$/, '');
  const sent = { ...headers, ...(http.token ? { authorization: `Bearer ${http.token}` } : {}) };
  return { base, target: `${base}${route}`, timeout: http.timeout ?? 600_000, headers: sent };
}

/** Issues an authenticated request to a route; non-2xx answers become LarderErrors. */
export async function httpRequest(
  http: FileHttp,
  method: string,
  path: string,
  extraHeaders: Record<string, string> = {},
): Promise<Response> {
  const { base, target, timeout, headers } = resolveRoute(http, path, extraHeaders);
  let response: Response;
  try {
    response = await (http.fetch ?? globalThis.fetch)(target, {
      method,
      headers,
      signal: AbortSignal.timeout(timeout),
    });
  } catch (cause) {
    throw unreachable(method, target, base, timeout, cause);
  }
  if (response.status < 200 || response.status >= 300) {
    throw errorFromAnswer(method, target, response.status, await response.text().catch(() => ''));
  }
  return response;
}

const WRITE_BATCH_BYTES = 4 * 1024 * 1024;

interface FileAnswer {
  status: number;
  /** By lower-case name. */
  headers: Map<string, string>;
  body: AsyncIterable<Uint8Array> | null;
}

/**
 * GETs a file route. Through the caller's `fetch` when one was given; otherwise through
 * `node:http(s)`, whose body streams cost about half the CPU of `fetch`'s web streams for
 * the same bytes (a pull is bound by the client's CPU). A body that breaks is a retryable
 * `Unavailable`, as a broken `fetch` body is.
 */
async function fileRequest(http: FileHttp, route: string, headers: Record<string, string>): Promise<FileAnswer> {
  if (http.fetch) {
    const response = await httpRequest(http, 'GET', route, headers);
    return {
      status: response.status,
      headers: new Map(response.headers),
      body: response.body as AsyncIterable<Uint8Array> | null,
    };
  }
  const { base, target, timeout, headers: sent } = resolveRoute(http, route, headers);
  const client = target.startsWith('https:') ? await import('node:https') : await import('node:http');
  return new Promise((resolve, reject) => {
    const request = client.request(target, { method: 'GET', headers: sent, timeout }, (response) => {
      const status = response.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (cause) => reject(unreachable('GET', target, base, timeout, cause)));
        response.on('end', () =>
          reject(errorFromAnswer('GET', target, status, Buffer.concat(chunks).toString('utf8'))),
        );
        return;
      }
      const answerHeaders = new Map<string, string>();
      for (const [name, value] of Object.entries(response.headers)) {
        if (value !== undefined) answerHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
      }
      resolve({ status, headers: answerHeaders, body: retryableBody(response, route) });
    });
    request.on('timeout', () => request.destroy(new Error(`No answer within ${timeout} ms`)));
    request.on('error', (cause) => reject(unreachable('GET', target, base, timeout, cause)));
    request.end();
  });
}

async function* retryableBody(body: AsyncIterable<Buffer>, route: string): AsyncGenerator<Uint8Array> {
  try {
    yield* body;
  } catch (cause) {
    throw new LarderError('Unavailable', `The download of ${route} broke off`, { cause });
  }
}

/**
 * GETs a file route into `placement`: straight from the socket into the file when the SDK
 * makes its own requests over plain HTTP (`socketDownload`, which spares node:http's copy
 * of every byte), else, or when the answer is not a plain sized body, through `fileRequest`.
 * A non-2xx answer is its LarderError either way.
 */
export async function receiveFile(
  http: FileHttp,
  route: string,
  headers: Record<string, string>,
  placement: BodyPlacement,
): Promise<void> {
  const { base, target, timeout, headers: sent } = resolveRoute(http, route, headers);
  if (!http.fetch && target.startsWith('http:')) {
    try {
      const answer = await socketDownload(new URL(target), sent, timeout, placement);
      if (answer.status < 200 || answer.status >= 300) throw errorFromAnswer('GET', target, answer.status, answer.text);
      return;
    } catch (error) {
      if (!(error instanceof SocketAnswerUnsupported)) {
        throw error instanceof LarderError ? error : unreachable('GET', target, base, timeout, error);
      }
    }
  }
  const response = await fileRequest(http, route, headers);
  await placement.placeBody(response.status, response.headers);
  await receiveInto(placement, response.body);
}

/**
 * Writes the body at `placement.progress.at` in large positional writes (the chunks as they
 * came, in one `writev` each 4 MiB); `progress.at` always ends where the written bytes end,
 * broken body or not. What goes past `placement.limit` is dropped.
 */
export async function receiveInto(placement: BodyPlacement, body: AsyncIterable<Uint8Array> | null): Promise<void> {
  let batch: Uint8Array[] = [];
  let batched = 0;
  const flush = async () => {
    if (batched === 0) return;
    const chunks = batch;
    batch = [];
    batched = 0;
    await writeAt(placement, chunks);
  };
  try {
    if (body) {
      for await (const chunk of body) {
        if (placement.limit - placement.progress.at - batched <= 0) break;
        batch.push(chunk);
        batched += chunk.byteLength;
        if (batched >= WRITE_BATCH_BYTES) await flush();
      }
    }
  } finally {
    // What arrived before a break is kept: a retry (or the next pull) continues after it.
    await flush();
  }
}

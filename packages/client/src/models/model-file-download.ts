/**
 * Fetches a version's files from the registry's download route (`/model-files/<id>/<path>`,
 * permitted by the version's read access), each verified against its SHA-256 before it is
 * kept. Paths are checked again here: a file is never written outside the target folder,
 * whatever the server answers.
 *
 * A version's files come several at a time, each straight to its place (positional writes
 * of large batches), and each is hashed on a worker thread once it has landed, beside the
 * next transfers. A file cut short, by a broken connection or a killed process, is
 * continued from its last byte (`Range` + `If-Range`); one whose bytes do not match its
 * hash is fetched again from its start.
 */
import { createHash } from 'node:crypto';
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { eachAtOnce, LarderError } from '@larder/protocol';
import { HashPool } from '../blobs/file-hashing.js';
import { type RetryOptions, withRetries } from '../blobs/retry.js';
import { type BodyPlacement, SocketAnswerUnsupported, socketDownload } from '../blobs/socket-download.js';
import { errorFromAnswer, unreachable } from '../datastore/rest-transport.js';
import type { VersionFile } from './model-records.js';

export interface RegistryHttp {
  url: string;
  token: string | undefined;
  fetch?: typeof fetch;
  /** Milliseconds one request may take (default 10 minutes). */
  timeout?: number;
}

/** Issues an authenticated request to a registry route; non-2xx answers become LarderErrors. */
export async function registryRequest(
  http: RegistryHttp,
  method: string,
  path: string,
  extraHeaders: Record<string, string> = {},
): Promise<Response> {
  const base = http.url.replace(/\/+$/, '');
  const target = `${base}${path}`;
  const headers: Record<string, string> = { ...extraHeaders };
  if (http.token) headers.authorization = `Bearer ${http.token}`;
  const timeout = http.timeout ?? 600_000;
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

/** The route of a version's file. */
export function versionFileRoute(versionId: string, path: string): string {
  return `/model-files/${encodeURIComponent(versionId)}/${path.split('/').map(encodeURIComponent).join('/')}`;
}

/** Where `path` lands under `root`; throws when it would land anywhere else. */
export function placeInside(root: string, path: string): string {
  const base = resolve(root);
  const target = resolve(base, ...path.split('/'));
  if (path.includes('\\') || path.includes('\0') || !target.startsWith(base + sep)) {
    throw new LarderError('BadGateway', `The server named a file "${path.slice(0, 200)}" outside the model folder`);
  }
  return target;
}

export interface VersionDownloadOptions extends RetryOptions {
  /** Files fetched at once (default 4). */
  concurrency?: number;
}

/** Downloads every file of version `versionId` into `root`, each verified against its hash. */
export async function downloadVersionFiles(
  http: RegistryHttp,
  versionId: string,
  files: readonly VersionFile[],
  root: string,
  options: VersionDownloadOptions = {},
): Promise<void> {
  const hashing = new HashPool();
  try {
    await eachAtOnce(files, Math.max(1, options.concurrency ?? 4), async (file) => {
      const target = placeInside(root, file.path);
      await mkdir(dirname(target), { recursive: true });
      await downloadInPlace(http, versionFileRoute(versionId, file.path), file, target, options, hashing);
    });
  } finally {
    await hashing.close();
  }
}

/** Downloads `file` of version `versionId` into `root`, verified against its hash. */
export async function downloadVersionFile(
  http: RegistryHttp,
  versionId: string,
  file: VersionFile,
  root: string,
  retry: RetryOptions = {},
): Promise<void> {
  await downloadVersionFiles(http, versionId, [file], root, { ...retry, concurrency: 1 });
}

const WRITE_BATCH_BYTES = 4 * 1024 * 1024;

interface FileAnswer {
  status: number;
  body: AsyncIterable<Uint8Array> | null;
}

/**
 * GETs a file route. Through the caller's `fetch` when one was given; otherwise through
 * `node:http(s)`, whose body streams cost about half the CPU of `fetch`'s web streams for
 * the same bytes (a pull is bound by the client's CPU). A body that breaks is a retryable
 * `Unavailable`, as a broken `fetch` body is.
 */
async function fileRequest(http: RegistryHttp, route: string, headers: Record<string, string>): Promise<FileAnswer> {
  if (http.fetch) {
    const response = await registryRequest(http, 'GET', route, headers);
    return { status: response.status, body: response.body as AsyncIterable<Uint8Array> | null };
  }
  const base = http.url.replace(/\/+$/, '');
  const target = `${base}${route}`;
  const timeout = http.timeout ?? 600_000;
  const client = target.startsWith('https:') ? await import('node:https') : await import('node:http');
  const sent = { ...headers, ...(http.token ? { authorization: `Bearer ${http.token}` } : {}) };
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
      resolve({ status, body: retryableBody(response, route) });
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
async function receiveFile(
  http: RegistryHttp,
  route: string,
  headers: Record<string, string>,
  placement: BodyPlacement,
): Promise<void> {
  const base = http.url.replace(/\/+$/, '');
  const target = `${base}${route}`;
  if (!http.fetch && target.startsWith('http:')) {
    const timeout = http.timeout ?? 600_000;
    const sent = { ...headers, ...(http.token ? { authorization: `Bearer ${http.token}` } : {}) };
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
  await placement.placeBody(response.status);
  await receiveInto(placement.handle, response.body, placement.progress, placement.limit);
}

/**
 * Writes `route` at `target` (which may hold a start of it from an interrupted pull), then
 * has a worker thread hash what landed (from the page cache, off the main thread, beside
 * the next files' transfers): a mismatch fetches the file again from its start, and after
 * the last attempt removes it.
 */
async function downloadInPlace(
  http: RegistryHttp,
  route: string,
  file: VersionFile,
  target: string,
  retry: RetryOptions,
  hashing: HashPool,
): Promise<void> {
  const handle = await open(target, 'a+').then(async (created) => {
    await created.close();
    return open(target, 'r+');
  });
  let received = (await handle.stat()).size;
  try {
    if (received > file.size) {
      await handle.truncate(0);
      received = 0;
    }
    await withRetries(async () => {
      if (received < file.size) {
        const headers: Record<string, string> =
          received > 0 ? { range: `bytes=${received}-`, 'if-range': `"${file.sha256}"` } : {};
        const progress = { at: received };
        const placeBody = async (status: number) => {
          if (progress.at > 0 && status !== 206) {
            // The server sent the whole file: start over.
            progress.at = 0;
            await handle.truncate(0);
          }
        };
        try {
          await receiveFile(http, route, headers, { handle, progress, limit: file.size, placeBody });
        } finally {
          received = progress.at;
        }
        if (received < file.size) {
          // Cut short without an error: keep what came, continue from there.
          throw new LarderError('Unavailable', `The download of ${route} stopped before its end`);
        }
      }
      const landed =
        received === file.size ? await hashing.hash(target, { chunkBytes: Math.max(1, file.size) }) : undefined;
      if (landed?.sha256 !== file.sha256) {
        received = 0;
        await handle.truncate(0);
        throw new LarderError('BadGateway', `The bytes received for ${route} do not match their SHA-256`);
      }
    }, retry);
  } catch (error) {
    await handle.close().catch(() => {});
    // Bytes that failed verification are worth nothing; a cut-off start is kept for a resume.
    if (received === 0) await rm(target, { force: true });
    throw error;
  }
  await handle.close();
}

/**
 * Appends the body at `progress.at` in large positional writes (the chunks as they came,
 * in one `writev`); `progress.at` always ends where the written bytes end, broken body or
 * not. What goes past `limit` bytes in all is dropped.
 */
async function receiveInto(
  handle: FileHandle,
  body: AsyncIterable<Uint8Array> | null,
  progress: { at: number },
  limit: number,
): Promise<void> {
  let batch: Uint8Array[] = [];
  let batched = 0;
  const flush = async () => {
    if (batched === 0) return;
    let chunks = batch;
    let left = batched;
    batch = [];
    batched = 0;
    while (left > 0) {
      const { bytesWritten } = await handle.writev(chunks, progress.at);
      progress.at += bytesWritten;
      left -= bytesWritten;
      if (left > 0) chunks = [Buffer.concat(chunks).subarray(bytesWritten)];
    }
  };
  try {
    if (body) {
      for await (const chunk of body) {
        const room = limit - progress.at - batched;
        if (room <= 0) break;
        const kept = chunk.byteLength > room ? chunk.subarray(0, room) : chunk;
        batch.push(kept);
        batched += kept.byteLength;
        if (batched >= WRITE_BATCH_BYTES) await flush();
      }
    }
  } finally {
    // What arrived before a break is kept: a retry (or the next pull) continues after it.
    await flush();
  }
}

/** Streams `route` into `target`, which appears only once its bytes hash to `sha256`. */
export async function downloadVerified(
  http: RegistryHttp,
  route: string,
  sha256: string,
  target: string,
  retry: RetryOptions = {},
): Promise<void> {
  const partial = `${target}.partial`;
  try {
    await withRetries(async () => {
      const response = await registryRequest(http, 'GET', route);
      const hash = createHash('sha256');
      const handle = await open(partial, 'w');
      try {
        if (response.body) {
          for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
            hash.update(chunk);
            await handle.write(chunk);
          }
        }
      } finally {
        await handle.close();
      }
      if (hash.digest('hex') !== sha256) {
        throw new LarderError('BadGateway', `The bytes received for ${route} do not match their SHA-256`);
      }
    }, retry);
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

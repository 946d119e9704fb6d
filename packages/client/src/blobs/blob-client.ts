/**
 * Content-addressed files on a Larder server, with uploads and downloads that survive
 * broken connections:
 * - a file is hashed first, on a worker thread (one read: the whole and each chunk), so the
 *   main thread keeps sending; bytes the server already holds (and you uploaded before)
 *   are not sent again;
 * - a file's bytes go straight from the disk to the socket (read in 1 MiB pieces through
 *   `node:http`, or a file-backed `Blob` when a `fetch` was given), so
 *   memory stays flat whatever the chunk size;
 * - a large upload goes in chunks (256 MiB by default: below that a file is one request,
 *   written once by the server), each a blob of its own, joined on the server by
 *   `POST /blobs/compose`; a broken chunk is retried by itself, and running the same upload
 *   again after a crash sends only the chunks that are missing;
 * - a download to a file continues from where it broke (HTTP `Range`), goes from the socket
 *   straight into the file (`file-receive.ts`), hashed as it lands, and is verified against
 *   its hash before it appears under its name.
 *
 * @example
 * const { sha256, size } = await store.blobs.upload('./weights.bin', {
 *   onProgress: ({ sent, total }) => console.log(`${sent}/${total}`),
 * });
 * await store.runs.create({ name: 'mnist', weights: { sha256, size } });
 * await store.blobs.download(sha256, './weights-copy.bin');
 */
import { createHash } from 'node:crypto';
import { openAsBlob } from 'node:fs';
import { LarderError } from '@larder/protocol';
import { errorFromAnswer, unreachable } from '../datastore/rest-transport.js';
import { bytesSource, type ChunkPlan, planChunks } from './blob-source.js';
import { type FileHashes, HashPool } from './file-hashing.js';
import { answerError, type FileRange, sendFileRange } from './file-put.js';
import { receiveFile } from './file-receive.js';
import { type RetryOptions, withRetries } from './retry.js';

export interface BlobRef {
  sha256: string;
  size: number;
}

export interface UploadProgress {
  /** Bytes the server holds so far (skipped chunks count as held). */
  sent: number;
  total: number;
}

export interface UploadOptions extends RetryOptions {
  /** Uploads larger than this go in chunks of this size (default 256 MiB). */
  chunkBytes?: number;
  onProgress?: (progress: UploadProgress) => void;
  /** Called when the server already held these bytes, so nothing was sent. */
  onHeld?: () => void;
}

export interface BlobClientOptions {
  /** The server's base URL, resolved on first use. */
  url: () => Promise<string>;
  token: () => string | undefined;
  /** Milliseconds one request may take (default 10 minutes). */
  timeout?: number;
  fetch?: typeof fetch;
}

export const DEFAULT_CHUNK_BYTES = 256 * 1024 * 1024;
/** Files up to this size are read and hashed on the calling thread. */
const INLINE_HASH_BYTES = 1024 * 1024;

/** What an upload sends: slices of it are request bodies (a file-backed Blob reads lazily). */
type UploadBody = Blob | Uint8Array;

export class BlobClient {
  readonly #options: BlobClientOptions;
  #hashing: HashPool | undefined;

  constructor(options: BlobClientOptions) {
    this.#options = options;
  }

  /** Uploads a file (by path) or bytes; answers the blob's hash and size. */
  async upload(source: string | Uint8Array, options: UploadOptions = {}): Promise<BlobRef> {
    const chunkBytes = chunkSize(options);
    if (typeof source !== 'string') {
      return this.#upload(source, await planChunks(bytesSource(source), chunkBytes), options);
    }
    const { readFile, stat } = await import('node:fs/promises');
    if ((await stat(source)).size <= INLINE_HASH_BYTES) {
      // A small file costs less to hash here than a message to a worker and back.
      const bytes = await readFile(source);
      return this.#upload(bytes, await planChunks(bytesSource(bytes), chunkBytes), options);
    }
    this.#hashing ??= new HashPool();
    return this.uploadHashed(source, await this.#hashing.hash(source, { chunkBytes }), options);
  }

  /**
   * Uploads the file at `path` whose hashes were just computed (`HashPool.hash` with the
   * same `chunkBytes`), so a caller that needed them anyway reads the file only once more.
   * The server checks every hash again: a wrong one is refused, never stored.
   */
  async uploadHashed(path: string, hashes: FileHashes, options: UploadOptions = {}): Promise<BlobRef> {
    const body = await openAsBlob(path);
    if (body.size !== hashes.size) {
      throw new LarderError('Conflict', `${path} changed while it was being uploaded; upload it again`);
    }
    return this.#upload(body, hashes, options, path);
  }

  /** Whether the server holds the blob and lets you read it. */
  async has(sha256: string): Promise<boolean> {
    const response = await this.#request('HEAD', `/blobs/${sha256}`);
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    throw await errorOf('HEAD', response);
  }

  /** The blob's bytes, in memory (for small blobs; use `download` for files). */
  async get(sha256: string): Promise<Uint8Array> {
    return withRetries(async () => {
      const response = await this.#request('GET', `/blobs/${sha256}`);
      if (response.status !== 200) throw await errorOf('GET', response);
      const bytes = new Uint8Array(await response.arrayBuffer());
      if (hashOf(bytes) !== sha256)
        throw new LarderError('BadGateway', `The bytes received for ${sha256} do not match it`);
      return bytes;
    });
  }

  /** Writes the blob to `path`, resuming after broken connections; the file appears only once verified. */
  async download(sha256: string, path: string, options: RetryOptions = {}): Promise<BlobRef> {
    return this.downloadRoute(`/blobs/${sha256}`, path, { ...options, sha256 });
  }

  /**
   * Writes what a file route of the server answers (`/runs/<id>/files/<name>`,
   * `/artifacts/<id>/objects/<path>`…) to `path`, resuming by range, hashed as its bytes
   * land and verified against the hash the server names in its ETag (or `sha256` when
   * given); the file appears under its name only then.
   */
  async downloadRoute(route: string, path: string, options: RetryOptions & { sha256?: string } = {}): Promise<BlobRef> {
    const { open, rename, rm } = await import('node:fs/promises');
    const partial = `${path}.partial`;
    const file = await open(partial, 'w');
    const progress = { at: 0 };
    let digest = createHash('sha256');
    let expected = options.sha256;
    const http = {
      url: await this.#options.url(),
      token: this.#options.token(),
      timeout: this.#options.timeout ?? 600_000,
      ...(this.#options.fetch ? { fetch: this.#options.fetch } : {}),
    };
    const placeBody = async (status: number, headers: Map<string, string>) => {
      expected ??= /^"([0-9a-f]{64})"$/.exec(headers.get('etag') ?? '')?.[1];
      if (progress.at > 0 && status === 200) {
        // The server ignored the range: start over.
        progress.at = 0;
        digest = createHash('sha256');
        await file.truncate(0);
      }
    };
    const onWritten = (bytes: Uint8Array) => digest.update(bytes);
    try {
      await withRetries(async () => {
        const headers: Record<string, string> = progress.at > 0 ? { range: `bytes=${progress.at}-` } : {};
        if (progress.at > 0 && expected) headers['if-range'] = `"${expected}"`;
        const placement = { handle: file, progress, limit: Number.MAX_SAFE_INTEGER, placeBody, onWritten };
        await receiveFile(http, route, headers, placement);
      }, options);
      await file.close();
      const actual = digest.digest('hex');
      if (expected !== undefined && actual !== expected) {
        throw new LarderError('BadGateway', `The bytes received from ${route} do not match ${expected}`);
      }
      await rename(partial, path);
      return { sha256: actual, size: progress.at };
    } catch (error) {
      await file.close().catch(() => {});
      await rm(partial, { force: true });
      throw error;
    }
  }

  /** `path`: the file `source` reads, sent through `node:http` when no `fetch` was given. */
  async #upload(source: UploadBody, plan: ChunkPlan, options: UploadOptions, path?: string): Promise<BlobRef> {
    const total = bodySize(source);
    const report = (sent: number) => options.onProgress?.({ sent, total });
    if (await withRetries(() => this.has(plan.sha256), options)) {
      options.onHeld?.();
      report(total);
      return { sha256: plan.sha256, size: total };
    }
    if (plan.chunks.length === 1) {
      await this.#put(plan.sha256, source, options, path === undefined ? undefined : { path, start: 0, end: total });
      report(total);
      return { sha256: plan.sha256, size: total };
    }
    let sent = 0;
    for (const chunk of plan.chunks) {
      if (!(await withRetries(() => this.has(chunk.sha256), options))) {
        const range = path === undefined ? undefined : { path, start: chunk.start, end: chunk.end };
        await this.#put(chunk.sha256, source.slice(chunk.start, chunk.end), options, range);
      }
      sent += chunk.end - chunk.start;
      report(sent);
    }
    return withRetries(async () => {
      const response = await this.#request('POST', '/blobs/compose', {
        json: { parts: plan.chunks.map((chunk) => chunk.sha256), sha256: plan.sha256 },
      });
      if (response.status !== 201) throw await errorOf('POST', response);
      return (await response.json()) as BlobRef;
    }, options);
  }

  async #put(sha256: string, bytes: UploadBody, options: RetryOptions, range?: FileRange): Promise<void> {
    await withRetries(async () => {
      if (range && !this.#options.fetch) {
        const base = (await this.#options.url()).replace(/\/+$/, '');
        const target = `${base}/blobs/${sha256}`;
        const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
        const token = this.#options.token();
        if (token) headers.authorization = `Bearer ${token}`;
        const answer = await sendFileRange('PUT', target, base, headers, range, this.#options.timeout ?? 600_000);
        if (answer.status !== 201) throw answerError('PUT', target, answer);
        return;
      }
      const response = await this.#request('PUT', `/blobs/${sha256}`, { body: bytes });
      if (response.status !== 201) throw await errorOf('PUT', response);
      await response.arrayBuffer();
    }, options);
  }

  async #request(
    method: string,
    path: string,
    extra: { headers?: Record<string, string>; body?: UploadBody; json?: unknown } = {},
  ): Promise<Response> {
    const base = (await this.#options.url()).replace(/\/+$/, '');
    const headers: Record<string, string> = { ...extra.headers };
    const token = this.#options.token();
    if (token) headers.authorization = `Bearer ${token}`;
    let body: RequestInit['body'];
    if (extra.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(extra.json);
    } else if (extra.body) {
      headers['content-type'] = 'application/octet-stream';
      body = extra.body as RequestInit['body'];
    }
    const fetchFn = this.#options.fetch ?? globalThis.fetch;
    const timeout = this.#options.timeout ?? 600_000;
    try {
      return await fetchFn(`${base}${path}`, { method, headers, body, signal: AbortSignal.timeout(timeout) });
    } catch (cause) {
      throw unreachable(method, `${base}${path}`, base, timeout, cause);
    }
  }
}

function chunkSize(options: UploadOptions): number {
  return Math.max(1, options.chunkBytes ?? DEFAULT_CHUNK_BYTES);
}

function bodySize(body: UploadBody): number {
  return body instanceof Blob ? body.size : body.byteLength;
}

function hashOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function errorOf(method: string, response: Response): Promise<LarderError> {
  const text = await response.text().catch(() => '');
  return errorFromAnswer(method, response.url, response.status, text);
}

/**
 * Downloads pictures into a folder: several at a time, each resumed from its `.partial`
 * file after a broken connection or an interrupted run, verified against its SHA-256 before
 * it takes its name; files already there with the right content are not fetched again.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LarderError } from '@larder/protocol';
import { type RetryOptions, withRetries } from '../blobs/retry.js';
import type { DatalakeConnection } from './datalake-connection.js';
import type { Picture, TransferProgress } from './datalake-types.js';

export interface DownloadOptions extends RetryOptions {
  /** Files fetched at once (default 8). */
  concurrency?: number;
  onProgress?: (progress: TransferProgress) => void;
}

export interface DownloadReport {
  files: number;
  /** Files already present and correct, not fetched. */
  skipped: number;
  bytes: number;
}

/** Runs `work` over `items`, `concurrency` at a time. */
export async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
}

/** Local names for pictures: their file names made safe, made unique when two collide. */
export function localNames(pictures: readonly Picture[]): Map<string, string> {
  const names = new Map<string, string>();
  const used = new Set<string>();
  for (const picture of pictures) {
    const safe = safeFileName(picture.filename, picture._id);
    let name = safe;
    if (used.has(name.toLowerCase())) {
      const dot = safe.lastIndexOf('.');
      const [stem, extension] = dot > 0 ? [safe.slice(0, dot), safe.slice(dot)] : [safe, ''];
      name = `${stem}-${picture._id}${extension}`;
    }
    used.add(name.toLowerCase());
    names.set(picture._id, name);
  }
  return names;
}

function safeFileName(name: string | undefined, fallback: string): string {
  const last = (name ?? '').split(/[\\/]/).pop() ?? '';
  const clean = [...last]
    .filter((c) => c.charCodeAt(0) >= 0x20 && c !== ':')
    .join('')
    .trim();
  return clean === '' || clean === '.' || clean === '..' ? fallback : clean;
}

export async function downloadPictures(
  connection: DatalakeConnection,
  pictures: readonly Picture[],
  folder: string,
  versionId: string | undefined,
  options: DownloadOptions = {},
): Promise<DownloadReport> {
  await mkdir(folder, { recursive: true });
  const names = localNames(pictures);
  const total = pictures.length;
  const report: DownloadReport = { files: 0, skipped: 0, bytes: 0 };
  let done = 0;
  await inParallel(pictures, options.concurrency ?? 8, async (picture) => {
    const path = join(folder, names.get(picture._id) as string);
    if (await holds(path, picture.sha256)) report.skipped += 1;
    else {
      // Awaited first, then added: `report.bytes += await …` would add to a stale total
      // while other downloads run.
      const bytes = await downloadOne(connection, picture, path, versionId, options);
      report.bytes += bytes;
    }
    report.files += 1;
    done += 1;
    options.onProgress?.({ done, total, bytes: report.bytes });
  });
  return report;
}

async function downloadOne(
  connection: DatalakeConnection,
  picture: Picture,
  path: string,
  versionId: string | undefined,
  options: RetryOptions,
): Promise<number> {
  const partial = `${path}.partial`;
  const query = versionId ? `?version=${encodeURIComponent(versionId)}` : '';
  let received = (await stat(partial).catch(() => undefined))?.size ?? 0;
  if (received > picture.size) {
    await rm(partial, { force: true });
    received = 0;
  }
  const file = await open(partial, received > 0 ? 'r+' : 'w');
  const fetched = { bytes: 0 };
  try {
    await withRetries(async () => {
      if (received >= picture.size) return;
      const headers: Record<string, string> = received > 0 ? { range: `bytes=${received}-` } : {};
      const response = await connection.request(
        'GET',
        `/assets/${encodeURIComponent(picture._id)}/file${query}`,
        headers,
      );
      if (response.status !== 200 && response.status !== 206) throw await connection.errorOf('GET', response);
      if (response.status === 200 && received > 0) {
        received = 0;
        await file.truncate(0);
      }
      if (!response.body) throw new LarderError('BadGateway', 'The server answered no body');
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        await file.write(chunk, 0, chunk.byteLength, received);
        received += chunk.byteLength;
        fetched.bytes += chunk.byteLength;
      }
    }, options);
    await file.close();
  } catch (error) {
    await file.close().catch(() => {});
    throw error;
  }
  if (!(await holds(partial, picture.sha256))) {
    await rm(partial, { force: true });
    throw new LarderError('BadGateway', `The bytes received for ${picture.filename} do not match its hash; run again`);
  }
  await rename(partial, path);
  return fetched.bytes;
}

/** Whether the file at `path` exists and hashes to `sha256`. */
async function holds(path: string, sha256: string): Promise<boolean> {
  const exists = await stat(path).catch(() => undefined);
  if (!exists?.isFile()) return false;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex') === sha256;
}

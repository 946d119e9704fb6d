/**
 * Downloads pictures into a folder. Files already there with the right content are not
 * fetched again, so an interrupted download restarts where it stopped. Small files of a
 * dataset version come many per request, as tar archives of the files still missing
 * (`POST /dataset-versions/<id>/archive`), each checked against its SHA-256 before it takes
 * its name; large ones come one by one, several at a time, each resumed from its
 * `.partial` file with `Range` after a broken connection, verified the same way.
 */
import { createHash } from 'node:crypto';
import { createReadStream, writeFile as writeFileCallback } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eachAtOnce, LarderError } from '@larder/protocol';
import { type RetryOptions, withRetries } from '../blobs/retry.js';
import type { DatalakeConnection } from './datalake-connection.js';
import type { Picture, TransferProgress } from './datalake-types.js';
import { forEachAtOnce } from './for-each-at-once.js';
import { tarEntries } from './tar-reader.js';

export interface DownloadOptions extends RetryOptions {
  /** Large files fetched at once (default 8). */
  concurrency?: number;
  onProgress?: (progress: TransferProgress) => void;
}

export interface DownloadReport {
  files: number;
  /** Files already present and correct, not fetched. */
  skipped: number;
  bytes: number;
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

/** Files up to this size come in archives (held whole in memory while they arrive). */
const ARCHIVED_BYTES = 1024 * 1024;
/** An archive holds at most this many files, or bytes. */
const ARCHIVE_FILES = 2000;
const ARCHIVE_BYTES = 64 * 1024 * 1024;
/** Archives in flight at once: one is written while the server reads the next. */
const ARCHIVES_AT_ONCE = 2;
/**
 * Files of one archive written at once: each write waits on the disk (open, write, close,
 * rename), so one at a time would leave the disk idle between small files.
 */
const WRITES_AT_ONCE = 16;
/** Local files checked at once on a restart. */
const CHECKS_AT_ONCE = 8;

/** The callback `writeFile`: the promise one opens a `FileHandle` per file, which costs more. */
const writeFile = promisify(writeFileCallback);

export async function downloadPictures(
  connection: DatalakeConnection,
  pictures: readonly Picture[],
  folder: string,
  versionId: string | undefined,
  options: DownloadOptions = {},
): Promise<DownloadReport> {
  await mkdir(folder, { recursive: true });
  const names = localNames(pictures);
  const pathOf = (picture: Picture) => join(folder, names.get(picture._id) as string);
  const total = pictures.length;
  const report: DownloadReport = { files: 0, skipped: 0, bytes: 0 };
  const counted = (bytes: number) => {
    report.files += 1;
    report.bytes += bytes;
    options.onProgress?.({ done: report.files, total, bytes: report.bytes });
  };
  const wanted: Picture[] = [];
  // Only the names the folder lists are checked: a new download costs no look-up per file.
  const present = new Set(await readdir(folder));
  await eachAtOnce(pictures, CHECKS_AT_ONCE, async (picture) => {
    if (present.has(names.get(picture._id) as string) && (await holds(pathOf(picture), picture.sha256))) {
      report.skipped += 1;
      counted(0);
    } else wanted.push(picture);
  });
  const archived = versionId === undefined ? [] : wanted.filter((picture) => picture.size <= ARCHIVED_BYTES);
  const inArchives = new Set(archived);
  const alone = wanted.filter((picture) => !inArchives.has(picture));
  await eachAtOnce(archiveBatches(archived), ARCHIVES_AT_ONCE, async (batch) => {
    const left = new Map(batch.map((picture) => [picture._id, picture]));
    // A broken archive is asked again for the files it had not delivered yet.
    await withRetries(async () => {
      if (left.size === 0) return;
      const files = archiveFiles(connection, versionId as string, [...left.values()]);
      await forEachAtOnce(files, WRITES_AT_ONCE, async ({ picture, bytes }) => {
        await writeVerified(pathOf(picture), picture, bytes);
        left.delete(picture._id);
        counted(bytes.length);
      });
    }, options);
  });
  await eachAtOnce(alone, options.concurrency ?? 8, async (picture) => {
    // Awaited first, then added: other downloads run meanwhile.
    const bytes = await downloadOne(connection, picture, pathOf(picture), versionId, options);
    counted(bytes);
  });
  return report;
}

/** Batches of at most ARCHIVE_FILES files and about ARCHIVE_BYTES. */
function archiveBatches(pictures: readonly Picture[]): Picture[][] {
  const batches: Picture[][] = [];
  let batch: Picture[] = [];
  let bytes = 0;
  for (const picture of pictures) {
    if (batch.length > 0 && (batch.length >= ARCHIVE_FILES || bytes + picture.size > ARCHIVE_BYTES)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(picture);
    bytes += picture.size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** The files of one archive as they arrive, each matched to the picture asked for. */
async function* archiveFiles(
  connection: DatalakeConnection,
  versionId: string,
  pictures: readonly Picture[],
): AsyncGenerator<{ picture: Picture; bytes: Buffer }> {
  const byId = new Map(pictures.map((picture) => [picture._id, picture]));
  const response = await connection.request(
    'POST',
    `/dataset-versions/${encodeURIComponent(versionId)}/archive`,
    { 'content-type': 'application/json' },
    JSON.stringify({ assetIds: pictures.map((picture) => picture._id) }),
  );
  if (response.status !== 200) throw await connection.errorOf('POST', response);
  if (!response.body) throw new LarderError('BadGateway', 'The server answered no body');
  for await (const entry of tarEntries(response.body as AsyncIterable<Uint8Array>)) {
    const picture = byId.get(entry.name);
    if (!picture) throw new LarderError('BadGateway', `The archive holds '${entry.name}', which was not asked for`);
    yield { picture, bytes: entry.bytes };
  }
}

/** Writes `bytes` as `path` once they hash to the picture's SHA-256 (through a `.partial` file). */
async function writeVerified(path: string, picture: Picture, bytes: Buffer): Promise<void> {
  if (createHash('sha256').update(bytes).digest('hex') !== picture.sha256) {
    throw new LarderError('BadGateway', `The bytes received for ${picture.filename} do not match its hash; run again`);
  }
  const partial = `${path}.partial`;
  await writeFile(partial, bytes);
  await rename(partial, path);
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

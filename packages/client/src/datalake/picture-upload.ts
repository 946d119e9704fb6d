/**
 * Uploads many files as pictures, many per request: every file is hashed first (a few read
 * at once), the hashes go to `POST /assets/upload` as JSON a thousand at a time (files the
 * server already holds for you become pictures there and then, so uploading a folder again
 * sends no bytes), and only the files it answers missing go up as multipart forms of many
 * files each, read into memory (at most 32 MiB a form) and encoded in one buffer. Large files go alone through the resumable blob upload. A file the server
 * refuses (too large, a bad name) is reported with its reason; the others are kept.
 */
import { createHash } from 'node:crypto';
import {
  close as closeCallback,
  createReadStream,
  fstat as fstatCallback,
  open as openCallback,
  read as readCallback,
  readFile as readFileCallback,
} from 'node:fs';
import { basename } from 'node:path';
import { promisify } from 'node:util';
import { eachAtOnce, LarderError } from '@larder/protocol';
import type { DatalakeConnection } from './datalake-connection.js';
import type { Picture, TransferProgress } from './datalake-types.js';
import { type FormPart, multipartBody } from './multipart-body.js';

/** The callback forms: the promise ones open a `FileHandle` per file, which costs more. */
const readFile = promisify(readFileCallback);
const open = promisify(openCallback);
const fstat = promisify(fstatCallback);
const read = promisify(readCallback);
const close = promisify(closeCallback);

export interface BatchUploadOptions {
  tags?: string[];
  source?: string;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  onProgress?: (progress: TransferProgress) => void;
}

/** A file the server did not make a picture, and why. */
export interface FailedUpload {
  path: string;
  name: string;
  message: string;
}

interface LocalFile {
  path: string;
  filename: string;
  size: number;
  sha256: string;
  /** The bytes that were hashed, kept for the file's form (see KEPT_BYTES). */
  bytes?: Buffer;
}

interface UploadAnswer {
  data: (Picture | null)[];
  failed: { index: number; filename: string; error: { name: string; message: string } }[];
}

/** Entries per request: the server's limit. */
const FILES_PER_REQUEST = 1000;
/** Bytes per multipart form, so a broken request costs little to send again. */
const FORM_BYTES = 32 * 1024 * 1024;
/** Files above this go alone, in resumable chunks. */
const ALONE_BYTES = 16 * 1024 * 1024;
const HASHING_AT_ONCE = 8;
/** Files of a form read at once (each holds a descriptor until it is read). */
const READING_AT_ONCE = 16;
/**
 * Bytes of small files kept in memory from their hashing until their form is sent, so that
 * a new folder is read once, not twice (each read of a small file is four calls to the
 * thread pool, which cost the client more than the bytes). Past this, files are read again.
 */
const KEPT_BYTES = 64 * 1024 * 1024;

export async function uploadPictures(
  connection: DatalakeConnection,
  paths: readonly string[],
  options: BatchUploadOptions = {},
): Promise<{ pictures: (Picture | undefined)[]; failed: FailedUpload[] }> {
  const files = await hashAll(paths);
  const pictures: (Picture | undefined)[] = new Array(files.length);
  const failed: FailedUpload[] = [];
  const concurrency = options.concurrency ?? 4;
  const fields = { tags: options.tags ?? [], source: options.source ?? 'sdk' };
  let done = 0;
  let bytes = 0;
  const settle = (index: number, picture: Picture, sent: number) => {
    pictures[index] = picture;
    done += 1;
    bytes += sent;
    options.onProgress?.({ done, total: files.length, bytes });
  };

  // 1. Everything by hash: what the server holds for you is made a picture at once.
  const missing: number[] = [];
  const known = slices(
    files.map((_, index) => index),
    FILES_PER_REQUEST,
  );
  await eachAtOnce(known, concurrency, async (indexes) => {
    const body = JSON.stringify({
      files: indexes.map((index) => ({ sha256: files[index]?.sha256, filename: files[index]?.filename })),
      ...fields,
    });
    const answer = await post(connection, body, { 'content-type': 'application/json' });
    answer.data.forEach((picture, at) => {
      const index = indexes[at] as number;
      if (picture) {
        settle(index, picture, 0);
        (files[index] as LocalFile).bytes = undefined;
      }
    });
    for (const failure of answer.failed) {
      const index = indexes[failure.index] as number;
      if (failure.error.name === 'NotFound') missing.push(index);
      else {
        failed.push(failureOf(files[index] as LocalFile, failure.error.message));
        (files[index] as LocalFile).bytes = undefined;
      }
    }
  });

  // 2. The bytes of the others: large files alone, small ones many per form.
  missing.sort((a, b) => a - b);
  const alone = missing.filter((index) => (files[index] as LocalFile).size > ALONE_BYTES);
  for (const index of alone) {
    const file = files[index] as LocalFile;
    await connection.store.blobs.upload(file.path);
    const answer = await post(
      connection,
      JSON.stringify({ files: [{ sha256: file.sha256, filename: file.filename }], ...fields }),
      {
        'content-type': 'application/json',
      },
    );
    const picture = answer.data[0];
    if (picture) settle(index, picture, file.size);
    else failed.push(failureOf(file, answer.failed[0]?.error.message ?? 'not made a picture'));
  }
  const forms = formsOf(
    missing.filter((index) => (files[index] as LocalFile).size <= ALONE_BYTES),
    files,
  );
  await eachAtOnce(forms, concurrency, async (indexes) => {
    const parts: FormPart[] = [
      ...fields.tags.map((tag) => ({ name: 'tags', value: tag })),
      { name: 'source', value: fields.source },
    ];
    const contents = await eachAtOnce(indexes, READING_AT_ONCE, async (index) => {
      const file = files[index] as LocalFile;
      return file.bytes ?? (await readFile(file.path));
    });
    indexes.forEach((index, at) => {
      const file = files[index] as LocalFile;
      parts.push({ name: 'file', filename: file.filename, value: contents[at] as Buffer });
      file.bytes = undefined;
    });
    const { body, contentType } = multipartBody(parts);
    const answer = await post(connection, body, { 'content-type': contentType });
    answer.data.forEach((picture, at) => {
      const index = indexes[at] as number;
      if (picture) settle(index, picture, (files[index] as LocalFile).size);
    });
    for (const failure of answer.failed) {
      failed.push(failureOf(files[indexes[failure.index] as number] as LocalFile, failure.error.message));
    }
  });
  return { pictures, failed };
}

async function post(connection: DatalakeConnection, body: RequestInit['body'], headers: Record<string, string>) {
  const response = await connection.request('POST', '/assets/upload', headers, body);
  if (response.status !== 201) throw await connection.errorOf('POST', response);
  return (await response.json()) as UploadAnswer;
}

function failureOf(file: LocalFile, message: string): FailedUpload {
  return { path: file.path, name: file.filename, message };
}

/** Consecutive slices of at most `size` items. */
function slices<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

/** Forms of at most a thousand files and about 32 MiB. */
function formsOf(indexes: readonly number[], files: readonly LocalFile[]): number[][] {
  const forms: number[][] = [];
  let form: number[] = [];
  let formBytes = 0;
  for (const index of indexes) {
    const { size } = files[index] as LocalFile;
    if (form.length > 0 && (form.length >= FILES_PER_REQUEST || formBytes + size > FORM_BYTES)) {
      forms.push(form);
      form = [];
      formBytes = 0;
    }
    form.push(index);
    formBytes += size;
  }
  if (form.length > 0) forms.push(form);
  return forms;
}

async function hashAll(paths: readonly string[]): Promise<LocalFile[]> {
  const files: LocalFile[] = new Array(paths.length);
  let kept = 0;
  await eachAtOnce(
    paths.map((path, index) => ({ path, index })),
    HASHING_AT_ONCE,
    async ({ path, index }) => {
      const { bytes, ...hashed } = await hashFile(path);
      const keep = bytes !== undefined && kept + bytes.byteLength <= KEPT_BYTES;
      if (keep) kept += bytes.byteLength;
      files[index] = { path, filename: basename(path), ...hashed, ...(keep ? { bytes } : {}) };
    },
  );
  return files;
}

/**
 * A small file is read whole through one descriptor (open, size, read, close: a read stream
 * costs several times more per file than the bytes' own hashing) and its bytes are answered;
 * a large one is streamed.
 */
async function hashFile(path: string): Promise<{ size: number; sha256: string; bytes?: Buffer }> {
  const fd = await open(path, 'r');
  let size: number;
  try {
    size = (await fstat(fd)).size;
    if (size <= ALONE_BYTES) {
      const bytes = await readWhole(fd, size);
      return { size: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex'), bytes };
    }
  } finally {
    await close(fd);
  }
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return { size, sha256: hash.digest('hex') };
}

/** The first `size` bytes of `fd` (fewer if the file is shorter now). */
async function readWhole(fd: number, size: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(size);
  let filled = 0;
  while (filled < size) {
    const { bytesRead } = await read(fd, buffer, filled, size - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === size ? buffer : buffer.subarray(0, filled);
}

/** The error `upload` throws when some files were not made pictures (the others were). */
export function partialUploadError(failed: readonly FailedUpload[], made: number): LarderError {
  const shown = failed
    .slice(0, 3)
    .map((each) => `${each.name}: ${each.message}`)
    .join('; ');
  const more = failed.length > 3 ? ` and ${failed.length - 3} more` : '';
  return new LarderError(
    'BadRequest',
    `${failed.length} of ${failed.length + made} files were not uploaded (${shown}${more}); the other ${made} are pictures now`,
    { data: { failed } },
  );
}

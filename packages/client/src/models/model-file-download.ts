/**
 * Fetches a version's files from the registry's download route (`/model-files/<id>/<path>`,
 * permitted by the version's read access), each verified against its SHA-256 before it is
 * kept. Paths are checked again here: a file is never written outside the target folder,
 * whatever the server answers.
 *
 * A version's files come several at a time, each straight to its place (positional writes
 * of large batches), hashed as its bytes land. A file cut short, by a broken connection or
 * a killed process, is continued from its last byte (`Range` + `If-Range`); one whose bytes
 * do not match its hash is fetched again from its start. A model's named files go through
 * the blob client's `downloadRoute` instead (one file, resumed the same way).
 */
import { createHash, type Hash } from 'node:crypto';
import { type FileHandle, mkdir, open, rm } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { eachAtOnce, LarderError } from '@larder/protocol';
import { type FileHttp, receiveFile } from '../blobs/file-receive.js';
import { type RetryOptions, withRetries } from '../blobs/retry.js';
import type { VersionFile } from './model-records.js';

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
  http: FileHttp,
  versionId: string,
  files: readonly VersionFile[],
  root: string,
  options: VersionDownloadOptions = {},
): Promise<void> {
  await eachAtOnce(files, Math.max(1, options.concurrency ?? 4), async (file) => {
    const target = placeInside(root, file.path);
    await mkdir(dirname(target), { recursive: true });
    await downloadInPlace(http, versionFileRoute(versionId, file.path), file, target, options);
  });
}

/** Downloads `file` of version `versionId` into `root`, verified against its hash. */
export async function downloadVersionFile(
  http: FileHttp,
  versionId: string,
  file: VersionFile,
  root: string,
  retry: RetryOptions = {},
): Promise<void> {
  await downloadVersionFiles(http, versionId, [file], root, { ...retry, concurrency: 1 });
}

/**
 * Writes `route` at `target` (which may hold a start of it from an interrupted pull), hashing
 * the bytes as they land (a start found staged is hashed first, from the file): a mismatch
 * fetches the file again from its start, and after the last attempt removes it.
 */
async function downloadInPlace(
  http: FileHttp,
  route: string,
  file: VersionFile,
  target: string,
  retry: RetryOptions,
): Promise<void> {
  const handle = await open(target, 'a+').then(async (created) => {
    await created.close();
    return open(target, 'r+');
  });
  let received = (await handle.stat()).size;
  let digest = createHash('sha256');
  const startOver = async () => {
    received = 0;
    digest = createHash('sha256');
    await handle.truncate(0);
  };
  try {
    if (received > file.size) await startOver();
    if (received > 0) await hashStart(handle, received, digest);
    await withRetries(async () => {
      if (received < file.size) {
        const headers: Record<string, string> =
          received > 0 ? { range: `bytes=${received}-`, 'if-range': `"${file.sha256}"` } : {};
        const progress = { at: received };
        const placeBody = async (status: number) => {
          if (progress.at > 0 && status !== 206) {
            // The server sent the whole file: start over.
            await startOver();
            progress.at = 0;
          }
        };
        const onWritten = (bytes: Uint8Array) => digest.update(bytes);
        try {
          await receiveFile(http, route, headers, { handle, progress, limit: file.size, placeBody, onWritten });
        } finally {
          received = progress.at;
        }
        if (received < file.size) {
          // Cut short without an error: keep what came, continue from there.
          throw new LarderError('Unavailable', `The download of ${route} stopped before its end`);
        }
      }
      if (digest.digest('hex') !== file.sha256) {
        await startOver();
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

/** Adds the file's first `length` bytes to `digest`, read in 1 MiB pieces. */
async function hashStart(handle: FileHandle, length: number, digest: Hash): Promise<void> {
  const buffer = Buffer.allocUnsafe(Math.min(length, 1024 * 1024));
  for (let at = 0; at < length; ) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, length - at), at);
    if (bytesRead === 0) throw new LarderError('Conflict', 'A staged file shrank while it was read');
    digest.update(buffer.subarray(0, bytesRead));
    at += bytesRead;
  }
}

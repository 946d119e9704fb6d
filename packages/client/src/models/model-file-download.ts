/**
 * Fetches a version's files from the registry's download route (`/model-files/<id>/<path>`,
 * permitted by the version's read access), each verified against its SHA-256 before it is
 * kept. Paths are checked again here: a file is never written outside the target folder,
 * whatever the server answers.
 *
 * A version's files come several at a time, each straight to its place (positional writes
 * of large batches), hashed as its bytes land. A file cut short, by a broken connection or a killed process, is
 * continued from its last byte (`Range` + `If-Range`); one whose bytes do not match its
 * hash is fetched again from its start.
 */
import { createHash, type Hash } from 'node:crypto';
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { eachAtOnce, LarderError } from '@larder/protocol';
import { type FileHttp, httpRequest, receiveFile } from '../blobs/file-receive.js';
import { type RetryOptions, withRetries } from '../blobs/retry.js';
import type { VersionFile } from './model-records.js';

/** The registry's HTTP settings (those of every SDK file transfer). */
export type RegistryHttp = FileHttp;

/** Issues an authenticated request to a registry route; non-2xx answers become LarderErrors. */
export const registryRequest = httpRequest;

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
  await eachAtOnce(files, Math.max(1, options.concurrency ?? 4), async (file) => {
    const target = placeInside(root, file.path);
    await mkdir(dirname(target), { recursive: true });
    await downloadInPlace(http, versionFileRoute(versionId, file.path), file, target, options);
  });
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

/**
 * Writes `route` at `target` (which may hold a start of it from an interrupted pull), hashing
 * the bytes as they land (a start found staged is hashed first, from the file): a mismatch
 * fetches the file again from its start, and after the last attempt removes it.
 */
async function downloadInPlace(
  http: RegistryHttp,
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

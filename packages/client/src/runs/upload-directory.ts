/**
 * `upload(path)`: uploads one local run or artifact directory, or every one found directly
 * inside a parent directory (such as `.larder/runs`), each on its own.
 */
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LarderError } from '@larder/protocol';
import { readArtifactDocument } from '../artifacts/artifact-document.js';
import { type ResourceUploadResult, uploadArtifactDirectory } from '../artifacts/artifact-uploader.js';
import { type RemoteOptions, withRemote } from './data-store-runs-remote.js';
import { loadRun } from './load-run.js';
import { readRunFiles } from './run-document.js';
import type { UploadTarget } from './runs-remote.js';

export interface DirectoryUploadResult {
  kind: 'run' | 'artifact';
  local: string;
  /** What the upload did; absent when it failed. */
  result?: ResourceUploadResult & { pointsSent?: number };
  /** Why this directory was not uploaded (the others of a parent directory still were). */
  error?: Error;
}

/**
 * Uploads the run or artifact directory at `path`, or each one directly inside it. One
 * directory's failure ends the call; in a parent directory each run or artifact is
 * uploaded or reported on its own, and the answer says what happened to every one.
 *
 * @example
 * await upload('.larder/runs/cnn_keras_250102_093015_k3x9q2', { folder: 'cv/mnist' });
 * const results = await upload('.larder/artifacts'); // every artifact in there
 * for (const { local, error } of results) if (error) console.error(local, error.message);
 */
export async function upload(
  path: string,
  options: UploadTarget & RemoteOptions = {},
): Promise<DirectoryUploadResult[]> {
  const { remote, connection, ...target } = options;
  const root = resolve(path);
  return withRemote({ remote, connection }, async (each) => {
    const kind = await kindOf(root);
    if (kind) return [{ kind, local: root, result: await uploadOne(kind, root, each, target) }];
    const entries = await readdir(root, { withFileTypes: true }).catch(() => {
      throw new LarderError('NotFound', `${path} is not a directory`);
    });
    const results: DirectoryUploadResult[] = [];
    for (const entry of entries.filter((one) => one.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
      const local = join(root, entry.name);
      const found = await kindOf(local);
      if (!found) continue;
      try {
        results.push({ kind: found, local, result: await uploadOne(found, local, each, target) });
      } catch (error) {
        results.push({ kind: found, local, error: error instanceof Error ? error : new Error(String(error)) });
      }
    }
    if (results.length === 0) throw new LarderError('NotFound', `${path} holds no run or artifact to upload`);
    return results;
  });
}

async function kindOf(directory: string): Promise<DirectoryUploadResult['kind'] | undefined> {
  if (await readRunFiles(directory).catch(() => undefined)) return 'run';
  if (await readArtifactDocument(directory).catch(() => undefined)) return 'artifact';
  return undefined;
}

async function uploadOne(
  kind: DirectoryUploadResult['kind'],
  directory: string,
  remote: NonNullable<RemoteOptions['remote']>,
  target: UploadTarget,
): Promise<NonNullable<DirectoryUploadResult['result']>> {
  if (kind === 'artifact') return uploadArtifactDirectory(directory, remote, target);
  const run = await loadRun(directory);
  return run.upload({ ...target, remote });
}

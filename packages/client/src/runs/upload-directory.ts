/**
 * `upload(path)`: uploads one local run or artifact directory, or every one found directly
 * inside a parent directory (such as `.larder/runs`).
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
  result: ResourceUploadResult;
}

/**
 * @example
 * await upload('.larder/runs/cnn_keras_250102_093015_k3x9q2', { folder: 'cv/mnist' });
 * await upload('.larder/artifacts'); // every artifact in there
 */
export async function upload(
  path: string,
  options: UploadTarget & RemoteOptions = {},
): Promise<DirectoryUploadResult[]> {
  const { remote, connection, ...target } = options;
  const root = resolve(path);
  return withRemote({ remote, connection }, async (each) => {
    const single = await uploadOne(root, each, target);
    if (single) return [single];
    const entries = await readdir(root, { withFileTypes: true }).catch(() => {
      throw new LarderError('NotFound', `${path} is not a directory`);
    });
    const results: DirectoryUploadResult[] = [];
    for (const entry of entries.filter((one) => one.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
      const result = await uploadOne(join(root, entry.name), each, target);
      if (result) results.push(result);
    }
    if (results.length === 0) throw new LarderError('NotFound', `${path} holds no run or artifact to upload`);
    return results;
  });
}

async function uploadOne(
  directory: string,
  remote: NonNullable<RemoteOptions['remote']>,
  target: UploadTarget,
): Promise<DirectoryUploadResult | undefined> {
  if (await readRunFiles(directory).catch(() => undefined)) {
    const run = await loadRun(directory);
    const result = await run.upload({ ...target, remote });
    return { kind: 'run', local: directory, result };
  }
  if (await readArtifactDocument(directory).catch(() => undefined)) {
    return { kind: 'artifact', local: directory, result: await uploadArtifactDirectory(directory, remote, target) };
  }
  return undefined;
}

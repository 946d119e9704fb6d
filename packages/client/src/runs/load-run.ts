/**
 * Opening a run: a local run directory first, then a server path (brought back whole into
 * a local directory, see server-run-copy.ts). A local run still marked
 * `Running` whose writer process is gone was interrupted: it is marked `Interrupted` (on
 * disk too, with the time of its last point as end time) so it can be uploaded as such.
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LarderError } from '@larder/protocol';
import { BackgroundUpload } from './background-upload.js';
import { DataStoreRunsRemote, type RemoteOptions, withRemote } from './data-store-runs-remote.js';
import { writeJsonFileSync } from './local-json-file.js';
import { readAllSeries } from './metric-log-reader.js';
import { splitRemotePath } from './remote-path.js';
import { Run, type RunState } from './run.js';
import { metricLogPath, RUN_FILE, type RunDocument, readRunFiles } from './run-document.js';
import { RunUploader } from './run-uploader.js';
import type { UploadTarget } from './runs-remote.js';
import { copyServerRun } from './server-run-copy.js';
import { releaseWriterLock, writerState } from './writer-lock.js';

export interface LoadRunOptions extends RemoteOptions, UploadTarget {
  /** Upload the run now and its later changes (params, marks) in the background. */
  autoUpload?: boolean;
}

/**
 * @example
 * const run = await loadRun('.larder/runs/cnn_keras_250102_093015_k3x9q2');
 * console.log(run.status, run.params.toJSON());
 * const remote = await loadRun('/ada@example.org/cv/mnist/cnn_keras');
 */
export async function loadRun(path: string, options: LoadRunOptions = {}): Promise<Run> {
  const local = resolve(path);
  if (await isDirectory(local)) {
    const files = await readRunFiles(local);
    if (files) {
      await settleStatus(local, files.document);
      return withAutoUpload({ directory: local, files }, options);
    }
  }
  const remotePath = splitRemotePath(path);
  const directory =
    remotePath &&
    (await withRemote(options, async (remote) => {
      const record = await remote.findRun(remotePath);
      return record && copyServerRun(record, remote, remotePath.folder);
    }).catch((cause: unknown) => {
      throw new LarderError(
        'NotFound',
        `No local run directory at ${path}, and looking it up on the server failed: ${String(cause)}`,
        { cause },
      );
    }));
  if (!directory)
    throw new LarderError('NotFound', `No run at ${path}: neither a local run directory nor a server path`);
  const files = await readRunFiles(directory);
  await settleStatus(directory, files!.document);
  return withAutoUpload({ directory, files: files! }, options);
}

/** Marks a `Running` run whose writer is gone as `Interrupted`, on disk. */
async function settleStatus(directory: string, document: RunDocument): Promise<void> {
  // A copy of a server run never had a local writer; the server says how it stands.
  if (document.status !== 'Running' || document.copiedFrom) return;
  const state = await writerState(directory);
  if (state === 'alive' || state === 'unknown') return;
  const { series } = await readAllSeries(metricLogPath(directory));
  const last = Math.max(Date.parse(document.startTime), ...series.map((each) => each.times.at(-1) ?? 0));
  document.status = 'Interrupted';
  document.endTime = new Date(last).toISOString();
  writeJsonFileSync(join(directory, RUN_FILE), document);
  releaseWriterLock(directory);
}

async function withAutoUpload(state: RunState, options: LoadRunOptions): Promise<Run> {
  if (options.autoUpload) {
    const remote = options.remote ?? (await DataStoreRunsRemote.connect(options.connection));
    const uploader = new RunUploader(state.directory, remote);
    const { folder, makeFolder, conflictStrategy } = options;
    const background = new BackgroundUpload(uploader, { folder, makeFolder, conflictStrategy });
    state.autoUpload = { remote, ownsRemote: !options.remote, uploader, background };
    background.nudge();
  }
  return new Run(state);
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

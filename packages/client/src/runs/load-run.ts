/**
 * Opening a run: a local run directory first, then a server path. A local run still marked
 * `Running` whose writer process is gone was interrupted: it is marked `Interrupted` (on
 * disk too, with the time of its last point as end time) so it can be uploaded as such.
 */
import { mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LarderError } from '@larder/protocol';
import { BackgroundUpload } from './background-upload.js';
import { DataStoreRunsRemote, type RemoteOptions, withRemote } from './data-store-runs-remote.js';
import { alternativeName, runParentDir } from './local-directories.js';
import { writeJsonFileSync } from './local-json-file.js';
import { readAllSeries } from './metric-log-reader.js';
import { splitRemotePath } from './remote-path.js';
import { Run, type RunState } from './run.js';
import { HPARAMS_FILE, METRICS_FILE, RUN_FILE, type RunDocument, readRunFiles } from './run-document.js';
import { RunUploader } from './run-uploader.js';
import type { RunStatus, UploadTarget } from './runs-remote.js';
import { saveUploadRecord } from './upload-history.js';
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
  const found =
    remotePath &&
    (await withRemote(options, async (remote) => {
      const record = await remote.findRun(remotePath);
      return record && { record, server: remote.server };
    }).catch((cause: unknown) => {
      throw new LarderError(
        'NotFound',
        `No local run directory at ${path}, and looking it up on the server failed: ${String(cause)}`,
        { cause },
      );
    }));
  if (!found) throw new LarderError('NotFound', `No run at ${path}: neither a local run directory nor a server path`);
  const { record, server } = found;
  const text = (value: unknown, fallback: string) => (typeof value === 'string' ? value : fallback);
  const name = text(record.name, remotePath!.name);
  const document: RunDocument = {
    format: 1,
    kind: 'run',
    name,
    altName: text(record.altName, alternativeName(name)),
    labels: Array.isArray(record.labels) ? record.labels.filter((each) => typeof each === 'string') : [],
    description: text(record.description, ''),
    status: text(record.status, 'Complete') as RunStatus,
    startTime: text(record.startTime, new Date().toISOString()),
    endTime: typeof record.endTime === 'string' ? record.endTime : null,
    associations: { inputs: [], outputs: [] },
    upload: { autoUpload: false, folder: remotePath!.folder, makeFolder: false, conflictStrategy: 'new' },
  };
  const directory = resolve(runParentDir(), document.altName);
  await mkdir(directory, { recursive: true });
  const hparams = isRecord(record.hparams) ? record.hparams : {};
  writeJsonFileSync(join(directory, HPARAMS_FILE), hparams);
  writeJsonFileSync(join(directory, RUN_FILE), document);
  await saveUploadRecord(directory, {
    server,
    id: record._id,
    folder: remotePath!.folder,
    uploadedAt: new Date().toISOString(),
    series: [],
  });
  const files = await readRunFiles(directory);
  return withAutoUpload({ directory, files: files! }, options);
}

/** Marks a `Running` run whose writer is gone as `Interrupted`, on disk. */
async function settleStatus(directory: string, document: RunDocument): Promise<void> {
  if (document.status !== 'Running') return;
  const state = await writerState(directory);
  if (state === 'alive' || state === 'unknown') return;
  const { series } = await readAllSeries(join(directory, METRICS_FILE));
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

function isRecord(value: unknown): value is Record<string, never> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

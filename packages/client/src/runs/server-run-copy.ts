/**
 * A run brought back from a server into a local run directory, whole: metadata, platform,
 * git state, associations, the references of its files, every metric point, its console
 * output and its images and histograms, with an
 * upload record saying the server holds all of it, so uploading the copy again sends
 * nothing that did not change. A directory that already holds the run (loading it from
 * the working directory it was created in) is opened as it is, never overwritten.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { JsonValue } from '@larder/protocol';
import { CONSOLE_FILE } from './console-capture/console-log-writer.js';
import { alternativeName, runParentDir } from './local-directories.js';
import { writeJsonFileSync } from './local-json-file.js';
import { copyRunMedia } from './media/run-media-copy.js';
import { numberColumn } from './metric-chunk.js';
import { encodeMetricRecord } from './metric-log-record.js';
import {
  GIT_FILE,
  HPARAMS_FILE,
  METRICS_FILE,
  PLATFORM_FILE,
  RUN_FILE,
  type RunDocument,
  readRunFiles,
} from './run-document.js';
import { metadataPatch } from './run-uploader.js';
import type { Associations, RemoteRecord, ResourceRef, RunStatus, RunsRemote } from './runs-remote.js';
import { saveUploadRecord } from './upload-history.js';

/** Points per record of the metric log written for a copied run. */
const CHUNK_POINTS = 4096;

/**
 * The local directory of the server run `record` (found at `folder`), written unless it
 * already holds that run.
 *
 * @example
 * const directory = await copyServerRun(await remote.findRun(path), remote, path.folder);
 */
export async function copyServerRun(record: RemoteRecord, remote: RunsRemote, folder: string): Promise<string> {
  const name = text(record.name, 'default');
  const altName = text(record.altName, alternativeName(name));
  const directory = resolve(runParentDir(), altName);
  if (await readRunFiles(directory).catch(() => undefined)) return directory;
  const where = text(record.folder, folder);
  const associations = serverAssociations(record.associations);
  const hparams = isRecord(record.hparams) ? (record.hparams as Record<string, JsonValue>) : {};
  const document: RunDocument = {
    format: 1,
    kind: 'run',
    name,
    altName,
    labels: Array.isArray(record.labels) ? record.labels.filter((each) => typeof each === 'string') : [],
    description: text(record.description, ''),
    status: text(record.status, 'Complete') as RunStatus,
    startTime: text(record.startTime, new Date().toISOString()),
    endTime: typeof record.endTime === 'string' ? record.endTime : null,
    associations,
    upload: { autoUpload: false, folder: where, makeFolder: false, conflictStrategy: 'new' },
    ...(isRecord(record.files) ? { files: record.files as Record<string, JsonValue> } : {}),
    copiedFrom: { server: remote.server, id: record._id },
  };
  const series = await remote.readRunMetrics(record._id);
  const consoleLog = (await remote.readRunLogs(record._id)).map((chunk) => `${JSON.stringify(chunk)}\n`).join('');
  await mkdir(directory, { recursive: true });
  const log: Uint8Array[] = [];
  for (const each of series) {
    const hasEpoch = each.epochs.some((epoch) => epoch !== null);
    for (let offset = 0; offset < each.steps.length; offset += CHUNK_POINTS) {
      const end = offset + CHUNK_POINTS;
      const record = encodeMetricRecord([
        {
          type: each.type,
          name: each.name,
          offset,
          steps: Float64Array.from(each.steps.slice(offset, end)),
          values: numberColumn(each.values.slice(offset, end)),
          epochs: hasEpoch ? numberColumn(each.epochs.slice(offset, end)) : null,
          times: Float64Array.from(each.times.slice(offset, end)),
        },
      ]);
      log.push(...record);
    }
  }
  const logBytes = Buffer.concat(log);
  await writeFile(join(directory, METRICS_FILE), logBytes);
  if (consoleLog !== '') await writeFile(join(directory, CONSOLE_FILE), consoleLog);
  const mediaBytes = await copyRunMedia(remote, record._id, directory);
  writeJsonFileSync(join(directory, HPARAMS_FILE), hparams);
  writeJsonFileSync(join(directory, PLATFORM_FILE), (record.platform ?? null) as JsonValue);
  writeJsonFileSync(join(directory, GIT_FILE), (record.git ?? null) as JsonValue);
  await saveUploadRecord(directory, {
    server: remote.server,
    id: record._id,
    folder: where,
    uploadedAt: new Date().toISOString(),
    series: series.map((each) => ({ type: each.type, name: each.name, count: each.steps.length })),
    // What an upload of the unchanged copy would patch: nothing, since the server holds it.
    sentMetadata: JSON.stringify(metadataPatch(document, hparams, associations)),
    logBytes: logBytes.length,
    ...(consoleLog === '' ? {} : { consoleBytes: Buffer.byteLength(consoleLog) }),
    ...(mediaBytes === 0 ? {} : { mediaBytes }),
  });
  // run.json last: a directory without it is not (yet) a run.
  writeJsonFileSync(join(directory, RUN_FILE), document);
  return directory;
}

function serverAssociations(value: unknown): Associations {
  const kinds: readonly string[] = ['model-version', 'dataset-version', 'run', 'artifact'];
  const refs = (list: unknown): ResourceRef[] =>
    Array.isArray(list)
      ? list
          .filter((each) => isRecord(each) && kinds.includes(each.kind as string) && typeof each.id === 'string')
          .map((each) => ({ kind: each.kind, id: each.id }) as ResourceRef)
      : [];
  const { inputs, outputs } = isRecord(value) ? value : {};
  return { inputs: refs(inputs), outputs: refs(outputs) };
}

function text(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

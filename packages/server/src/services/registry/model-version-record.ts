/**
 * What a model version holds: a PMF model, summarised for queries and display (its
 * metadata, build parameters, configuration, checkpoints, initialisation and training
 * state), or an MLflow model directory (`format: "mlflow"`, see `mlflow-version-record.ts`),
 * and every file of its tree by path and SHA-256. The files are the truth a pull
 * writes back; the summary is what the pushing SDK read from the same tree, checked here
 * for shape and for naming only files the version holds.
 */

import {
  type CheckpointReference,
  isValidRecordId,
  type JsonValue,
  LarderError,
  type PmfCheckpointSummary,
  type PmfInitialisationSummary,
  type PmfSummary,
  type PmfTrainingSummary,
  TRAINING_STATUSES,
} from '@larder/protocol';
import { isSha256 } from '../../blobs/blob-store.js';
import { type MlflowVersionFields, parseMlflowFields } from './mlflow-version-record.js';
import { assertFilePaths, MAX_FILES_PER_VERSION } from './registry-names.js';

export interface VersionFile {
  path: string;
  sha256: string;
  size: number;
}

interface VersionCommon {
  modelId: string;
  files: VersionFile[];
  /** Empty folders of the tree (PMF's `data/initialisation` of a model trained from scratch). */
  folders: string[];
  description: string;
  aliases: string[];
  producedBy: string[];
  usedBy: string[];
}

/** A PMF model (the default format). */
export interface PmfVersionBody extends VersionCommon {
  format: 'pmf';
  pmf: PmfSummary;
}

/** An MLflow model directory, registered through the MLflow face (`mlflow-version-record.ts`). */
export interface MlflowVersionBody extends VersionCommon {
  format: 'mlflow';
  mlflow: MlflowVersionFields;
}

/** What a client sends to create a version. */
export type VersionBody = PmfVersionBody | MlflowVersionBody;

const MD5 = /^[a-f0-9]{32}$/;
const PRODUCER_NAME = /^[a-zA-Z][0-9a-zA-Z_]+$/;

/** Checks a create body; throws BadRequest with the first problem found. */
export function parseVersionBody(data: Record<string, unknown>): VersionBody {
  const format = data.format ?? 'pmf';
  if (format !== 'pmf' && format !== 'mlflow') throw bad('format must be "pmf" (the default) or "mlflow"');
  const allowed = new Set(['modelId', 'files', 'folders', 'description', 'aliases', 'producedBy', 'usedBy', 'format']);
  allowed.add(format === 'pmf' ? 'pmf' : 'mlflow');
  for (const key of Object.keys(data)) {
    if (!allowed.has(key)) throw bad(`A ${format} version has no field "${key.slice(0, 60)}"`);
  }
  if (typeof data.modelId !== 'string' || !isValidRecordId(data.modelId)) {
    throw bad('modelId must be the id of the model to add the version to');
  }
  const folders = [...new Set(stringList(data.folders ?? [], 'folders', MAX_FILES_PER_VERSION))];
  // An MLflow version registered from a source outside Larder (s3://…) names no files.
  const files = parseFiles(data.files ?? (format === 'mlflow' ? [] : undefined), folders, format === 'mlflow');
  const common: VersionCommon = {
    modelId: data.modelId,
    files,
    folders,
    description: text(data.description ?? '', 'description', 10_000),
    aliases: stringList(data.aliases ?? [], 'aliases', 64),
    producedBy: runIds(data.producedBy ?? [], 'producedBy'),
    usedBy: runIds(data.usedBy ?? [], 'usedBy'),
  };
  if (format === 'mlflow') return { ...common, format, mlflow: parseMlflowFields(data.mlflow) };
  const pmf = parsePmf(data.pmf);
  assertTreeComplete(pmf, new Set(files.map((file) => file.path)));
  return { ...common, format, pmf };
}

/** A lineage list: distinct record ids of runs. */
export function runIds(value: unknown, field: string): string[] {
  const ids = stringList(value, field, 1000);
  for (const id of ids) {
    if (!isValidRecordId(id)) throw bad(`${field} must hold run ids (got "${String(id).slice(0, 60)}")`);
  }
  return [...new Set(ids)];
}

function parseFiles(value: unknown, folders: readonly string[], mayBeEmpty: boolean): VersionFile[] {
  if (!Array.isArray(value) || (value.length === 0 && !mayBeEmpty)) throw bad('files must list every file of the tree');
  if (value.length > MAX_FILES_PER_VERSION) throw bad(`A version holds at most ${MAX_FILES_PER_VERSION} files`);
  const files = value.map((file, index): VersionFile => {
    const { path, sha256, size } = object(file, `files[${index}]`);
    if (!isSha256(sha256)) throw bad(`files[${index}].sha256 must be 64 lower-case hex digits`);
    if (!Number.isSafeInteger(size) || (size as number) < 0) throw bad(`files[${index}].size must be a byte count`);
    return { path: path as string, sha256, size: size as number };
  });
  assertFilePaths(
    files.map((file) => file.path),
    folders,
  );
  return files;
}

function parsePmf(value: unknown): PmfSummary {
  const pmf = object(value, 'pmf');
  if (pmf.formatVersion !== '1.0.0') throw bad('pmf.formatVersion must be "1.0.0"');
  const producer = object(pmf.producer, 'pmf.producer');
  if (typeof producer.name !== 'string' || !PRODUCER_NAME.test(producer.name)) {
    throw bad('pmf.producer.name must start with a letter and hold only letters, digits and "_"');
  }
  const configuration = object(pmf.configuration, 'pmf.configuration');
  const training = object(pmf.training, 'pmf.training');
  if (!TRAINING_STATUSES.includes(training.status as PmfTrainingSummary['status'])) {
    throw bad(`pmf.training.status must be one of ${TRAINING_STATUSES.join(', ')}`);
  }
  if (!Array.isArray(pmf.checkpoints)) throw bad('pmf.checkpoints must be a list');
  const checkpoints = pmf.checkpoints.map((each, index): PmfCheckpointSummary => {
    const checkpoint = object(each, `pmf.checkpoints[${index}]`);
    return {
      reference: reference(checkpoint.reference, `pmf.checkpoints[${index}].reference`),
      epoch: integer(checkpoint.epoch, `pmf.checkpoints[${index}].epoch`),
      path: text(checkpoint.path, `pmf.checkpoints[${index}].path`, 1024),
      md5: md5(checkpoint.md5, `pmf.checkpoints[${index}].md5`),
    };
  });
  const latest = training.latest ?? null;
  if (latest !== null && !checkpoints.some((checkpoint) => checkpoint.reference === latest)) {
    throw bad('pmf.training.latest must be the reference of one of pmf.checkpoints');
  }
  if (pmf.buildParameters === null || typeof pmf.buildParameters !== 'object' || Array.isArray(pmf.buildParameters)) {
    throw bad('pmf.buildParameters must be an object');
  }
  return {
    formatVersion: '1.0.0',
    producer: {
      name: producer.name,
      versionFormat: text(producer.versionFormat, 'pmf.producer.versionFormat', 64),
      version: text(producer.version, 'pmf.producer.version', 256),
    },
    name: pmf.name === null ? null : text(pmf.name, 'pmf.name', 256),
    id: text(pmf.id, 'pmf.id', 256),
    configuration: {
      path: text(configuration.path, 'pmf.configuration.path', 1024),
      md5: md5(configuration.md5, 'pmf.configuration.md5'),
    },
    buildParameters: pmf.buildParameters as Record<string, JsonValue>,
    initialisation: parseInitialisation(pmf.initialisation ?? null),
    training: {
      status: training.status as PmfTrainingSummary['status'],
      startEpoch: optionalInteger(training.startEpoch, 'pmf.training.startEpoch'),
      startTime: optionalNumber(training.startTime, 'pmf.training.startTime'),
      latestEpoch: optionalInteger(training.latestEpoch, 'pmf.training.latestEpoch'),
      latestTime: optionalNumber(training.latestTime, 'pmf.training.latestTime'),
      endEpoch: optionalInteger(training.endEpoch, 'pmf.training.endEpoch'),
      endTime: optionalNumber(training.endTime, 'pmf.training.endTime'),
      latest: latest === null ? null : reference(latest, 'pmf.training.latest'),
    },
    checkpoints,
  };
}

function parseInitialisation(value: unknown): PmfInitialisationSummary | null {
  if (value === null) return null;
  const init = object(value, 'pmf.initialisation');
  const name = init.name === null || init.name === undefined ? null : text(init.name, 'pmf.initialisation.name', 256);
  if (init.kind === 'pmf') {
    return {
      kind: 'pmf',
      name,
      id: text(init.id, 'pmf.initialisation.id', 256),
      checkpoint: reference(init.checkpoint, 'pmf.initialisation.checkpoint'),
    };
  }
  if (init.kind === 'file') {
    return {
      kind: 'file',
      name,
      path: text(init.path, 'pmf.initialisation.path', 1024),
      md5: md5(init.md5, 'pmf.initialisation.md5'),
    };
  }
  throw bad('pmf.initialisation.kind must be "pmf" or "file"');
}

/** Every file the summary names is one of the version's files, where PMF puts it. */
function assertTreeComplete(pmf: PmfSummary, paths: ReadonlySet<string>): void {
  const need = (path: string, what: string) => {
    if (!paths.has(path)) throw bad(`${what} "${path.slice(0, 200)}" is not among the version's files`);
  };
  need('metadata.yaml', 'The PMF metadata file');
  need('data/build_parameters.yaml', 'The build parameters file');
  need(pmf.configuration.path, 'The configuration file');
  for (const checkpoint of pmf.checkpoints) {
    if (!checkpoint.path.startsWith('data/checkpoints/')) {
      throw bad(`Checkpoint files live under data/checkpoints/ (got "${checkpoint.path.slice(0, 200)}")`);
    }
    need(checkpoint.path, 'The checkpoint file');
  }
  const init = pmf.initialisation;
  if (init?.kind === 'pmf') need('data/initialisation/metadata.yaml', 'The initialisation model');
  if (init?.kind === 'file') {
    if (!init.path.startsWith('data/initialisation/'))
      throw bad('An initialisation file lives under data/initialisation/');
    need(init.path, 'The initialisation file');
  }
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad(`${field} must be an object`);
  return value as Record<string, unknown>;
}

function text(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value.length > max)
    throw bad(`${field} must be a string of at most ${max} characters`);
  return value;
}

function md5(value: unknown, field: string): string {
  if (typeof value !== 'string' || !MD5.test(value)) throw bad(`${field} must be an MD5 hex digest`);
  return value;
}

function integer(value: unknown, field: string): number {
  if (!Number.isSafeInteger(value)) throw bad(`${field} must be an integer`);
  return value as number;
}

function optionalInteger(value: unknown, field: string): number | null {
  return value === null || value === undefined ? null : integer(value, field);
}

function optionalNumber(value: unknown, field: string): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw bad(`${field} must be a number`);
  return value;
}

function reference(value: unknown, field: string): CheckpointReference {
  if (typeof value === 'string' && value.length > 0 && value.length <= 256) return value;
  if (Number.isSafeInteger(value)) return value as number;
  throw bad(`${field} must be a checkpoint reference (a string or an integer)`);
}

function stringList(value: unknown, field: string, max: number): string[] {
  if (!Array.isArray(value) || value.length > max || value.some((each) => typeof each !== 'string')) {
    throw bad(`${field} must be a list of at most ${max} strings`);
  }
  return value as string[];
}

function bad(message: string): LarderError {
  return new LarderError('BadRequest', message);
}

/**
 * What `create` starts an experiment from: a `previous` experiment (its files and data
 * logs are copied), a `dataset` version (attached as a lineage input) and a `source` model
 * from the registry (its files are cloned). Every file copied out of another record is
 * first held by the caller (`blob-holding.ts`), so the server accepts it in the new run.
 */
import { LarderError } from '@larder/protocol';
import type { DataStore } from '../datastore/data-store.js';
import type { DataRecord } from '../datastore/service-types.js';
import { findModelByName, findModelVersion } from '../models/model-lookup.js';
import { parseModelReference } from '../models/model-reference.js';
import { holdBlob } from './blob-holding.js';
import type { DataLog, ExperimentInput, ExperimentRecord, FileAsset } from './experiment-types.js';
import { runFileRoute } from './run-file-route.js';

/**
 * A registry model to clone: a model version (its id, or `"<model name>[:<version|alias>]"`
 * such as `"mnist-cnn"` for its latest or `"mnist-cnn:production"`; or `{ modelVersion }`),
 * a model's named files (`{ model }`, by id or name), or the files themselves (`{ files }`,
 * blobs you hold).
 */
export type ExperimentSource =
  | string
  | { modelVersion: string }
  | { model: string }
  | { files: Record<string, FileAsset> };

/** A dataset version: its id, `"<dataset name>/<version name>"`, or `{ id }`. */
export type ExperimentDataset = string | { id: string };

export interface StartingPoint {
  files: Record<string, FileAsset>;
  dataLogs: Record<string, DataLog>;
  inputs: ExperimentInput[];
}

/** The files and data logs of `previous`, held by the caller. */
export async function fromPrevious(store: DataStore, previous: ExperimentRecord): Promise<StartingPoint> {
  const files: Record<string, FileAsset> = {};
  for (const [name, file] of Object.entries(previous.files ?? {})) {
    if (!file) continue;
    await holdBlob(store, file, runFileRoute(previous._id, name, file.sha256));
    files[name] = file;
  }
  const dataLogs: Record<string, DataLog> = {};
  for (const [name, log] of Object.entries(previous.dataLogs ?? {})) {
    if (log) dataLogs[name] = log;
  }
  return { files, dataLogs, inputs: [{ kind: 'run', id: previous._id }] };
}

interface ModelVersion extends DataRecord {
  files?: { path: string; sha256: string; size: number }[];
}

interface RegistryModel extends DataRecord {
  files?: Record<string, FileAsset | null>;
}

/** The files of a registry model or version, named for an experiment and held by the caller. */
export async function fromSource(store: DataStore, source: ExperimentSource): Promise<StartingPoint> {
  if (typeof source === 'string') return fromModelVersion(store, source);
  if ('modelVersion' in source) return fromModelVersion(store, source.modelVersion);
  if ('model' in source) {
    const model = await modelByIdOrName(store, source.model);
    const files: Record<string, FileAsset> = {};
    for (const [name, file] of Object.entries(model.files ?? {})) {
      if (!file) continue;
      await holdBlob(store, file, `/model-named-files/${encodeURIComponent(model._id)}/${encodeURIComponent(name)}`);
      files[name] = file;
    }
    return { files, dataLogs: {}, inputs: [] };
  }
  if (source.files === null || typeof source.files !== 'object') {
    throw new LarderError('BadRequest', 'A source is a model-version id, { modelVersion }, { model } or { files }');
  }
  return { files: { ...source.files }, dataLogs: {}, inputs: [] };
}

/** A model by id, else by name (as the registry names models). */
async function modelByIdOrName(store: DataStore, reference: string): Promise<RegistryModel> {
  const byId = await readRegistry<RegistryModel>(store, 'models', reference, 'model').catch(notFoundAsUndefined);
  return byId ?? ((await findModelByName(store, reference, () => whoami(store))) as unknown as RegistryModel);
}

/** A version by id, else by `"<model name>[:<version|alias>]"`. */
async function versionByIdOrReference(store: DataStore, reference: string): Promise<ModelVersion> {
  const byId = await readRegistry<ModelVersion>(store, 'model-versions', reference, 'model version').catch(
    notFoundAsUndefined,
  );
  if (byId) return byId;
  const { name, version } = parseModelReference(reference);
  const model = await findModelByName(store, name, () => whoami(store)).catch((error: unknown) => {
    if (!(error instanceof LarderError && error.name === 'NotFound')) throw error;
    throw new LarderError(
      'NotFound',
      `No model version ${reference} that you may read: give a version id, or a model name such as "${name}" or "${name}:production"`,
      { cause: error },
    );
  });
  return (await findModelVersion(store, model, version)).version as unknown as ModelVersion;
}

function notFoundAsUndefined(error: unknown): undefined {
  if (error instanceof LarderError && error.name === 'NotFound') return undefined;
  throw error;
}

async function whoami(store: DataStore): Promise<string | null> {
  const response = await store.request('/whoami');
  if (!response.ok) return null;
  const answer = (await response.json()) as { user?: { _id?: string } | null };
  return answer.user?._id ?? null;
}

async function fromModelVersion(store: DataStore, reference: string): Promise<StartingPoint> {
  const version = await versionByIdOrReference(store, reference);
  const files: Record<string, FileAsset> = {};
  for (const file of version.files ?? []) {
    await holdBlob(
      store,
      file,
      `/model-files/${encodeURIComponent(version._id)}/${file.path.split('/').map(encodeURIComponent).join('/')}`,
    );
    files[uniqueName(assetNameOf(file.path), files)] = {
      sha256: file.sha256,
      size: file.size,
      filename: file.path.slice(file.path.lastIndexOf('/') + 1),
    };
  }
  return { files, dataLogs: {}, inputs: [{ kind: 'model-version', id: version._id }] };
}

async function readRegistry<T>(store: DataStore, service: string, id: string, noun: string): Promise<T> {
  if (typeof id !== 'string' || id === '') throw new LarderError('BadRequest', `Name the ${noun} to clone by its id`);
  try {
    return await store.service<T>(service).get(id);
  } catch (error) {
    if (error instanceof LarderError && error.name === 'NotFound') {
      throw new LarderError(
        'NotFound',
        `No ${noun} ${id} that you may read (or this server has no model registry at /${service})`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** `data/checkpoints/10.h5` → `data-checkpoints-10-h5`: a name a patch can address. */
function assetNameOf(path: string): string {
  const name = path
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 120);
  return name === '' ? 'file' : name;
}

function uniqueName(name: string, taken: Record<string, unknown>): string {
  let candidate = name;
  for (let index = 2; Object.hasOwn(taken, candidate); index += 1) candidate = `${name}-${index}`;
  return candidate;
}

interface DatasetVersion extends DataRecord {
  datasetId?: string;
  name?: string;
}

/** The dataset version to attach, checked to exist and be readable. */
export async function datasetInput(store: DataStore, dataset: ExperimentDataset): Promise<ExperimentInput> {
  const versions = store.service<DatasetVersion>('dataset-versions');
  const reference = typeof dataset === 'string' ? dataset : dataset?.id;
  if (typeof reference !== 'string' || reference === '') {
    throw new LarderError('BadRequest', 'A dataset is a version id or "<dataset name>/<version name>"');
  }
  const slash = reference.indexOf('/');
  if (typeof dataset === 'object' || slash < 0) {
    const version = await versions.get(reference);
    return { kind: 'dataset-version', id: version._id };
  }
  const datasetName = reference.slice(0, slash);
  const versionName = reference.slice(slash + 1);
  const found = await store.service('datasets').find({ query: { name: datasetName, $limit: 2 } });
  if (found.data.length === 0) throw new LarderError('NotFound', `No dataset named "${datasetName}" that you may see`);
  if (found.data.length > 1) {
    throw new LarderError('BadRequest', `Several datasets you may see are named "${datasetName}"; pass the version id`);
  }
  const datasetId = (found.data[0] as DataRecord)._id;
  const [version] = (await versions.find({ query: { datasetId, name: versionName, $limit: 1 } })).data;
  if (!version) throw new LarderError('NotFound', `Dataset "${datasetName}" has no version named "${versionName}"`);
  return { kind: 'dataset-version', id: version._id };
}

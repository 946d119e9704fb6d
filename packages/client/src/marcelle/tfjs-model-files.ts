/**
 * tfjs models as files: `model.json` plus `model.weights.bin`, as tfjs's own `http` and
 * `browserFiles` handlers write them. Save handlers for folders and load handlers for
 * folders and for a Larder (or Marcelle) server's `/tfjs-models/<id>/<file>` route.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IOHandler, ModelArtifacts, SaveResult, WeightSpec } from './tfjs-types.js';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_FILE = 'model.weights.bin';

interface ModelJson {
  modelTopology?: unknown;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  trainingConfig?: unknown;
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
}

function joinedWeights(data: ArrayBuffer | ArrayBuffer[] | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array();
  const parts = Array.isArray(data) ? data : [data];
  const out = new Uint8Array(parts.reduce((total, part) => total + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(new Uint8Array(part), offset);
    offset += part.byteLength;
  }
  return out;
}

/** The two files of a model, as bytes. */
export function modelFiles(artifacts: ModelArtifacts): { json: string; weights: Uint8Array } {
  const manifest: ModelJson = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy ?? 'TensorFlow.js',
    convertedBy: artifacts.convertedBy ?? null,
    ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
    weightsManifest: [{ paths: [`./${WEIGHTS_FILE}`], weights: artifacts.weightSpecs ?? [] }],
  };
  return { json: JSON.stringify(manifest), weights: joinedWeights(artifacts.weightData) };
}

const saved = (): SaveResult => ({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } });

/**
 * A save handler writing `model.json` and `model.weights.bin` into `folder`.
 *
 * @example
 * await model.save(folderSaveHandler('checkpoints/epoch-3'));
 */
export function folderSaveHandler(folder: string): IOHandler {
  return {
    async save(artifacts) {
      const { json, weights } = modelFiles(artifacts);
      await mkdir(folder, { recursive: true });
      await writeFile(join(folder, WEIGHTS_FILE), weights);
      await writeFile(join(folder, MODEL_JSON), json);
      return saved();
    },
  };
}

/** A save handler that keeps the files in memory (for uploads). */
export function memorySaveHandler(): IOHandler & { files(): { json: string; weights: Uint8Array } } {
  let files: { json: string; weights: Uint8Array } | undefined;
  return {
    async save(artifacts) {
      files = modelFiles(artifacts);
      return saved();
    },
    files() {
      if (!files) throw new Error('The model has not been saved yet');
      return files;
    },
  };
}

/** Builds the artifacts from a manifest and a reader of the files it names. */
export async function artifactsFrom(
  manifest: ModelJson,
  readFileNamed: (relativePath: string) => Promise<Uint8Array>,
): Promise<ModelArtifacts> {
  const weightSpecs: WeightSpec[] = [];
  const buffers: Uint8Array[] = [];
  for (const group of manifest.weightsManifest ?? []) {
    weightSpecs.push(...group.weights);
    for (const path of group.paths) buffers.push(await readFileNamed(path.replace(/^\.\//, '')));
  }
  const weightData = joinedWeights(
    buffers.map(
      (buffer) => buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer,
    ),
  );
  return {
    modelTopology: manifest.modelTopology,
    ...(manifest.format !== undefined ? { format: manifest.format } : {}),
    ...(manifest.generatedBy !== undefined ? { generatedBy: manifest.generatedBy } : {}),
    convertedBy: manifest.convertedBy ?? null,
    ...(manifest.trainingConfig !== undefined ? { trainingConfig: manifest.trainingConfig } : {}),
    weightSpecs,
    weightData: weightData.buffer as ArrayBuffer,
  };
}

/** A load handler reading a folder written by `folderSaveHandler` (or tfjs's converters). */
export function folderLoadHandler(folder: string): IOHandler {
  return {
    async load() {
      const manifest = JSON.parse(await readFile(join(folder, MODEL_JSON), 'utf8')) as ModelJson;
      return artifactsFrom(manifest, async (path) => new Uint8Array(await readFile(join(folder, path))));
    },
  };
}

/**
 * A PMF directory as the registry takes it: strictly validated by `@larder/pmf` (every
 * MD5 checked), summarised, and listed file by file. Only plain files and folders are
 * accepted: a symbolic link could make a push publish something outside the model.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { Checkpoint, Model, md5File, PmfError } from '@larder/pmf';
import { type JsonValue, LarderError } from '@larder/protocol';
import type { PmfInitialisationSummary, PmfSummary } from './model-records.js';

export interface LocalFile {
  /** Relative to the model root, with `/` separators. */
  path: string;
  absolute: string;
  size: number;
}

export interface PmfTree {
  summary: PmfSummary;
  files: LocalFile[];
  /** Empty folders, which PMF gives a meaning (`data/initialisation`: trained from scratch). */
  folders: string[];
}

/**
 * Reads the PMF model at `root`; a BadRequest LarderError lists every offence when it is
 * not a valid PMF model.
 *
 * @example
 * const { summary, files } = await readPmfTree('models/resnet');
 */
export async function readPmfTree(root: string, options: PmfReadOptions = {}): Promise<PmfTree> {
  const model = await loadPmf(root, true, options.md5);
  const { files, folders } = await listPmfTree(root);
  return { summary: await summarise(model, root, options.md5), files, folders };
}

export interface PmfReadOptions {
  /** MD5s computed elsewhere (while hashing for the upload), instead of reading each file again. */
  md5?: (absolutePath: string) => Promise<string>;
}

/** Loads the tree, strictly (every MD5) or for its structure only; offences become a BadRequest. */
export async function loadPmf(root: string, strict: boolean, md5?: (path: string) => Promise<string>): Promise<Model> {
  try {
    return await Model.load(root, { strict, ...(md5 ? { md5 } : {}) });
  } catch (error) {
    if (error instanceof PmfError) throw new LarderError('BadRequest', error.message, { cause: error });
    throw error;
  }
}

async function summarise(model: Model, root: string, md5?: (path: string) => Promise<string>): Promise<PmfSummary> {
  const inside = (path: string) => relative(root, path).split(sep).join('/');
  const training = model.training;
  return {
    formatVersion: '1.0.0',
    producer: {
      name: model.producer.name,
      versionFormat: model.producer.version.format,
      version: model.producer.version.value,
    },
    name: model.name,
    id: model.id,
    configuration: {
      path: inside(model.producer.configuration),
      md5: await (md5 ?? md5File)(model.producer.configuration),
    },
    buildParameters: model.buildParameters as Record<string, JsonValue>,
    initialisation: initialisationOf(model, inside),
    training: {
      status: training.status,
      startEpoch: training.startEpoch,
      startTime: training.startTimestamp,
      latestEpoch: training.latestEpoch,
      latestTime: training.latestTimestamp,
      endEpoch: training.endEpoch,
      endTime: training.endTimestamp,
      latest: model.checkpointCollection.latest,
    },
    checkpoints: [...model.checkpointCollection].map(([reference, checkpoint]) => ({
      reference,
      epoch: checkpoint.epoch ?? 0,
      path: inside(checkpoint.path ?? ''),
      md5: checkpoint.hash,
    })),
  };
}

function initialisationOf(model: Model, inside: (path: string) => string): PmfInitialisationSummary | null {
  const init = model.initialisation;
  if (init instanceof Model) {
    return { kind: 'pmf', name: init.name, id: init.id, checkpoint: init.checkpoint ?? '' };
  }
  if (init instanceof Checkpoint) {
    return { kind: 'file', name: String(init.name), path: inside(init.path ?? ''), md5: init.hash };
  }
  return null;
}

/** The plain files (sorted by path) and empty folders of a tree; anything else is refused. */
export async function listPmfTree(root: string): Promise<{ files: LocalFile[]; folders: string[] }> {
  const files: LocalFile[] = [];
  const folders: string[] = [];
  const walk = async (folder: string): Promise<void> => {
    const entries = await readdir(folder, { withFileTypes: true });
    if (entries.length === 0 && folder !== root) folders.push(relative(root, folder).split(sep).join('/'));
    entries.sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0));
    for (const entry of entries) {
      const absolute = join(folder, entry.name);
      const path = relative(root, absolute).split(sep).join('/');
      if (entry.isDirectory()) await walk(absolute);
      else if (entry.isFile()) files.push({ path, absolute, size: (await lstat(absolute)).size });
      else {
        throw new LarderError(
          'BadRequest',
          `${path} in ${root} is not a plain file (a link or device?): a pushed PMF tree holds only files and folders`,
        );
      }
    }
  };
  await walk(root);
  return { files, folders };
}

/** Loading a validated PMF tree into a `Model`. */
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { Checkpoint } from '../components/checkpoint.js';
import { Training } from '../components/training.js';
import { validationErrorFor } from '../errors/pmf-validation-error.js';
import { fileKind } from '../files/file-kind.js';
import { inspectModel } from '../validation/inspect-model.js';
import { readYaml, toPlainValue } from '../yaml/pyyaml-dialect.js';
import { type BuildParameters, Model, restoreOrigin } from './model.js';

export interface LoadModelOptions {
  strict: boolean;
  verbose: boolean;
  /** Whether checkpoint files must be present (`false` for an initialisation model). */
  checkpoints: boolean;
  /** How strict mode computes a file's MD5 (see `LoadOptions.md5`). */
  md5?: (absolutePath: string) => Promise<string>;
}

/** Validates the tree at `root` and builds its model; throws a validation error listing every offence. */
export async function loadModel(root: string, options: LoadModelOptions): Promise<Model> {
  const { metadata, offences } = await inspectModel(root, options);
  if (!metadata) throw validationErrorFor(root, offences, options.verbose);

  const { format, model: record } = metadata;
  const model = new Model({
    producerName: format.producer.name,
    producerVersionFormat: format.producer.version.format,
    producerVersion: format.producer.version.value,
    name: record.name,
    id: record.id,
    configuration: join(root, record.configuration.path),
    buildParameters: await readBuildParameters(root),
  });

  for (const [reference, checkpoint] of record.training.checkpoints) {
    const path = join(root, checkpoint.path);
    const present = (await fileKind(path)) === 'file';
    model.addCheckpoint(
      new Checkpoint({ name: reference, path: present ? path : null, epoch: checkpoint.epoch, hash: checkpoint.hash }),
    );
  }
  model.training = Training.fromTimeline(record.training);

  const initialisation = record.initialisation;
  let loadedInitialisation: Model | Checkpoint | null = null;
  if (initialisation && 'pmf' in initialisation) {
    loadedInitialisation = await loadModel(join(root, 'data', 'initialisation'), { ...options, checkpoints: false });
    loadedInitialisation[restoreOrigin]({ checkpoint: initialisation.pmf.checkpoint });
  } else if (initialisation) {
    const { name, path, hash } = initialisation.file;
    loadedInitialisation = new Checkpoint({ name: name ?? basename(path), path: join(root, path), hash });
  }
  model[restoreOrigin]({ path: resolve(root), initialisation: loadedInitialisation });
  return model;
}

async function readBuildParameters(root: string): Promise<BuildParameters> {
  const reading = readYaml(await readFile(join(root, 'data', 'build_parameters.yaml'), 'utf8'));
  // Validation has already refused unreadable files and non-mappings.
  return reading.ok && reading.value !== null ? (toPlainValue(reading.value) as BuildParameters) : {};
}

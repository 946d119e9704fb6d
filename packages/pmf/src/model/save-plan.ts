/**
 * The first half of saving: everything a save will write, worked out and checked before
 * the destination is touched, so a refused save leaves it as it was.
 */
import { basename, join } from 'node:path';
import { Checkpoint } from '../components/checkpoint.js';
import { PmfModelError } from '../errors/pmf-error.js';
import { PmfMetadataValidationError } from '../errors/pmf-validation-error.js';
import { fileKind } from '../files/file-kind.js';
import { md5File } from '../files/md5.js';
import {
  type CheckpointRecord,
  type CheckpointReference,
  type InitialisationRecord,
  PMF_FORMAT_VERSION,
  type PmfMetadata,
} from '../metadata/pmf-metadata.js';
import { describeReference } from '../metadata/training-rules.js';
import { validateMetadata } from '../metadata/validate-metadata.js';
import { metadataToYaml } from '../metadata/write-metadata.js';
import { readYaml, writeYaml } from '../yaml/pyyaml-dialect.js';
import type { Model } from './model.js';

/** A file to copy into the tree; `target` is relative to the plan's root. */
export interface PlannedCopy {
  source: string;
  target: string;
  hash: string;
}

export type PlannedInitialisation =
  | { kind: 'none' }
  | { kind: 'file'; fileName: string }
  | { kind: 'pmf'; id: string; plan: SavePlan };

export interface SavePlan {
  root: string;
  metadataYaml: string;
  buildParametersYaml: string;
  copies: PlannedCopy[];
  initialisation: PlannedInitialisation;
}

const RESERVED_ROOT_NAMES = new Set(['metadata.yaml', 'data']);

/**
 * Plans saving `model` at `root`. `withCheckpoints` is `false` for an initialisation model,
 * whose checkpoints are recorded (path `.`) but not copied.
 */
export async function planSave(model: Model, root: string, withCheckpoints: boolean): Promise<SavePlan> {
  const configuration = model.producer.configuration;
  await requireFile(configuration, 'Configuration file');
  const configurationName = basename(configuration);
  if (RESERVED_ROOT_NAMES.has(configurationName)) {
    throw new PmfModelError('invalid-producer', `The configuration file cannot be named "${configurationName}"`);
  }
  const configurationHash = await md5File(configuration);
  const copies: PlannedCopy[] = [{ source: configuration, target: configurationName, hash: configurationHash }];

  const checkpoints = new Map<CheckpointReference, CheckpointRecord>();
  const fileNames = new Map<string, CheckpointReference>();
  for (const [reference, checkpoint] of model.checkpointCollection) {
    const epoch = checkpoint.epoch as number;
    if (!withCheckpoints) {
      checkpoints.set(reference, { epoch, path: '.', hash: checkpoint.hash });
      continue;
    }
    const name = describeReference(reference);
    if (checkpoint.path === null) {
      throw new PmfModelError('invalid-checkpoint', `Checkpoint ${name} has no file to save`);
    }
    await requireFile(checkpoint.path, `Checkpoint ${name} file`);
    const fileName = basename(checkpoint.path);
    const clash = fileNames.get(fileName);
    if (clash !== undefined) {
      throw new PmfModelError(
        'invalid-checkpoint',
        `Checkpoints ${describeReference(clash)} and ${name} both have a file named ${fileName}; rename one`,
      );
    }
    fileNames.set(fileName, reference);
    const target = `data/checkpoints/${fileName}`;
    copies.push({ source: checkpoint.path, target, hash: checkpoint.hash });
    checkpoints.set(reference, { epoch, path: target, hash: checkpoint.hash });
  }

  const { record: initialisationRecord, planned } = await planInitialisation(model, root, copies);
  const metadata: PmfMetadata = {
    format: {
      version: PMF_FORMAT_VERSION,
      producer: {
        name: model.producer.name,
        version: { format: model.producer.version.format, value: model.producer.version.value },
      },
    },
    model: {
      name: model.name,
      id: model.id,
      configuration: { path: configurationName, hash: configurationHash },
      initialisation: initialisationRecord,
      training: { ...model.training.toTimeline(), latest: model.checkpointCollection.latest, checkpoints },
    },
  };
  const metadataYaml = metadataToYaml(metadata);
  // Read back what will be written, so a model that breaks a PMF rule is never saved.
  const reading = readYaml(metadataYaml);
  const { offences } = validateMetadata(reading.ok ? reading.value : null);
  if (offences.length > 0) throw new PmfMetadataValidationError(`Model ${model.id}`, offences, true);

  return {
    root,
    metadataYaml,
    buildParametersYaml: buildParametersYaml(model),
    copies,
    initialisation: planned,
  };
}

async function planInitialisation(
  model: Model,
  root: string,
  copies: PlannedCopy[],
): Promise<{ record: InitialisationRecord | null; planned: PlannedInitialisation }> {
  const initialisation = model.initialisation;
  if (initialisation === null) return { record: null, planned: { kind: 'none' } };
  if (initialisation instanceof Checkpoint) {
    if (initialisation.path === null) {
      throw new PmfModelError('invalid-initialisation', 'The initialisation weight file is unknown');
    }
    await requireFile(initialisation.path, 'Initialisation file');
    const fileName = basename(initialisation.path);
    const path = `data/initialisation/${fileName}`;
    copies.push({ source: initialisation.path, target: path, hash: initialisation.hash });
    return {
      record: { file: { name: String(initialisation.name), path, hash: initialisation.hash } },
      planned: { kind: 'file', fileName },
    };
  }
  const checkpoint = initialisation.checkpoint;
  if (checkpoint === null || !initialisation.checkpointCollection.has(checkpoint)) {
    throw new PmfModelError(
      'invalid-initialisation',
      `The initialisation model ${initialisation.id} has no registered checkpoint reference; use registerInitialisation`,
    );
  }
  const plan = await planSave(initialisation, join(root, 'data', 'initialisation'), false);
  return {
    record: { pmf: { name: initialisation.name, id: initialisation.id, checkpoint, path: 'data/initialisation' } },
    planned: { kind: 'pmf', id: initialisation.id, plan },
  };
}

function buildParametersYaml(model: Model): string {
  const parameters = model.buildParameters;
  if (parameters === null || typeof parameters !== 'object' || Array.isArray(parameters)) {
    throw new PmfModelError('invalid-build-parameters', 'Build parameters must be an object');
  }
  return writeYaml(parameters);
}

async function requireFile(path: string, what: string): Promise<void> {
  if ((await fileKind(path)) !== 'file')
    throw new PmfModelError('not-found', `${what} ${path} does not exist or is not a file`);
}

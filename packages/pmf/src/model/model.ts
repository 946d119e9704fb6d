/**
 * The PMF model: its producer, identity, build parameters, training state, checkpoints and
 * initialisation, with loading and saving of PMF trees.
 */

import type { Checkpoint } from '../components/checkpoint.js';
import { CheckpointCollection } from '../components/checkpoint-collection.js';
import { Producer } from '../components/producer.js';
import { Training } from '../components/training.js';
import { type CheckpointReference, PMF_FORMAT_VERSION } from '../metadata/pmf-metadata.js';
import { initialisation } from './initialisation.js';
import { loadModel } from './load-model.js';
import { type SaveReport, saveModel } from './save-model.js';

/** Values needed to rebuild the model from its weights; written to `data/build_parameters.yaml`. */
export type BuildParameters = Record<string, unknown>;

export interface ModelInit {
  /** The package that produced the model, e.g. `my_package` (letters, digits, `_`; starts with a letter). */
  producerName: string;
  /** The registered version format of `producerVersion`: `py_pa` (PEP 440) or `semver`. */
  producerVersionFormat: string;
  producerVersion: string;
  /** The model name, or `null`. */
  name: string | null;
  /** The model's unique id. */
  id: string;
  /** Path of the producer's configuration file (copied to the model root on save). */
  configuration: string;
  buildParameters?: BuildParameters;
}

export interface SaveOptions {
  /**
   * Save into a non-empty directory that is not a PMF model, or over a PMF model with the
   * same id. Saving over a model with a different id always fails. Default `false`.
   */
  force?: boolean;
}

export interface LoadOptions {
  /** Also check the MD5 of every tracked file. Default `true`. */
  strict?: boolean;
  /** Include the offending values in error messages. Default `false`. */
  verbose?: boolean;
  /**
   * Computes the MD5 of a file the strict check compares (default: read it here). A caller
   * that reads the files anyway, such as an upload hashing on worker threads, hands its
   * digests over so each file is read once.
   */
  md5?: (absolutePath: string) => Promise<string>;
}

/** Internal: lets the loader set what a model remembers about where it came from. */
export const restoreOrigin = Symbol('restoreOrigin');

export interface ModelOrigin {
  path?: string;
  initialisation?: Model | Checkpoint | null;
  checkpoint?: CheckpointReference | null;
}

/**
 * A PMF model.
 *
 * @example
 * const model = new Model({
 *   producerName: 'my_package',
 *   producerVersionFormat: 'py_pa',
 *   producerVersion: '1.2.0',
 *   name: 'resnet',
 *   id: 'b3f0c1',
 *   configuration: 'configs/train.yaml',
 *   buildParameters: { layers: 50 },
 * });
 * model.registerTrainingStart(0);
 * model.addCheckpoint(await Checkpoint.fromFile('1', 'runs/weights-1.h5', 1));
 * model.registerEpoch(1);
 * model.registerTrainingEnd(true);
 * await model.save('models/resnet');
 * const again = await Model.load('models/resnet');
 */
export class Model {
  /** The PMF format version this class writes. */
  static readonly formatVersion = PMF_FORMAT_VERSION;

  name: string | null;
  id: string;
  buildParameters: BuildParameters;
  readonly producer: Producer;
  training = new Training();
  checkpointCollection = new CheckpointCollection();
  #initialisation: Model | Checkpoint | null = null;
  #path: string | null = null;
  #checkpoint: CheckpointReference | null = null;

  /** Throws `PmfModelError` when the producer is invalid or the configuration file is missing. */
  constructor(init: ModelInit) {
    this.producer = new Producer(
      init.producerName,
      init.producerVersionFormat,
      init.producerVersion,
      init.configuration,
    );
    this.name = init.name;
    this.id = init.id;
    this.buildParameters = init.buildParameters ?? {};
  }

  /** The model this one was initialised from (a PMF model or a weight file), or `null`. */
  get initialisation(): Model | Checkpoint | null {
    return this.#initialisation;
  }

  /** The directory the model was loaded from, or `null` when built in memory. */
  get path(): string | null {
    return this.#path;
  }

  /** For a model used as an initialisation, the reference of the checkpoint used; `null` otherwise. */
  get checkpoint(): CheckpointReference | null {
    return this.#checkpoint;
  }

  addCheckpoint(...checkpoints: Checkpoint[]): void {
    for (const checkpoint of checkpoints) this.checkpointCollection.add(checkpoint);
  }

  registerTrainingStart(epoch: number): void {
    this.training.start(epoch);
  }

  /** Records `epoch` (default: latest + 1) as the latest epoch. */
  registerEpoch(epoch?: number): void {
    this.training.registerEpoch(epoch);
  }

  /** Ends the training: `finished` when `success`, `failed` otherwise. */
  registerTrainingEnd(success: boolean): void {
    if (success) this.training.end();
    else this.training.interrupt();
  }

  /**
   * Sets the initialisation from a PMF model directory (give the checkpoint reference used)
   * or a weight file (give it a name). See `initialisation()`.
   */
  async registerInitialisation(path: string, checkpointReference?: CheckpointReference, name?: string): Promise<void> {
    this.#initialisation = await initialisation(path, checkpointReference, name);
  }

  /**
   * Writes the model as a PMF tree at `path`, copying only files whose content changed.
   * Everything is checked before anything is written.
   */
  save(path: string, options: SaveOptions = {}): Promise<SaveReport> {
    return saveModel(this, path, options.force ?? false);
  }

  /**
   * Loads and validates the PMF model at `path`; throws `PmfTreeValidationError` or
   * `PmfMetadataValidationError` listing every offence.
   */
  static load(path: string, options: LoadOptions = {}): Promise<Model> {
    return loadModel(path, {
      strict: options.strict ?? true,
      verbose: options.verbose ?? false,
      checkpoints: true,
      ...(options.md5 ? { md5: options.md5 } : {}),
    });
  }

  [restoreOrigin](origin: ModelOrigin): void {
    if (origin.path !== undefined) this.#path = origin.path;
    if (origin.initialisation !== undefined) this.#initialisation = origin.initialisation;
    if (origin.checkpoint !== undefined) this.#checkpoint = origin.checkpoint;
  }
}

/**
 * The experiments of one Picsellia project, which Larder keeps as runs in one folder:
 * `list`, `create` (from a previous experiment, a dataset version, a registry model),
 * `get`, `update`, `delete`, `deleteAll` and `checkout`. Names are unique per project.
 */
import { LarderError } from '@larder/protocol';
import type { DataStore } from '../datastore/data-store.js';
import type { Service } from '../datastore/service.js';
import { Experiment } from './experiment.js';
import type { CheckoutOptions, CheckoutResult } from './experiment-checkout.js';
import { assertExperimentDescription, assertExperimentName } from './experiment-names.js';
import {
  datasetInput,
  type ExperimentDataset,
  type ExperimentSource,
  fromPrevious,
  fromSource,
  type StartingPoint,
} from './experiment-sources.js';
import type { ExperimentChanges, ExperimentInput, ExperimentRecord } from './experiment-types.js';
import { resolveProjectFolder } from './project-folder.js';

export interface CreateExperimentOptions {
  /** At most 60 characters, unique in the project. */
  name: string;
  /** At most 1000 characters. */
  description?: string;
  /** An experiment of this project (by name, or its `Experiment`) whose files and data logs are copied. */
  previous?: string | Experiment;
  /** The dataset version trained on, recorded as a lineage input. */
  dataset?: ExperimentDataset;
  /** A registry model whose files are cloned into the experiment. */
  source?: ExperimentSource;
  status?: string;
}

/**
 * @example
 * const store = new DataStore({ url: 'http://127.0.0.1:3030', token });
 * const experiments = new Experiments(store, 'mnist');
 * const experiment = await experiments.create({ name: 'cnn-1', dataset: 'digits/v2', source: versionId });
 * await experiment.log('loss', [0.9, 0.6, 0.4], 'line');
 * await experiments.checkout('cnn-1', { tree: true, withFiles: true, directory: './work' });
 */
export class Experiments {
  readonly #store: DataStore;
  readonly #runs: Service<ExperimentRecord>;
  readonly #project: string;
  #folder: Promise<string> | undefined;

  /** `project` is a folder: relative to your home (made on first use) or absolute (`/vision-lab/mnist`). */
  constructor(store: DataStore, project: string) {
    this.#store = store;
    this.#runs = store.service<ExperimentRecord>('runs');
    this.#project = project;
  }

  /** The project's absolute folder path. */
  folder(): Promise<string> {
    this.#folder ??= resolveProjectFolder(this.#store, this.#project).catch((error: unknown) => {
      this.#folder = undefined;
      throw error;
    });
    return this.#folder;
  }

  /** Every experiment of the project, oldest first. */
  async list(): Promise<ExperimentRecord[]> {
    const folder = await this.folder();
    const found: ExperimentRecord[] = [];
    for await (const record of this.#runs.items({ folder, $sort: { createdAt: 1 } })) found.push(record);
    return found;
  }

  /** The experiment named `name` in this project; NotFound when there is none you may see. */
  async get(name: string): Promise<Experiment> {
    const folder = await this.folder();
    const [record] = (await this.#runs.find({ query: { folder, name, $limit: 1 } })).data;
    if (!record) throw new LarderError('NotFound', `No experiment named "${name}" in ${folder}`);
    return new Experiment(this.#store, record);
  }

  /** The experiment with this run id, wherever it is (NotFound if you may not see it). */
  async open(id: string): Promise<Experiment> {
    return new Experiment(this.#store, await this.#runs.get(id));
  }

  /**
   * Creates an experiment; a name already used in the project is a Conflict.
   *
   * @example
   * const next = await experiments.create({ name: 'cnn-2', previous: 'cnn-1', description: 'more epochs' });
   */
  async create(options: CreateExperimentOptions): Promise<Experiment> {
    assertExperimentName(options.name);
    const description = options.description ?? '';
    assertExperimentDescription(description);
    const folder = await this.folder();
    const parts: StartingPoint[] = [];
    if (options.previous !== undefined) {
      const previous =
        options.previous instanceof Experiment
          ? await options.previous.refresh()
          : (await this.get(options.previous)).record;
      parts.push(await fromPrevious(this.#store, previous));
    }
    if (options.source !== undefined) parts.push(await fromSource(this.#store, options.source));
    const inputs: ExperimentInput[] = parts.flatMap((part) => part.inputs);
    if (options.dataset !== undefined) inputs.push(await datasetInput(this.#store, options.dataset));
    const record = await this.#runs.create({
      name: options.name,
      description,
      folder,
      makeFolder: true,
      conflictStrategy: 'error',
      files: Object.assign({}, ...parts.map((part) => part.files)),
      dataLogs: Object.assign({}, ...parts.map((part) => part.dataLogs)),
      associations: { inputs, outputs: [] },
      ...(options.status === undefined ? {} : { status: options.status }),
    } as Partial<ExperimentRecord>);
    return new Experiment(this.#store, record);
  }

  /** Renames, describes or sets the status of the experiment `name`. */
  async update(name: string, changes: ExperimentChanges): Promise<ExperimentRecord> {
    return (await this.get(name)).update(changes);
  }

  async delete(name: string): Promise<void> {
    await (await this.get(name)).delete();
  }

  /** Removes every experiment of the project you may write; answers how many. */
  async deleteAll(): Promise<number> {
    const folder = await this.folder();
    const removed = await this.#runs.remove(null, { query: { folder } });
    return removed.length;
  }

  /**
   * Lays the experiment out in `<directory>/<name>/` for training (see `CheckoutOptions`).
   *
   * @example
   * const { root, files } = await experiments.checkout('cnn-1', { tree: true, withFiles: true, withData: true });
   */
  async checkout(name: string, options: CheckoutOptions = {}): Promise<CheckoutResult> {
    return (await this.get(name)).checkout(options);
  }
}

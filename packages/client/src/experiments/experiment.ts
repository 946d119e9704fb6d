/**
 * One experiment (a Larder run): its file assets (`store`, `listFiles`, `getFile`…) and
 * data logs (`log`, `listData`, `getData`…), Picsellia's experiment API in TypeScript.
 * Changes go to the server as patches of single entries (`files.<name>`,
 * `dataLogs.<name>`), so two processes writing different entries never undo each other;
 * the writes of one `Experiment` object run one at a time, so its line appends keep
 * every point.
 */
import { mkdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { LarderError } from '@larder/protocol';
import { zipToTemporaryFile } from '../archives/zip-archive.js';
import type { CocoDocument } from '../datalake/datalake-types.js';
import type { DataStore } from '../datastore/data-store.js';
import type { Service } from '../datastore/service.js';
import { localFilename } from './checkout-paths.js';
import { type CheckoutOptions, type CheckoutResult, checkoutExperiment } from './experiment-checkout.js';
import { assertAssetName, assertExperimentDescription, assertExperimentName } from './experiment-names.js';
import type {
  DataLog,
  DataLogShapes,
  DataLogType,
  ExperimentChanges,
  ExperimentData,
  ExperimentFile,
  ExperimentRecord,
  FileAsset,
  LogInputs,
} from './experiment-types.js';
import { appendToLine } from './line-log.js';
import { runFileRoute } from './run-file-route.js';

export interface StoreOptions {
  /** Pack the file or directory into one zip first (a directory needs it). */
  zip?: boolean;
}

export interface FileChanges {
  /** A new name for the file asset. */
  name?: string;
  /** The name it downloads under. */
  filename?: string;
}

export interface DataChanges<T extends DataLogType = DataLogType> {
  /** A new name for the data log. */
  name?: string;
  /** New data, replacing the old (with `type`, of another type). */
  data?: DataLogShapes[T];
  type?: T;
}

export class Experiment {
  readonly #store: DataStore;
  readonly #runs: Service<ExperimentRecord>;
  #record: ExperimentRecord;
  #writes: Promise<unknown> = Promise.resolve();
  /** The annotations {@link dlAnnotations} last downloaded (Picsellia's `dict_annotations`). */
  dictAnnotations: CocoDocument | undefined;

  constructor(store: DataStore, record: ExperimentRecord) {
    this.#store = store;
    this.#runs = store.service<ExperimentRecord>('runs');
    this.#record = record;
  }

  get id(): string {
    return this.#record._id;
  }

  get name(): string {
    return this.#record.name;
  }

  /** The record as last read or written by this object. */
  get record(): ExperimentRecord {
    return this.#record;
  }

  /** Reads the record again from the server. */
  async refresh(): Promise<ExperimentRecord> {
    this.#record = await this.#runs.get(this.id);
    return this.#record;
  }

  /**
   * Renames, describes or sets the status of the experiment.
   *
   * @example
   * await experiment.update({ status: 'Complete', description: 'lr 0.01, 30 epochs' });
   */
  async update(changes: ExperimentChanges): Promise<ExperimentRecord> {
    if (changes.name !== undefined) assertExperimentName(changes.name);
    if (changes.description !== undefined) assertExperimentDescription(changes.description);
    const patch: Record<string, unknown> = {};
    for (const key of ['name', 'description', 'status'] as const) {
      if (changes[key] !== undefined) patch[key] = changes[key];
    }
    return this.#patch(patch);
  }

  /** Removes the experiment with its files and data logs. */
  async delete(): Promise<void> {
    await this.#serial(() => this.#runs.remove(this.id));
  }

  /**
   * Uploads a file (or, with `zip`, a file or directory packed into one zip) as the file
   * asset `name`, replacing one of that name.
   *
   * @example
   * await experiment.store('config', './pipeline.config');
   * await experiment.store('model-latest', './saved_model', { zip: true });
   */
  async store(name: string, path: string, options: StoreOptions = {}): Promise<ExperimentFile> {
    assertAssetName(name, 'file');
    const absolute = resolve(path);
    const info = await stat(absolute).catch((cause: unknown) => {
      throw new LarderError('NotFound', `Nothing to store at ${absolute}`, { cause });
    });
    if (info.isDirectory() && !options.zip) {
      throw new LarderError('BadRequest', `${absolute} is a directory; store it with { zip: true }`);
    }
    const zipped = options.zip ? await zipToTemporaryFile(absolute) : undefined;
    try {
      const blob = await this.#store.blobs.upload(zipped?.path ?? absolute);
      const file: FileAsset = { ...blob, filename: zipped?.filename ?? basename(absolute) };
      await this.#patch({ [`files.${name}`]: file });
      return { name, ...file };
    } finally {
      await zipped?.remove();
    }
  }

  /** Every file asset, by name. */
  async listFiles(): Promise<ExperimentFile[]> {
    const record = await this.refresh();
    return Object.entries(record.files ?? {})
      .filter((entry): entry is [string, FileAsset] => entry[1] !== null)
      .map(([name, file]) => ({ name, ...file }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * The file asset `name`; with `path`, also downloads it there (into it, under its own
   * filename, when `path` is a directory).
   *
   * @example
   * const config = await experiment.getFile('config', './work');
   */
  async getFile(name: string, path?: string): Promise<ExperimentFile & { path?: string }> {
    const file = await this.#file(name);
    if (path === undefined) return { name, ...file };
    let target = resolve(path);
    const existing = await stat(target).catch(() => undefined);
    if (existing?.isDirectory()) target = join(target, localFilename(file.filename, name));
    await mkdir(dirname(target), { recursive: true });
    await this.#store.blobs.downloadRoute(runFileRoute(this.id, name, file.sha256), target, { sha256: file.sha256 });
    return { name, ...file, path: target };
  }

  async deleteFile(name: string): Promise<void> {
    await this.#file(name);
    await this.#patch({ [`files.${name}`]: null });
  }

  /** Removes every file asset. */
  async deleteAllFiles(): Promise<void> {
    await this.#patch({ files: {} });
  }

  /** Renames a file asset, or changes the name it downloads under. */
  async updateFile(name: string, changes: FileChanges): Promise<ExperimentFile> {
    const file = await this.#file(name);
    const newName = changes.name ?? name;
    assertAssetName(newName, 'file');
    if (changes.filename !== undefined && (typeof changes.filename !== 'string' || changes.filename === '')) {
      throw new LarderError('BadRequest', 'A filename is a non-empty string');
    }
    const updated: FileAsset = { ...file, filename: changes.filename ?? file.filename };
    if (newName !== name && holds(this.#record.files, newName)) {
      throw new LarderError('Conflict', `This experiment already has a file named "${newName}"; delete it first`);
    }
    await this.#patch(
      newName === name ? { [`files.${name}`]: updated } : { [`files.${name}`]: null, [`files.${newName}`]: updated },
    );
    return { name: newName, ...updated };
  }

  /**
   * Logs data under `name`. A `line` appends to the points logged before; other types
   * replace what `name` held. The server checks the data against its type; NaN and
   * infinities travel as JSON `null`, which a line keeps as a gap.
   *
   * @example
   * await experiment.log('loss', 0.42, 'line');
   * await experiment.log('labelmap', { '0': 'cat', '1': 'dog' }, 'labelmap');
   * await experiment.log('confusion', { categories: ['cat', 'dog'], values: [[5, 1], [2, 7]] }, 'heatmap');
   */
  async log<T extends DataLogType>(name: string, data: LogInputs[T], type: T): Promise<ExperimentData> {
    assertAssetName(name, 'data log');
    return this.#serial(async () => {
      const entry = await this.#dataLogFor(name, data, type);
      await this.#patchNow({ [`dataLogs.${name}`]: entry });
      return { name, ...entry } as ExperimentData;
    });
  }

  /** Every data log, by name. */
  async listData(): Promise<ExperimentData[]> {
    const record = await this.refresh();
    return Object.entries(record.dataLogs ?? {})
      .filter((entry): entry is [string, DataLog] => entry[1] !== null)
      .map(([name, log]) => ({ name, ...log }) as ExperimentData)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The data of the log `name` (what was logged, without its type). */
  async getData(name: string): Promise<DataLog['data']> {
    return (await this.#dataLog(name)).data;
  }

  async deleteData(name: string): Promise<void> {
    await this.#dataLog(name);
    await this.#patch({ [`dataLogs.${name}`]: null });
  }

  /** Removes every data log. */
  async deleteAllData(): Promise<void> {
    await this.#patch({ dataLogs: {} });
  }

  /** Renames a data log or replaces its data. */
  async updateData<T extends DataLogType>(name: string, changes: DataChanges<T>): Promise<ExperimentData> {
    const log = await this.#dataLog(name);
    const newName = changes.name ?? name;
    assertAssetName(newName, 'data log');
    if (newName !== name && holds(this.#record.dataLogs, newName)) {
      throw new LarderError('Conflict', `This experiment already has a data log named "${newName}"; delete it first`);
    }
    const updated = {
      type: changes.type ?? log.type,
      data: changes.data === undefined ? log.data : changes.data,
    } as DataLog;
    await this.#patch(
      newName === name
        ? { [`dataLogs.${name}`]: updated }
        : { [`dataLogs.${name}`]: null, [`dataLogs.${newName}`]: updated },
    );
    return { name: newName, ...updated } as ExperimentData;
  }

  /**
   * Picsellia's `experiment.dl_annotations(type)`: the annotations of the experiment's
   * dataset version (its `dataset-version` input) as COCO, `all` or only `accepted`; also
   * kept in {@link dictAnnotations}.
   *
   * @example
   * const coco = await experiment.dlAnnotations('accepted');
   * console.log(coco.annotations.length, coco.categories.map((each) => each.name));
   */
  async dlAnnotations(type: 'all' | 'accepted' = 'all'): Promise<CocoDocument> {
    if (type !== 'all' && type !== 'accepted') throw new LarderError('BadRequest', 'type is "all" or "accepted"');
    const record = await this.refresh();
    const datasets = (record.associations?.inputs ?? []).filter((input) => input.kind === 'dataset-version');
    const [dataset] = datasets;
    if (!dataset) {
      throw new LarderError(
        'BadRequest',
        `Experiment "${this.name}" has no dataset: create it with { dataset: "<name>/<version>" } to download its annotations`,
      );
    }
    if (datasets.length > 1) {
      throw new LarderError(
        'BadRequest',
        `Experiment "${this.name}" trained on ${datasets.length} dataset versions; download one with Datalake.dlAnnotations`,
      );
    }
    const coco = (await this.#store
      .service('coco-exports')
      .get(dataset.id, { query: { status: type } })) as unknown as CocoDocument;
    this.dictAnnotations = coco;
    return coco;
  }

  /** Lays the experiment out locally (see {@link checkoutExperiment}). */
  async checkout(options: CheckoutOptions = {}): Promise<CheckoutResult> {
    return checkoutExperiment(this.#store, await this.refresh(), options);
  }

  async #dataLogFor<T extends DataLogType>(name: string, data: LogInputs[T], type: T): Promise<DataLog> {
    if (type === 'line') {
      const existing = (await this.refresh()).dataLogs?.[name];
      if (existing && existing.type !== 'line') {
        throw new LarderError(
          'Conflict',
          `"${name}" is a ${existing.type} log; delete it (deleteData) or log the line under another name`,
        );
      }
      return { type: 'line', data: appendToLine(name, existing?.data, data as LogInputs['line']) };
    }
    if (type === 'image' && typeof data === 'string') {
      const blob = await this.#store.blobs.upload(resolve(data));
      return { type: 'image', data: { ...blob, filename: basename(data) } };
    }
    return { type, data } as DataLog;
  }

  async #file(name: string): Promise<FileAsset> {
    const { files } = await this.refresh();
    const file = holds(files, name) ? files[name] : undefined;
    if (!file) {
      throw new LarderError('NotFound', `Experiment "${this.name}" has no file named "${name}"`);
    }
    return file;
  }

  async #dataLog(name: string): Promise<DataLog> {
    const { dataLogs } = await this.refresh();
    const log = holds(dataLogs, name) ? dataLogs[name] : undefined;
    if (!log) {
      throw new LarderError('NotFound', `Experiment "${this.name}" has no data log named "${name}"`);
    }
    return log;
  }

  #patch(patch: Record<string, unknown>): Promise<ExperimentRecord> {
    return this.#serial(() => this.#patchNow(patch));
  }

  async #patchNow(patch: Record<string, unknown>): Promise<ExperimentRecord> {
    this.#record = await this.#runs.patch(this.id, patch as Partial<ExperimentRecord>);
    return this.#record;
  }

  /** Runs `write` after every write started before it. */
  #serial<T>(write: () => Promise<T>): Promise<T> {
    const result = this.#writes.then(write, write);
    this.#writes = result.catch(() => undefined);
    return result;
  }
}

/** Whether `entries` has a live entry `name` of its own (not a removed one, not inherited). */
function holds<T>(entries: Record<string, T | null> | undefined, name: string): entries is Record<string, T | null> {
  return entries !== undefined && Object.hasOwn(entries, name) && entries[name] !== null;
}

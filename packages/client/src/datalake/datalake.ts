/**
 * The datalake SDK (Picsellia's `Datalake`, in TypeScript idiom): pictures with tags,
 * versioned datasets with labels and annotations, COCO in and out.
 *
 * @example
 * const lake = new Datalake({ url: 'http://127.0.0.1:3030' });
 * await lake.pushDataset({ name: 'aerial', tags: ['drone'], imgdir: './img', annotationsPath: './coco.json' });
 * const coco = await lake.dlAnnotations('accepted');
 * await lake.close();
 */
import { LarderError } from '@larder/protocol';
import type { DataStore, DataStoreOptions } from '../datastore/data-store.js';
import { DatalakeConnection } from './datalake-connection.js';
import type { CocoDocument, CocoImportReport, ReviewStatus } from './datalake-types.js';
import { type DatasetSummary, Datasets, splitDatasetPath } from './datasets.js';
import { Pictures } from './pictures.js';

export interface PushDatasetOptions {
  name: string;
  /** Tags given to the uploaded pictures. */
  tags?: string[];
  /** A folder of pictures to upload (not needed with `onlyAnnotations`). */
  imgdir?: string;
  /** A COCO JSON file of annotations; without it the dataset has no annotations. */
  annotationsPath?: string;
  /** The annotation format: `coco` (the default and only one). */
  format?: string;
  /** Upload nothing: match the COCO images by file name with pictures already in the lake. */
  onlyAnnotations?: boolean;
  /** Review status of the imported annotations (default `accepted`). */
  status?: ReviewStatus;
}

export class Datalake {
  readonly pictures: Pictures;
  readonly datasets: Datasets;
  readonly #connection: DatalakeConnection;

  /** Connects as the options, `$LARDER_URL`/`$LARDER_TOKEN` or the credentials file say. */
  constructor(options: DataStoreOptions = {}) {
    this.#connection = new DatalakeConnection(options);
    this.pictures = new Pictures(this.#connection);
    this.datasets = new Datasets(this.#connection, this.pictures);
  }

  /** The underlying connection, for other services. */
  get store(): DataStore {
    return this.#connection.store;
  }

  /**
   * Creates a dataset from a folder of pictures and a COCO file: the pictures are uploaded
   * with `tags` (or, with `onlyAnnotations`, found in the lake by file name), the first
   * version holds them, and the annotations are imported onto it.
   */
  async pushDataset(options: PushDatasetOptions): Promise<DatasetSummary & { import?: CocoImportReport }> {
    const format = (options.format ?? 'coco').toLowerCase();
    if (format !== 'coco') {
      throw new LarderError('BadRequest', `Annotations in "${options.format}" cannot be read; convert them to COCO`);
    }
    const uploaded =
      options.onlyAnnotations || options.imgdir === undefined
        ? []
        : await this.pictures.upload(options.imgdir, { tags: options.tags ?? [], source: 'push_dataset' });
    const created = await this.datasets.create({ name: options.name, pictures: uploaded });
    if (options.annotationsPath === undefined) return created;
    const report = await this.importCoco({
      dataset: `${created.name}/${created.version}`,
      path: options.annotationsPath,
      ...(options.status ? { status: options.status } : {}),
    });
    return { ...(await this.datasets.fetch({ name: created.name, version: created.version })), import: report };
  }

  /**
   * The annotations of a version as COCO: `all`, or only `accepted` ones. The version is
   * `dataset` (`name/version`) or the one last fetched or created.
   */
  async dlAnnotations(type: 'all' | 'accepted' = 'all', options: { dataset?: string } = {}): Promise<CocoDocument> {
    if (type !== 'all' && type !== 'accepted') throw new LarderError('BadRequest', 'type is "all" or "accepted"');
    const versionId = await this.#versionId(options.dataset);
    return (await this.store
      .service('coco-exports')
      .get(versionId, { query: { status: type } })) as unknown as CocoDocument;
  }

  /** Imports COCO (a file, or a parsed document) onto a version (`name/version`). */
  async importCoco(options: {
    dataset?: string;
    path?: string;
    coco?: unknown;
    status?: ReviewStatus;
  }): Promise<CocoImportReport> {
    const versionId = await this.#versionId(options.dataset);
    const body: Record<string, unknown> = { versionId, ...(options.status ? { status: options.status } : {}) };
    if (options.coco !== undefined) body.coco = options.coco;
    else if (options.path !== undefined) body.sha256 = (await this.store.blobs.upload(options.path)).sha256;
    else throw new LarderError('BadRequest', 'Give the COCO file as "path" or the document as "coco"');
    return (await this.store.service('coco-imports').create(body)) as unknown as CocoImportReport;
  }

  /** Closes the connection. */
  close(): Promise<void> {
    return this.store.close();
  }

  async #versionId(path: string | undefined): Promise<string> {
    if (path !== undefined) {
      const [name, version] = splitDatasetPath(path);
      return (await this.datasets.resolve(name, version)).version._id;
    }
    const current = this.datasets.current;
    if (!current) throw new LarderError('BadRequest', 'Say which dataset ("name/version"), or fetch one first');
    return (await this.datasets.resolve(current.name, current.version)).version._id;
  }
}

/**
 * Datasets of the datalake (Picsellia's `Dataset`): named, versioned sets of pictures with
 * labels and annotations. A dataset is named `name`, a version `name/version`; where a
 * version is optional, the latest is meant. Methods that take `pictures` use the pictures
 * last fetched through `Datalake.pictures` when none are given.
 *
 * @example
 * const lake = new Datalake();
 * const pictures = await lake.pictures.fetch({ tags: ['drone'] });
 * await lake.datasets.create({ name: 'aerial', pictures });
 * await lake.datasets.createLabels({ name: 'car', annType: 'rectangle' });
 * await lake.datasets.download({ dataset: 'aerial/first', folder: './aerial' });
 */
import { LarderError } from '@larder/protocol';
import type { Service } from '../datastore/service.js';
import type { DatalakeConnection } from './datalake-connection.js';
import type { DatasetRecord, DatasetVersionRecord, LabelRecord, LabelType, Picture } from './datalake-types.js';
import { type DownloadOptions, type DownloadReport, downloadPictures } from './picture-download.js';
import type { Pictures } from './pictures.js';

export interface DatasetSummary {
  datasetId: string;
  versionId: string;
  name: string;
  version: string;
  size: number;
  description: string;
  private: boolean;
  published: boolean;
}

type PictureList = readonly (Picture | string)[];

const MEMBER_BATCH = 10_000;

export class Datasets {
  readonly #connection: DatalakeConnection;
  readonly #pictures: Pictures;
  readonly #datasets: Service<DatasetRecord>;
  readonly #versions: Service<DatasetVersionRecord>;
  #current: { name: string; version: string } | undefined;

  constructor(connection: DatalakeConnection, pictures: Pictures) {
    this.#connection = connection;
    this.#pictures = pictures;
    this.#datasets = connection.store.service<DatasetRecord>('datasets');
    this.#versions = connection.store.service<DatasetVersionRecord>('dataset-versions');
  }

  /** Every version of every dataset you can read. */
  async list(): Promise<DatasetSummary[]> {
    const datasets = new Map<string, DatasetRecord>();
    for await (const dataset of this.#datasets.items({ $sort: { name: 1 } })) datasets.set(dataset._id, dataset);
    const summaries: DatasetSummary[] = [];
    for await (const version of this.#versions.items({ $sort: { createdAt: 1 } })) {
      const dataset = datasets.get(version.datasetId);
      if (dataset) summaries.push(summary(dataset, version));
    }
    return summaries.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A dataset's version (default the latest); later calls without a name use it. */
  async fetch(options: { name?: string; version?: string } = {}): Promise<DatasetSummary> {
    const name = options.name ?? this.#current?.name;
    if (name === undefined) throw new LarderError('BadRequest', 'Say which dataset: give its name');
    const { dataset, version } = await this.#resolve(name, options.version);
    this.#current = { name: dataset.name, version: version.name };
    return summary(dataset, version);
  }

  /** Creates a dataset and its first version (`first`) holding `pictures`. */
  async create(options: {
    name: string;
    description?: string;
    private?: boolean;
    pictures?: PictureList;
    version?: string;
  }): Promise<DatasetSummary> {
    const dataset = await this.#datasets.create({
      name: options.name,
      description: options.description ?? '',
      public: options.private === false,
    });
    const version = await this.#versions.create({
      datasetId: dataset._id,
      name: options.version ?? 'first',
      from: null,
    } as Partial<DatasetVersionRecord>);
    await this.#addMembers(version._id, this.#pictureIds(options.pictures));
    this.#current = { name: dataset.name, version: version.name };
    return this.fetch({ name: dataset.name, version: version.name });
  }

  /** A new version derived from `fromVersion` (default the latest), plus `pictures`. */
  async newVersion(options: {
    name: string;
    version: string;
    fromVersion?: string | null;
    pictures?: PictureList;
  }): Promise<DatasetSummary> {
    const dataset = await this.#dataset(options.name);
    const version = await this.#versions.create({
      datasetId: dataset._id,
      name: options.version,
      from: options.fromVersion === undefined ? 'latest' : options.fromVersion,
    } as Partial<DatasetVersionRecord>);
    if (options.pictures) await this.#addMembers(version._id, this.#pictureIds(options.pictures));
    this.#current = { name: dataset.name, version: version.name };
    return this.fetch({ name: dataset.name, version: version.name });
  }

  /** Adds a label (`car` drawn as rectangles…) to a version (default the current one). */
  async createLabels(options: {
    name: string;
    annType: LabelType;
    dataset?: string;
    version?: string;
  }): Promise<LabelRecord> {
    const { version } = await this.#target(options.dataset, options.version);
    return this.#connection.store
      .service<LabelRecord>('dataset-labels')
      .create({ versionId: version._id, name: options.name, type: options.annType } as Partial<LabelRecord>);
  }

  /** Adds pictures (default: the last fetched) to a version (default the current, else the latest). */
  async addData(options: { name?: string; version?: string; pictures?: PictureList } = {}): Promise<number> {
    const { version } = await this.#target(options.name, options.version);
    return this.#addMembers(version._id, this.#pictureIds(options.pictures));
  }

  /** Marks a version (default the current one) published: it will never change again. */
  async publish(options: { name?: string; version?: string } = {}): Promise<DatasetSummary> {
    const { dataset, version } = await this.#target(options.name, options.version);
    const published = await this.#versions.patch(version._id, { published: true });
    return summary(dataset, published);
  }

  /** Deletes one version (unpublished), or the whole dataset with all its versions when no version is given. */
  async delete(options: { name: string; version?: string }): Promise<void> {
    if (options.version === undefined) {
      const dataset = await this.#dataset(options.name);
      await this.#datasets.remove(dataset._id);
    } else {
      const { version } = await this.#resolve(options.name, options.version);
      await this.#versions.remove(version._id);
    }
    if (this.#current?.name === options.name) this.#current = undefined;
  }

  /**
   * Downloads every picture of `dataset` (`name/version`, or `name` for the latest) into
   * `folder` (default `name/version`): in parallel, resumable, each file verified.
   */
  async download(options: { dataset: string; folder?: string } & DownloadOptions): Promise<DownloadReport> {
    const [name, versionName] = splitDatasetPath(options.dataset);
    const { dataset, version } = await this.#resolve(name, versionName);
    const pictures = await this.versionPictures(version._id);
    const folder = options.folder ?? `${dataset.name}/${version.name}`;
    return downloadPictures(this.#connection, pictures, folder, version._id, options);
  }

  /** The pictures of a version (readable through it, whoever owns them). */
  async versionPictures(versionId: string): Promise<Picture[]> {
    const members = this.#connection.store.service<{ assetId: string; asset: Picture | null }>('dataset-members');
    const pictures: Picture[] = [];
    for await (const member of members.items({ versionId, expand: 'asset' }, { pageSize: MEMBER_BATCH })) {
      if (member.asset?.sha256) pictures.push(member.asset);
    }
    return pictures;
  }

  /** The dataset and version a call means. */
  async resolve(name: string, version?: string): Promise<{ dataset: DatasetRecord; version: DatasetVersionRecord }> {
    return this.#resolve(name, version);
  }

  /** The version later calls default to (the last fetched, created or derived). */
  get current(): { name: string; version: string } | undefined {
    return this.#current;
  }

  async #target(name: string | undefined, version: string | undefined) {
    const datasetName = name ?? this.#current?.name;
    if (datasetName === undefined)
      throw new LarderError('BadRequest', 'Say which dataset: give its name, or fetch one first');
    const versionName = version ?? (name === undefined ? this.#current?.version : undefined);
    return this.#resolve(datasetName, versionName);
  }

  async #dataset(name: string): Promise<DatasetRecord> {
    const page = await this.#datasets.find({ query: { name, $limit: 2, $sort: { createdAt: 1 } } });
    const dataset = page.data[0];
    if (!dataset) throw new LarderError('NotFound', `No dataset named '${name}'; "larder datasets ls" lists them`);
    return dataset;
  }

  async #resolve(name: string, versionName?: string) {
    const dataset = await this.#dataset(name);
    const query: Record<string, unknown> = { datasetId: dataset._id, $limit: 1, $sort: { createdAt: -1, _id: -1 } };
    if (versionName !== undefined && versionName !== 'latest') query.name = versionName;
    const version = (await this.#versions.find({ query })).data[0];
    if (!version) {
      throw new LarderError(
        'NotFound',
        versionName === undefined
          ? `Dataset '${name}' has no version yet`
          : `Dataset '${name}' has no version '${versionName}'`,
      );
    }
    return { dataset, version };
  }

  #pictureIds(pictures: PictureList | undefined): string[] {
    const chosen = pictures ?? this.#pictures.fetchedPictures();
    return chosen.map((each) => (typeof each === 'string' ? each : each._id));
  }

  async #addMembers(versionId: string, ids: readonly string[]): Promise<number> {
    const members = this.#connection.store.service<{ added: number }>('dataset-members');
    let added = 0;
    for (let start = 0; start < ids.length; start += MEMBER_BATCH) {
      const answer = (await members.create({
        versionId,
        assetIds: ids.slice(start, start + MEMBER_BATCH),
      } as never)) as {
        added: number;
      };
      added += answer.added;
    }
    return added;
  }
}

/** `name/version` → [name, version]; a bare name means the latest version. */
export function splitDatasetPath(path: string): [string, string | undefined] {
  const slash = path.lastIndexOf('/');
  if (slash < 0) return [path, undefined];
  return [path.slice(0, slash), path.slice(slash + 1) || undefined];
}

function summary(dataset: DatasetRecord, version: DatasetVersionRecord): DatasetSummary {
  return {
    datasetId: dataset._id,
    versionId: version._id,
    name: dataset.name,
    version: version.name,
    size: version.assetCount,
    description: dataset.description ?? '',
    private: dataset.public !== true,
    published: version.published,
  };
}

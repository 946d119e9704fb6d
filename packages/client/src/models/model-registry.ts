import { mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { formatOffence, validateModel } from '@larder/pmf';
import { LarderError } from '@larder/protocol';
import { zipToTemporaryFile } from '../archives/zip-archive.js';
import type { UploadOptions } from '../blobs/blob-client.js';
import { type FileHttp, httpRequest } from '../blobs/file-receive.js';
import { isRetryable } from '../blobs/retry.js';
import { resolveConnection } from '../config/credentials.js';
import { DataStore, type DataStoreOptions } from '../datastore/data-store.js';
import type { Query } from '../datastore/service-types.js';
import { expectLocalPath } from '../local-files/expect-local-path.js';
import { downloadVersionFiles, placeInside, type VersionDownloadOptions } from './model-file-download.js';
import { findModelByName, findModelVersion } from './model-lookup.js';
import type { ModelFields, ModelRecord, ModelVersionRecord } from './model-records.js';
import type { VersionReference } from './model-reference.js';
import { pushTreeFiles } from './push-tree.js';

export interface ModelRegistryOptions {
  store: DataStore;
  /** The server's base URL (for file downloads, which are not service calls). */
  url: string;
  token?: string | undefined;
  fetch?: typeof fetch;
}

/** Which model: by name (yours first, then one shared with you) or by id. */
export type ModelSelector = { name: string } | { id: string };

export type ModelCreate = Partial<ModelFields> & { name: string };

export interface PushOptions {
  /** The registry model to add the version to (created if you have none of that name). Default: the PMF model's name. */
  name?: string;
  /** Aliases to point at the new version (`latest` moves by itself). */
  alias?: string | string[];
  description?: string;
  /** Runs that produced this version. */
  producedBy?: string[];
  /** Called once per file, after it was found on the server or sent. */
  onFile?: (file: { path: string; size: number; sent: boolean }) => void;
  upload?: UploadOptions;
}

export interface PushResult {
  model: ModelRecord;
  version: ModelVersionRecord;
  /** Paths whose bytes were sent. */
  sent: string[];
  /** Paths the server already held. */
  skipped: string[];
}

export interface PullOptions {
  /** Files fetched at once and retries of each. */
  download?: VersionDownloadOptions;
}

export interface PullResult {
  model: ModelRecord;
  version: ModelVersionRecord;
  /** The folder the PMF tree was written to. */
  path: string;
}

const MODELS = 'models';
const VERSIONS = 'model-versions';

export class ModelRegistry {
  readonly #store: DataStore;
  readonly #http: FileHttp;
  readonly #ownsStore: boolean;
  #me: Promise<string | null> | undefined;

  /** Connects as the options, environment or credentials file say (see `resolveConnection`). */
  static async connect(options: DataStoreOptions = {}): Promise<ModelRegistry> {
    const { url, token } = await resolveConnection(options);
    const store = new DataStore({ ...options, url, ...(token ? { token } : {}) });
    return new ModelRegistry({ store, url, token, ...(options.fetch ? { fetch: options.fetch } : {}) }, true);
  }

  /** Uses `store`, which the caller keeps and closes unless `ownsStore`. */
  constructor(options: ModelRegistryOptions, ownsStore = false) {
    this.#store = options.store;
    this.#http = { url: options.url, token: options.token, ...(options.fetch ? { fetch: options.fetch } : {}) };
    this.#ownsStore = ownsStore;
  }

  /** Every model you may read that matches `query` (e.g. `{ type: 'detection' }`). */
  async list(query: Query = {}): Promise<ModelRecord[]> {
    const models: ModelRecord[] = [];
    for await (const model of this.#models().items({ $sort: { name: 1 }, ...query })) models.push(model);
    return models;
  }

  /** A model by id, or by name: yours if you have one of that name, else the one shared with you. */
  async get(selector: ModelSelector): Promise<ModelRecord> {
    if ('id' in selector) return this.#models().get(selector.id);
    return findModelByName(this.#store, selector.name, () => this.#whoami());
  }

  /** Creates a model; it is private unless `private: false`. */
  create(fields: ModelCreate): Promise<ModelRecord> {
    return this.#models().create(fields);
  }

  /** Changes some fields of a model you own. */
  async update(selector: ModelSelector | string, changes: Partial<ModelFields>): Promise<ModelRecord> {
    const model = await this.get(select(selector));
    return this.#models().patch(model._id, changes);
  }

  /** Deletes a model and all its versions. */
  async delete(selector: ModelSelector | string): Promise<ModelRecord> {
    const model = await this.get(select(selector));
    return this.#models().remove(model._id);
  }

  /** The versions of a model, oldest first. */
  async listVersions(selector: ModelSelector | string): Promise<ModelVersionRecord[]> {
    const model = await this.get(select(selector));
    const versions: ModelVersionRecord[] = [];
    for await (const version of this.#versions().items({ modelId: model._id, $sort: { version: 1 } })) {
      versions.push(version);
    }
    return versions;
  }

  /** One version by number (`3`, `'v3'`) or alias (`'production'`); `latest` by default. */
  async getVersion(
    selector: ModelSelector | string,
    version: VersionReference = 'latest',
  ): Promise<ModelVersionRecord> {
    return (await this.#resolveVersion(await this.get(select(selector)), version)).version;
  }

  /** Points `alias` at a version (number or another alias), or removes it with `null`. */
  async setAlias(
    selector: ModelSelector | string,
    alias: string,
    version: VersionReference | null,
  ): Promise<ModelRecord> {
    const model = await this.get(select(selector));
    const target = version === null ? null : (await this.#resolveVersion(model, version)).number;
    return this.#models().patch(model._id, { [`aliases.${alias}`]: target } as Partial<ModelRecord>);
  }

  /**
   * Pushes the PMF model in `pmfDir` (strictly validated) as a new version. Each file is
   * read once for its hashes (SHA-256 and MD5, on worker threads), and only files the server
   * lacks are sent; the version is recorded once every recorded MD5 matched.
   */
  async pushVersion(pmfDir: string, options: PushOptions = {}): Promise<PushResult> {
    const { tree, files, sent, skipped } = await pushTreeFiles(this.#store.blobs, pmfDir, {
      ...(options.upload ? { upload: options.upload } : {}),
      ...(options.onFile ? { onFile: options.onFile } : {}),
    });
    // Created once the tree proved valid: a refused push leaves no model behind.
    const model = await this.#ownModel(options.name ?? tree.summary.name ?? basename(resolve(pmfDir)));
    const aliases = options.alias === undefined ? [] : [options.alias].flat();
    const version = (await this.#versions().create({
      modelId: model._id,
      pmf: tree.summary,
      files,
      folders: tree.folders,
      aliases,
      ...(options.description !== undefined ? { description: options.description } : {}),
      ...(options.producedBy ? { producedBy: options.producedBy } : {}),
    } as unknown as ModelVersionRecord)) as ModelVersionRecord;
    return { model: await this.#models().get(model._id), version, sent, skipped };
  }

  /**
   * Writes a version as a PMF tree in `dir` (which must be new or empty). The tree appears
   * only once every file is verified and it validates. Files come several at a time, each
   * hashed as it arrives; a pull that broke off (network, killed process) leaves its
   * verified start in `<dir>.pulling-<versionId>`, which the next pull of that version
   * continues instead of fetching again.
   */
  async pullVersion(
    selector: ModelSelector | string,
    version: VersionReference = 'latest',
    dir = '.',
    options: PullOptions = {},
  ): Promise<PullResult> {
    const model = await this.get(select(selector));
    const { version: record } = await this.#resolveVersion(model, version);
    const target = resolve(dir);
    const existing = await readdir(target).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    if (existing && existing.length > 0) {
      throw new LarderError('Conflict', `${dir} is not empty: pull into a new or empty folder`);
    }
    await mkdir(dirname(target), { recursive: true });
    // Named by the version: a pull cut short is continued by the next pull of the same version.
    const staging = `${target}.pulling-${record._id}`;
    await mkdir(staging, { recursive: true });
    try {
      for (const folder of record.folders ?? []) await mkdir(placeInside(staging, folder), { recursive: true });
      await downloadVersionFiles(this.#http, record._id, record.files, staging, options.download);
      // Every file was just checked against the SHA-256 recorded at push, when the tree was
      // validated strictly: the MD5s cannot differ, so the tree and metadata checks suffice
      // (a strict pass would read every checkpoint once more).
      const offences = await validateModel(staging, { strict: false });
      if (offences.length > 0) {
        const lines = offences.map((offence) => formatOffence(offence)).join('; ');
        throw new LarderError(
          'Unprocessable',
          `Version ${record.version} of "${model.name}" is not a valid PMF model once downloaded: ${lines}`,
        );
      }
      if (existing) await rmdir(target);
      await rename(staging, target);
    } catch (error) {
      // A transfer that broke keeps what arrived, verified so far, for the next pull to continue.
      if (!isRetryable(error)) await rm(staging, { recursive: true, force: true });
      throw error;
    }
    return { model, version: record, path: target };
  }

  /** Uploads `path` and stores it as the model's named file `name` (e.g. `config`, `thumbnail`). */
  async storeFile(selector: ModelSelector | string, name: string, path: string): Promise<ModelRecord> {
    await expectLocalPath(path, 'file', {
      action: `Storing ${name}`,
      hint: 'store a folder zipped, with { zip: true }',
    });
    const model = await this.get(select(selector));
    const blob = await this.#store.blobs.upload(path);
    const file = { sha256: blob.sha256, size: blob.size, filename: basename(path) };
    return this.#models().patch(model._id, { [`files.${name}`]: file } as Partial<ModelRecord>);
  }

  /**
   * Picsellia's `network.store(name, path, { zip })`: a file, or with `zip` a file or a
   * folder zipped first, stored as the named file `name`.
   *
   * @example
   * await models.store('mnist-cnn', 'checkpoint-data-latest', './checkpoints', { zip: true });
   */
  async store(selector: ModelSelector | string, name: string, path: string, options: { zip?: boolean } = {}) {
    if (!options.zip) return this.storeFile(selector, name, path);
    await expectLocalPath(path, 'file or directory', { action: `Storing ${name}` });
    const zipped = await zipToTemporaryFile(path);
    try {
      return await this.storeFile(selector, name, zipped.path);
    } finally {
      await zipped.remove();
    }
  }

  /** Downloads the model's named file `name` to `path`, verified. */
  async downloadFile(selector: ModelSelector | string, name: string, path: string): Promise<void> {
    const model = await this.get(select(selector));
    const file = Object.hasOwn(model.files, name) ? model.files[name] : undefined;
    if (!file) throw new LarderError('NotFound', `Model "${model.name}" has no file named "${name}"`);
    const route = `/model-named-files/${encodeURIComponent(model._id)}/${encodeURIComponent(name)}`;
    await this.#store.blobs.downloadRoute(route, path, { sha256: file.sha256 });
  }

  /** Closes the connection when this registry opened it. */
  async close(): Promise<void> {
    if (this.#ownsStore) await this.#store.close();
  }

  #models() {
    return this.#store.service<ModelRecord>(MODELS);
  }

  #versions() {
    return this.#store.service<ModelVersionRecord>(VERSIONS);
  }

  #resolveVersion(
    model: ModelRecord,
    reference: VersionReference,
  ): Promise<{ number: number; version: ModelVersionRecord }> {
    return findModelVersion(this.#store, model, reference);
  }

  /** Your model of that name, created when you have none. */
  async #ownModel(name: string): Promise<ModelRecord> {
    const me = await this.#whoami();
    const query = { name, ...(me ? { userId: me } : {}), $limit: 1 };
    const [found] = (await this.#models().find({ query })).data;
    if (found) return found;
    try {
      return await this.create({ name });
    } catch (error) {
      // Someone pushed the first version of the same model at the same time.
      if (!(error instanceof LarderError && error.name === 'Conflict')) throw error;
      const [created] = (await this.#models().find({ query })).data;
      if (!created) throw error;
      return created;
    }
  }

  #whoami(): Promise<string | null> {
    this.#me ??= httpRequest(this.#http, 'GET', '/whoami')
      .then((response) => response.json() as Promise<{ user: { _id: string } | null }>)
      .then((answer) => answer.user?._id ?? null)
      .catch((error: unknown) => {
        this.#me = undefined;
        throw error;
      });
    return this.#me;
  }
}

function select(selector: ModelSelector | string): ModelSelector {
  return typeof selector === 'string' ? { name: selector } : selector;
}

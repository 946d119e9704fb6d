/**
 * The pictures of the datalake (Picsellia's `Picture`): upload files with tags, list and
 * fetch them by tags, tag and untag them in bulk, delete them. Methods that take
 * `pictures` act on the last fetched ones when none are given, as the seed's API does.
 *
 * @example
 * const lake = new Datalake();
 * await lake.pictures.upload(['./img'], { tags: ['drone'], source: 'sdk' });
 * const half = await lake.pictures.fetch({ quantity: 0.5, tags: ['drone'], seed: 7 });
 * await lake.pictures.addTags(['reviewed']);
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LarderError } from '@larder/protocol';
import type { Service } from '../datastore/service.js';
import type { DatalakeConnection } from './datalake-connection.js';
import type { Picture, TransferProgress } from './datalake-types.js';
import { partialUploadError, uploadPictures } from './picture-upload.js';
import { seededSample } from './seeded-sample.js';

export interface PictureUploadOptions {
  tags?: string[];
  /** Where the pictures come from (default `sdk`). */
  source?: string;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  onProgress?: (progress: TransferProgress) => void;
}

export interface PictureQuery {
  /** Pictures carrying every one of these tags. */
  tags?: string[];
  /** Pictures carrying at least one of these tags. */
  anyTags?: string[];
  filename?: string;
  /** Uploaded at or after this date. */
  since?: Date | string;
  /** Uploaded before this date. */
  until?: Date | string;
  minBytes?: number;
  maxBytes?: number;
}

export interface FetchOptions {
  /** The fraction of matching pictures to select, from 0 to 1 (default 1: all). */
  quantity?: number;
  tags?: string[];
  /** Seed of the random selection: the same seed selects the same pictures. */
  seed?: number;
}

const PAGE = 1000;
const TAG_BATCH = 5000;
/**
 * Records read per call by `list` and ids by `fetch`: the server's largest page of assets, so
 * that a listing of a few thousand pictures is one round trip.
 */
const LIST_PAGE = 10_000;

export class Pictures {
  #fetched: Picture[] = [];
  readonly #connection: DatalakeConnection;
  readonly #assets: Service<Picture>;

  constructor(connection: DatalakeConnection) {
    this.#connection = connection;
    this.#assets = connection.store.service<Picture>('assets');
  }

  /**
   * Uploads files (or every file of the folders given) and makes them pictures, many files
   * per request. Bytes the server already holds for you are not sent again; the same
   * picture uploaded twice stays one picture and gains the new tags. When some files
   * cannot be made pictures (too large, say), the others still are, and the error thrown
   * names the failed ones (`error.data.failed`).
   */
  async upload(paths: string | string[], options: PictureUploadOptions = {}): Promise<Picture[]> {
    const files = await expandPaths(Array.isArray(paths) ? paths : [paths]);
    const { pictures, failed } = await uploadPictures(this.#connection, files, options);
    const made = pictures.filter((picture): picture is Picture => picture !== undefined);
    if (failed.length > 0) throw partialUploadError(failed, made.length);
    return made;
  }

  /** Every picture matching `query` (all pictures by default), oldest first. */
  async list(query: PictureQuery = {}): Promise<Picture[]> {
    const pictures: Picture[] = [];
    for await (const picture of this.#assets.items(toServerQuery(query), { pageSize: LIST_PAGE }))
      pictures.push(picture);
    return pictures;
  }

  /**
   * A fraction of the pictures carrying `tags`, chosen at random: the same `seed` over the same
   * pictures chooses the same ones, whatever their upload times. Only the matching ids are
   * listed (in id order, each page starting after the last id of the one before); then only
   * the chosen pictures are read, in that order.
   */
  async fetch(options: FetchOptions = {}): Promise<Picture[]> {
    const quantity = options.quantity ?? 1;
    if (!(quantity >= 0 && quantity <= 1)) throw new LarderError('BadRequest', 'quantity is a fraction from 0 to 1');
    const ids = await this.#matchingIds(options.tags ?? []);
    const chosen = seededSample(ids, quantity, options.seed ?? Date.now());
    const pictures: Picture[] = [];
    for (let start = 0; start < chosen.length; start += PAGE) {
      const batch = chosen.slice(start, start + PAGE);
      const page = await this.#assets.find({ query: { _id: { $in: batch }, $sort: { _id: 1 }, $limit: PAGE } });
      pictures.push(...(Array.isArray(page) ? page : page.data));
    }
    this.#fetched = pictures;
    return this.#fetched;
  }

  /** The ids of the pictures carrying every one of `tags`, in id order. */
  async #matchingIds(tags: string[]): Promise<string[]> {
    const { $sort: _, ...query } = toServerQuery({ tags });
    const ids: string[] = [];
    for (;;) {
      const after = ids.at(-1);
      const page = await this.#assets.find({
        query: {
          ...query,
          ...(after === undefined ? {} : { _id: { $gt: after } }),
          $sort: { _id: 1 },
          $select: ['_id'],
          $limit: LIST_PAGE,
        },
      });
      const data = Array.isArray(page) ? page : page.data;
      ids.push(...data.map((picture) => picture._id));
      if (Array.isArray(page) || data.length === 0 || data.length < Math.min(LIST_PAGE, page.limit)) return ids;
    }
  }

  /** The pictures the last `fetch` selected. */
  fetchedPictures(): readonly Picture[] {
    return this.#fetched;
  }

  /** How many pictures the last `fetch` selected. */
  status(): { selected: number } {
    return { selected: this.#fetched.length };
  }

  /** Deletes pictures (default: the last fetched). Refused for pictures of a published dataset version. */
  async delete(pictures?: readonly (Picture | string)[]): Promise<number> {
    const ids = this.#ids(pictures);
    let deleted = 0;
    for (let start = 0; start < ids.length; start += PAGE) {
      const removed = await this.#assets.remove(null, { query: { _id: { $in: ids.slice(start, start + PAGE) } } });
      deleted += Array.isArray(removed) ? removed.length : 1;
    }
    if (pictures === undefined) this.#fetched = [];
    return deleted;
  }

  /** Adds tags to pictures (default: the last fetched); answers how many changed. */
  addTags(tags: string[], pictures?: readonly (Picture | string)[]): Promise<number> {
    return this.#tag(pictures, { add: tags });
  }

  /** Removes tags from pictures (default: the last fetched); answers how many changed. */
  removeTags(tags: string[], pictures?: readonly (Picture | string)[]): Promise<number> {
    return this.#tag(pictures, { remove: tags });
  }

  async #tag(pictures: readonly (Picture | string)[] | undefined, change: { add?: string[]; remove?: string[] }) {
    const ids = this.#ids(pictures);
    const tagging = this.#connection.store.service<{ modified: number }>('asset-tags');
    let modified = 0;
    for (let start = 0; start < ids.length; start += TAG_BATCH) {
      const answer = (await tagging.create({ ids: ids.slice(start, start + TAG_BATCH), ...change } as never)) as {
        modified: number;
      };
      modified += answer.modified;
    }
    return modified;
  }

  #ids(pictures: readonly (Picture | string)[] | undefined): string[] {
    const chosen = pictures ?? this.#fetched;
    return chosen.map((each) => (typeof each === 'string' ? each : each._id));
  }
}

function toServerQuery(query: PictureQuery): Record<string, unknown> {
  const server: Record<string, unknown> = { sha256: { $exists: true }, $sort: { createdAt: 1 } };
  if (query.tags && query.tags.length > 0) server.tags = { $all: query.tags };
  if (query.anyTags && query.anyTags.length > 0) server.$or = [{ tags: { $in: query.anyTags } }];
  if (query.filename !== undefined) server.filename = query.filename;
  const created: Record<string, string> = {};
  if (query.since !== undefined) created.$gte = new Date(query.since).toISOString();
  if (query.until !== undefined) created.$lt = new Date(query.until).toISOString();
  if (Object.keys(created).length > 0) server.createdAt = created;
  const size: Record<string, number> = {};
  if (query.minBytes !== undefined) size.$gte = query.minBytes;
  if (query.maxBytes !== undefined) size.$lte = query.maxBytes;
  if (Object.keys(size).length > 0) server.size = size;
  return server;
}

/** Files named directly, and the files inside named folders (recursively, hidden ones skipped). */
async function expandPaths(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new LarderError('NotFound', `No file or folder ${path}`);
    if (info.isFile()) files.push(path);
    else if (info.isDirectory()) files.push(...(await folderFiles(path)));
  }
  return files;
}

/**
 * The files in `folder` and its subfolders, hidden ones left out, in name order. The entries'
 * own types say which are files and folders; only a link (or an entry of unknown type) costs
 * a `stat`, so that a folder of many pictures is not stat'ed file by file.
 */
async function folderFiles(folder: string): Promise<string[]> {
  const entries = (await readdir(folder, { withFileTypes: true }))
    .filter((entry) => !entry.name.startsWith('.'))
    .sort((a, b) => a.name.localeCompare(b.name));
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isFile()) files.push(path);
    else if (entry.isDirectory()) files.push(...(await folderFiles(path)));
    else files.push(...(await expandPaths([path])));
  }
  return files;
}

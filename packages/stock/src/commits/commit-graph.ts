/** Reading commits from the object store: by id or prefix, and along their history. */
import { LarderError } from '@larder/protocol';
import { HASH_PATTERN } from '../objects/object-codec.js';
import type { ObjectStore } from '../objects/object-store.js';
import { type CommitRecord, parseCommit } from './commit-record.js';

/** A commit and its id. */
export interface CommitInfo {
  id: string;
  parents: string[];
  message: string;
  author: string;
  time: string;
}

/** Commit records never change, so one cache per store serves every reader. */
const readers = new WeakMap<ObjectStore, CommitReader>();

/**
 * The commit reader of a store, shared by everything that reads its commits (the StockRoom,
 * push, pull): a commit naming 100,000 samples is parsed once, not once per step.
 */
export function commitsOf(objects: ObjectStore): CommitReader {
  let reader = readers.get(objects);
  if (reader === undefined) {
    reader = new CommitReader(objects);
    readers.set(objects, reader);
  }
  return reader;
}

export class CommitReader {
  readonly #objects: ObjectStore;
  readonly #cache = new Map<string, CommitRecord>();

  constructor(objects: ObjectStore) {
    this.#objects = objects;
  }

  async read(id: string): Promise<CommitRecord> {
    const cached = this.#cache.get(id);
    if (cached !== undefined) return cached;
    if (!(await this.#objects.has(id))) {
      throw new LarderError('NotFound', `No stock commit ${id.slice(0, 12)} in this repository`);
    }
    if ((await this.#objects.kindOf(id)) !== 'commit') {
      throw new LarderError('BadRequest', `${id.slice(0, 12)} is not a commit id`);
    }
    const record = parseCommit(await this.#objects.getJson('commit', id), id);
    this.#cache.set(id, record);
    return record;
  }

  /** Records a commit just stored under `id` (its bytes checked against it), parsed by the caller. */
  remember(id: string, record: CommitRecord): void {
    this.#cache.set(id, record);
  }

  /** The full id of the commit that `ref` (a full id or a unique prefix of 4+ characters) names. */
  async resolve(ref: string): Promise<string> {
    const wanted = ref.trim().toLowerCase();
    if (!/^[0-9a-f]{4,64}$/.test(wanted)) {
      throw new LarderError('BadRequest', `"${ref.slice(0, 80)}" is not a commit id: give 4 to 64 hex characters`);
    }
    if (HASH_PATTERN.test(wanted)) {
      await this.read(wanted);
      return wanted;
    }
    const matches: string[] = [];
    for (const hash of await this.#objects.withPrefix(wanted)) {
      if ((await this.#objects.kindOf(hash)) === 'commit') matches.push(hash);
    }
    if (matches.length === 0) throw new LarderError('NotFound', `No stock commit starts with "${wanted}"`);
    if (matches.length > 1) {
      throw new LarderError('BadRequest', `"${wanted}" matches ${matches.length} commits: give more characters`);
    }
    return matches[0] as string;
  }

  /** Commits from `id` back along first parents, newest first. */
  async history(id: string | undefined, limit = Number.POSITIVE_INFINITY): Promise<CommitInfo[]> {
    const entries: CommitInfo[] = [];
    for (let current = id; current !== undefined && entries.length < limit; ) {
      const { parents, message, author, time } = await this.read(current);
      entries.push({ id: current, parents: [...parents], message, author, time });
      current = parents[0];
    }
    return entries;
  }
}

/**
 * A commit: its parents, who made it and when, why, and the full tree of what it holds
 * (storage → key → object hash). Stored as a canonical JSON object; its hash is its id.
 */
import { LarderError } from '@larder/protocol';
import { HASH_PATTERN } from '../objects/object-codec.js';
import type { StagedChanges } from '../repository/staging-area.js';
import { type DType, isDType } from '../tensor/dtypes.js';

export const COMMIT_FORMAT = 'larder-stock-commit/1';

/** storage ("model", "tag", "data/<column>") → key → object hash. */
export type Tree = Record<string, Record<string, string>>;

export interface CommitRecord {
  format: typeof COMMIT_FORMAT;
  parents: string[];
  message: string;
  author: string;
  /** ISO 8601. */
  time: string;
  tree: Tree;
  /** The dtype of each data column. */
  columns: Record<string, DType>;
}

export const EMPTY_COMMIT: CommitRecord = Object.freeze({
  format: COMMIT_FORMAT,
  parents: [],
  message: '',
  author: '',
  time: new Date(0).toISOString(),
  tree: {},
  columns: {},
});

/** Checks a decoded commit object, refusing anything that is not one. */
export function parseCommit(value: unknown, id: string): CommitRecord {
  const record = value as Partial<CommitRecord> | null;
  const invalid = (what: string): never => {
    throw new LarderError('Unprocessable', `Stock commit ${id.slice(0, 12)} is invalid: ${what}`);
  };
  if (record === null || typeof record !== 'object') return invalid('not an object');
  if (record.format !== COMMIT_FORMAT) return invalid(`unknown format ${JSON.stringify(record.format)}`);
  if (!Array.isArray(record.parents) || !record.parents.every((p) => HASH_PATTERN.test(p))) invalid('bad parents');
  if (typeof record.message !== 'string' || typeof record.author !== 'string' || typeof record.time !== 'string') {
    invalid('message, author and time must be strings');
  }
  const tree = record.tree;
  if (tree === null || typeof tree !== 'object') return invalid('no tree');
  for (const keys of Object.values(tree)) {
    if (keys === null || typeof keys !== 'object' || !Object.values(keys).every((h) => HASH_PATTERN.test(h))) {
      invalid('the tree holds something other than object hashes');
    }
  }
  if (record.columns === null || typeof record.columns !== 'object' || !Object.values(record.columns).every(isDType)) {
    invalid('bad column dtypes');
  }
  return record as CommitRecord;
}

/** The tree and column dtypes that result from applying `staged` on top of `base`. */
export function applyChanges(base: CommitRecord, staged: StagedChanges): Pick<CommitRecord, 'tree' | 'columns'> {
  const tree: Tree = {};
  for (const [storage, keys] of Object.entries(base.tree)) tree[storage] = { ...keys };
  for (const [storage, changes] of staged.changes) {
    const keys = tree[storage] ?? {};
    tree[storage] = keys;
    for (const [key, hash] of changes) {
      if (hash === null) delete keys[key];
      else keys[key] = hash;
    }
  }
  for (const [storage, keys] of Object.entries(tree)) if (Object.keys(keys).length === 0) delete tree[storage];
  const columns: Record<string, DType> = {};
  for (const storage of Object.keys(tree)) {
    const column = columnOf(storage);
    if (column === undefined) continue;
    const dtype = staged.columns[column] ?? base.columns[column];
    if (dtype !== undefined) columns[column] = dtype;
  }
  return { tree, columns };
}

/** The storage name of a data column. */
export function dataStorage(column: string): string {
  return `data/${column}`;
}

/** The column a storage name belongs to, if it is a data storage. */
export function columnOf(storage: string): string | undefined {
  return storage.startsWith('data/') ? storage.slice(5) : undefined;
}

/**
 * Whether applying `staged` on top of `base` leaves its tree as it was: every staged change
 * sets a key to the hash it already has, or deletes a key it lacks. Looks at the changes only,
 * not at every key of a large tree.
 */
export function changesNothing(base: Tree, staged: StagedChanges): boolean {
  for (const [storage, changes] of staged.changes) {
    const keys = base[storage];
    for (const [key, hash] of changes) {
      const held = keys !== undefined && Object.hasOwn(keys, key) ? keys[key] : undefined;
      if (hash === null ? held !== undefined : held !== hash) return false;
    }
  }
  return true;
}

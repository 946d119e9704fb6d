/**
 * What one read or write sees: a commit's tree, with the staged changes laid over it when
 * the view belongs to a writer.
 */
import { LarderError } from '@larder/protocol';
import { type CommitRecord, columnOf, dataStorage } from './commits/commit-record.js';
import type { ObjectStore } from './objects/object-store.js';
import type { StagedChanges } from './repository/staging-area.js';
import type { DType } from './tensor/dtypes.js';

export class TreeView {
  readonly objects: ObjectStore;
  readonly commitId: string | undefined;
  readonly #base: CommitRecord;
  readonly #staged: StagedChanges | undefined;
  /** Storages known to hold a key, so that writes do not re-scan a large column per sample. */
  readonly #nonEmpty = new Set<string>();

  constructor(objects: ObjectStore, commitId: string | undefined, base: CommitRecord, staged?: StagedChanges) {
    this.objects = objects;
    this.commitId = commitId;
    this.#base = base;
    this.#staged = staged;
  }

  get writable(): boolean {
    return this.#staged !== undefined;
  }

  /** The object hash stored under `key`, if any. */
  lookup(storage: string, key: string): string | undefined {
    const staged = this.#staged?.changes.get(storage);
    if (staged?.has(key)) return staged.get(key) ?? undefined;
    const keys = this.#base.tree[storage];
    return keys !== undefined && Object.hasOwn(keys, key) ? keys[key] : undefined;
  }

  keys(storage: string): string[] {
    const keys = new Set(Object.keys(this.#base.tree[storage] ?? {}));
    for (const [key, hash] of this.#staged?.changes.get(storage) ?? []) {
      if (hash === null) keys.delete(key);
      else keys.add(key);
    }
    return [...keys].sort();
  }

  /** Data columns holding at least one sample. */
  columns(): string[] {
    const storages = new Set([...Object.keys(this.#base.tree), ...(this.#staged?.changes.keys() ?? [])]);
    const columns: string[] = [];
    for (const storage of storages) {
      const column = columnOf(storage);
      if (column !== undefined && this.#holdsAny(storage)) columns.push(column);
    }
    return columns.sort();
  }

  /** The dtype of a data column that holds samples. */
  columnDType(column: string): DType | undefined {
    if (!this.#holdsAny(dataStorage(column))) return undefined;
    return this.#staged?.columns[column] ?? this.#base.columns[column];
  }

  stage(storage: string, key: string, hash: string | null): void {
    const staged = this.#writable();
    let changes = staged.changes.get(storage);
    if (changes === undefined) {
      changes = new Map();
      staged.changes.set(storage, changes);
    }
    changes.set(key, hash);
    if (hash === null) this.#nonEmpty.delete(storage);
    else this.#nonEmpty.add(storage);
  }

  /** Stages `hashes[i]` under `keys[i]` for every i, in one pass (a batch of samples). */
  stageMany(storage: string, keys: readonly string[], hashes: readonly string[]): void {
    if (keys.length === 0) return;
    const staged = this.#writable();
    let changes = staged.changes.get(storage);
    if (changes === undefined) {
      changes = new Map();
      staged.changes.set(storage, changes);
    }
    for (let index = 0; index < keys.length; index += 1) changes.set(keys[index] as string, hashes[index] as string);
    this.#nonEmpty.add(storage);
  }

  stageColumn(column: string, dtype: DType): void {
    this.#writable().columns[column] = dtype;
  }

  /** Whether a storage holds any key, without listing them all (writes ask this for every sample). */
  #holdsAny(storage: string): boolean {
    if (this.#nonEmpty.has(storage)) return true;
    const staged = this.#staged?.changes.get(storage);
    if (staged !== undefined) for (const hash of staged.values()) if (hash !== null) return this.#remember(storage);
    for (const key in this.#base.tree[storage] ?? {}) if (!staged?.has(key)) return this.#remember(storage);
    return false;
  }

  #remember(storage: string): true {
    this.#nonEmpty.add(storage);
    return true;
  }

  #writable(): StagedChanges {
    if (this.#staged === undefined) {
      throw new LarderError('Forbidden', 'This stock view is read-only: it shows a past commit');
    }
    return this.#staged;
  }
}

/** The checkpoints of a model, keyed by reference, in insertion order. */
import { PmfModelError } from '../errors/pmf-error.js';
import type { CheckpointReference } from '../metadata/pmf-metadata.js';
import { describeReference } from '../metadata/training-rules.js';
import type { Checkpoint } from './checkpoint.js';

/**
 * An ordered collection of checkpoints. References are unique; `10` and `'10'` are
 * different references, as they are in metadata.yaml.
 *
 * @example
 * const collection = new CheckpointCollection(first, second);
 * collection.latest; // second.name
 * collection.eloc(10).size; // how many checkpoints were saved at epoch 10
 * collection.iloc(-1); // second
 */
export class CheckpointCollection implements Iterable<[CheckpointReference, Checkpoint]> {
  readonly #checkpoints = new Map<CheckpointReference, Checkpoint>();
  #latest: CheckpointReference | null = null;

  constructor(...checkpoints: Checkpoint[]) {
    for (const checkpoint of checkpoints) this.add(checkpoint);
  }

  /** The reference of the checkpoint added last, or `null` when empty. */
  get latest(): CheckpointReference | null {
    return this.#latest;
  }

  get size(): number {
    return this.#checkpoints.size;
  }

  /** Adds a checkpoint; its name must be new and its epoch known. */
  add(checkpoint: Checkpoint): void {
    if (this.#checkpoints.has(checkpoint.name)) {
      throw new PmfModelError('invalid-checkpoint', `A checkpoint named ${describeReference(checkpoint.name)} exists`);
    }
    if (checkpoint.epoch === null) {
      const name = describeReference(checkpoint.name);
      throw new PmfModelError('invalid-checkpoint', `Checkpoint ${name} needs an epoch to join a collection`);
    }
    this.#checkpoints.set(checkpoint.name, checkpoint);
    this.#latest = checkpoint.name;
  }

  /** Stores `checkpoint` under `reference`, replacing (in place) any checkpoint already there. */
  set(reference: CheckpointReference, checkpoint: Checkpoint): void {
    const renamed = checkpoint.renamed(reference);
    if (this.#checkpoints.has(reference)) {
      if (renamed.epoch === null) throw new PmfModelError('invalid-checkpoint', 'A checkpoint needs an epoch');
      this.#checkpoints.set(reference, renamed);
    } else {
      this.add(renamed);
    }
  }

  /** Removes a checkpoint; `latest` falls back to the last one remaining. */
  delete(reference: CheckpointReference): boolean {
    const deleted = this.#checkpoints.delete(reference);
    if (deleted) this.#latest = [...this.#checkpoints.keys()].at(-1) ?? null;
    return deleted;
  }

  has(reference: CheckpointReference): boolean {
    return this.#checkpoints.has(reference);
  }

  /** The checkpoint named `reference`, or `fallback` (default `undefined`). */
  get(reference: CheckpointReference): Checkpoint | undefined;
  get<T>(reference: CheckpointReference, fallback: T): Checkpoint | T;
  get<T>(reference: CheckpointReference, fallback?: T): Checkpoint | T | undefined {
    return this.#checkpoints.get(reference) ?? fallback;
  }

  /** The checkpoints saved at `epoch`, as a new collection (empty when there are none). */
  eloc(epoch: number): CheckpointCollection {
    return new CheckpointCollection(...[...this.values()].filter((checkpoint) => checkpoint.epoch === epoch));
  }

  /** The checkpoint at insertion position `index`; negative indexes count from the end. */
  iloc(index: number): Checkpoint | undefined {
    return [...this.values()].at(index);
  }

  /** The checkpoints between insertion positions `start` and `end`, as `Array.prototype.slice`. */
  slice(start?: number, end?: number): Checkpoint[] {
    return [...this.values()].slice(start, end);
  }

  keys(): IterableIterator<CheckpointReference> {
    return this.#checkpoints.keys();
  }

  values(): IterableIterator<Checkpoint> {
    return this.#checkpoints.values();
  }

  items(): IterableIterator<[CheckpointReference, Checkpoint]> {
    return this.#checkpoints.entries();
  }

  [Symbol.iterator](): IterableIterator<[CheckpointReference, Checkpoint]> {
    return this.items();
  }

  /** Whether both hold the same references with equal checkpoints (same epoch and hash). */
  equals(other: CheckpointCollection): boolean {
    if (other.size !== this.size) return false;
    for (const [reference, checkpoint] of this) {
      const match = other.get(reference);
      if (!match?.equals(checkpoint)) return false;
    }
    return true;
  }
}

/** A checkpoint: a named weight file, the epoch it was saved at, and its MD5. */
import { statSync } from 'node:fs';
import { PmfModelError } from '../errors/pmf-error.js';
import { isMd5, md5File } from '../files/md5.js';
import type { CheckpointReference } from '../metadata/pmf-metadata.js';

export interface CheckpointInit {
  /** The unique reference: a string or an integer. */
  name: CheckpointReference;
  /** The weight file; `null` for a checkpoint only recorded in metadata (inside an initialisation model). */
  path?: string | null;
  /** The epoch; required to add the checkpoint to a collection. */
  epoch?: number | null;
  /** The file's MD5 hex digest. */
  hash: string;
}

/**
 * A checkpoint. Use `Checkpoint.fromFile` to hash a file you have; the constructor takes a
 * known hash.
 *
 * @example
 * const checkpoint = await Checkpoint.fromFile('epoch-10', 'runs/weights-10.h5', 10);
 * model.addCheckpoint(checkpoint);
 */
export class Checkpoint {
  readonly name: CheckpointReference;
  readonly path: string | null;
  readonly epoch: number | null;
  readonly hash: string;

  constructor(init: CheckpointInit) {
    if (typeof init.name !== 'string' && !Number.isSafeInteger(init.name)) {
      throw new PmfModelError('invalid-checkpoint', `Checkpoint name ${init.name} must be a string or an integer`);
    }
    if (init.epoch != null && !Number.isSafeInteger(init.epoch)) {
      throw new PmfModelError('invalid-checkpoint', `Checkpoint epoch ${init.epoch} must be an integer`);
    }
    if (!isMd5(init.hash)) {
      throw new PmfModelError('invalid-checkpoint', `Checkpoint hash "${init.hash}" is not an MD5 hex digest`);
    }
    if (init.path != null && !isFile(init.path)) {
      throw new PmfModelError('not-found', `Checkpoint file ${init.path} does not exist or is not a file`);
    }
    this.name = init.name;
    this.path = init.path ?? null;
    this.epoch = init.epoch ?? null;
    this.hash = init.hash;
  }

  /** A checkpoint for an existing file, hashing it. */
  static async fromFile(name: CheckpointReference, path: string, epoch: number | null = null): Promise<Checkpoint> {
    if (!isFile(path)) throw new PmfModelError('not-found', `Checkpoint file ${path} does not exist or is not a file`);
    return new Checkpoint({ name, path, epoch, hash: await md5File(path) });
  }

  /** The same checkpoint under another name. */
  renamed(name: CheckpointReference): Checkpoint {
    return new Checkpoint({ name, path: this.path, epoch: this.epoch, hash: this.hash });
  }

  /** Two checkpoints are equal when they hold the same weights at the same epoch, whatever their names. */
  equals(other: Checkpoint): boolean {
    return this.epoch === other.epoch && this.hash === other.hash;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

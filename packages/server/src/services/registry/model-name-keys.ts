/**
 * One model name per owner, enforced by the store itself: each name holds a row in
 * `_model_names` whose id is `<owner>/<name>`, so two concurrent creations (on any
 * instance) cannot both win. The row is taken before the model is written and given back
 * if the write fails or once the model is renamed or removed.
 */
import { eq, LarderError } from '@larder/protocol';
import type { DocumentStore } from '../../stores/document-store.js';

export const MODEL_NAMES_COLLECTION = '_model_names';

export class ModelNameKeys {
  constructor(private readonly store: DocumentStore) {}

  /** Takes `name` for `owner`; Conflict when they already have a model of that name. */
  async take(owner: string, name: string, modelId: string): Promise<void> {
    await this.store.ensureCollection(MODEL_NAMES_COLLECTION);
    try {
      await this.store.insert(MODEL_NAMES_COLLECTION, [{ _id: keyOf(owner, name), owner, name, modelId }]);
    } catch (error) {
      if (error instanceof LarderError && error.name === 'Conflict') {
        throw new LarderError(
          'Conflict',
          `A model named "${name}" already exists for this owner: choose another name, or push a new version to it`,
        );
      }
      throw error;
    }
  }

  async release(owner: string, name: string): Promise<void> {
    await this.store.remove(MODEL_NAMES_COLLECTION, eq(['_id'], keyOf(owner, name)));
  }
}

/** Whose name space a model lives in: its owner, or the single local owner without auth. */
export function ownerKey(userId: unknown): string {
  return typeof userId === 'string' ? `user:${userId}` : 'local';
}

function keyOf(owner: string, name: string): string {
  return `${owner}/${name}`;
}

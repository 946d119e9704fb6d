/**
 * Names unique within a folder (runs, artifacts): one key record per (folder, name) in an
 * internal collection, inserted before the record it names, so two instances creating the
 * same name at once cannot both succeed.
 */
import { createHash } from 'node:crypto';
import { eq, LarderError } from '@larder/protocol';
import type { DocumentStore } from '../../stores/document-store.js';

export class UniqueNames {
  constructor(
    private readonly store: DocumentStore,
    /** e.g. `_run_names` */
    private readonly collection: string,
  ) {}

  private keyOf(folder: string, name: string): string {
    return `n${createHash('sha256').update(`${folder}\n${name}`).digest('hex').slice(0, 40)}`;
  }

  /** Takes the name for `owner` (a record id); false when another record holds it. */
  async claim(folder: string, name: string, owner: string): Promise<boolean> {
    const _id = this.keyOf(folder, name);
    try {
      await this.store.ensureCollection(this.collection);
      await this.store.insert(this.collection, [{ _id, folder, name, owner }]);
      return true;
    } catch (error) {
      if (!(error instanceof LarderError && error.name === 'Conflict')) throw error;
      // A key whose record is gone (a crash between the two writes) is taken over.
      const [key] = await this.store.find(this.collection, { filter: eq(['_id'], _id), limit: 1 });
      return key?.owner === owner;
    }
  }

  /** The record holding the name, if any. */
  async holder(folder: string, name: string): Promise<string | undefined> {
    const [key] = await this.store.find(this.collection, { filter: eq(['_id'], this.keyOf(folder, name)), limit: 1 });
    return typeof key?.owner === 'string' ? key.owner : undefined;
  }

  async release(folder: string, name: string, owner: string): Promise<void> {
    await this.store.remove(this.collection, {
      op: 'and',
      filters: [eq(['_id'], this.keyOf(folder, name)), eq(['owner'], owner)],
    });
  }

  /** Hands a key over to another owner (a dangling key, checked by the caller). */
  async reassign(folder: string, name: string, owner: string): Promise<void> {
    await this.store.modify(this.collection, eq(['_id'], this.keyOf(folder, name)), (key) => ({ ...key, owner }));
  }
}

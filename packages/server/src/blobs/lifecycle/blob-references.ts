/**
 * Who holds which blob: one row per (blob, owner) in `_blob_refs`, where an owner is a
 * record (`<collection>/<id>`). A blob with no row is garbage once its last upload is older
 * than the grace period (see `garbage-collector.ts`).
 *
 * Writers add references *before* the record that holds them is written and drop them
 * *after* it is gone, so a crash in between can leak a reference (the collector repairs
 * those) but never leave a record pointing at a collected blob.
 */
import { eq, type Filter, LarderError, or } from '@larder/protocol';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';

export const BLOB_REFS_COLLECTION = '_blob_refs';

const BATCH = 500;

export interface BlobReference {
  sha256: string;
  owner: string;
}

export function ownerOf(collection: string, id: string): string {
  return `${collection}/${id}`;
}

function referenceId(reference: BlobReference): string {
  return `${reference.sha256}:${reference.owner}`;
}

export class BlobReferences {
  constructor(private readonly store: DocumentStore) {}

  /**
   * Records that `owner` holds each of `hashes`; answers the references that were new
   * (already recorded ones are left as they are).
   */
  async add(owner: string, hashes: Iterable<string>): Promise<BlobReference[]> {
    return this.addAll([...new Set(hashes)].map((sha256) => ({ sha256, owner })));
  }

  /** `add` for many owners at once (a bulk create), a few queries per 500 references. */
  async addAll(references: readonly BlobReference[]): Promise<BlobReference[]> {
    const unique = new Map(references.map((reference) => [referenceId(reference), reference]));
    const wanted = [...unique.values()];
    const added: BlobReference[] = [];
    for (let start = 0; start < wanted.length; start += BATCH) {
      added.push(...(await this.insertMissing(wanted.slice(start, start + BATCH))));
    }
    return added;
  }

  /** Forgets the given references. */
  async remove(references: readonly BlobReference[]): Promise<void> {
    for (let start = 0; start < references.length; start += BATCH) {
      const slice = references.slice(start, start + BATCH);
      await this.store.remove(BLOB_REFS_COLLECTION, or(...slice.map((each) => eq(['_id'], referenceId(each)))));
    }
  }

  /** Forgets everything these owners held. */
  async release(owners: readonly string[]): Promise<void> {
    for (let start = 0; start < owners.length; start += BATCH) {
      const slice = owners.slice(start, start + BATCH);
      await this.store.remove(BLOB_REFS_COLLECTION, or(...slice.map((owner) => eq(['owner'], owner))));
    }
  }

  /** Whether any owner holds the blob. */
  async isReferenced(sha256: string): Promise<boolean> {
    return (await this.store.count(BLOB_REFS_COLLECTION, eq(['sha256'], sha256))) > 0;
  }

  /** Every referenced hash. */
  async referencedHashes(): Promise<Set<string>> {
    const hashes = await this.store.distinct(BLOB_REFS_COLLECTION, ['sha256'], { op: 'all' });
    return new Set(hashes.filter((hash): hash is string => typeof hash === 'string'));
  }

  /** References recorded before `before` (ms since the epoch), for the collector's repair. */
  async olderThan(before: number): Promise<(BlobReference & { at: number })[]> {
    const rows = await this.store.find(BLOB_REFS_COLLECTION, { filter: { op: 'lt', path: ['at'], value: before } });
    return rows.map((row) => ({ sha256: String(row.sha256), owner: String(row.owner), at: Number(row.at) }));
  }

  private async insertMissing(references: readonly BlobReference[]): Promise<BlobReference[]> {
    // Two writers may race on the same reference: the loser's insert conflicts, so look again.
    for (let attempt = 0; ; attempt += 1) {
      const ids = references.map(referenceId);
      const existing = await this.store.find(BLOB_REFS_COLLECTION, { filter: idsFilter(ids) });
      const present = new Set(existing.map((row) => row._id));
      const missing = references.filter((reference) => !present.has(referenceId(reference)));
      if (missing.length === 0) return [];
      const at = Date.now();
      const rows: StoredDocument[] = missing.map((reference) => ({ _id: referenceId(reference), ...reference, at }));
      try {
        await this.store.ensureCollection(BLOB_REFS_COLLECTION);
        await this.store.insert(BLOB_REFS_COLLECTION, rows);
        return missing;
      } catch (error) {
        if (!(error instanceof LarderError && error.name === 'Conflict') || attempt >= 3) throw error;
      }
    }
  }
}

function idsFilter(ids: readonly string[]): Filter {
  return or(...ids.map((id) => eq(['_id'], id)));
}

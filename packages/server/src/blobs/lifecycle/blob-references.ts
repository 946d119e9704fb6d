/**
 * Who holds which blob: one row per (blob, owner) in `_blob_refs`, where an owner is a
 * record (`<collection>/<id>`). A blob with no row is garbage once its last upload is older
 * than the grace period (see `garbage-collector.ts`).
 *
 * Writers add references *before* the record that holds them is written and drop them
 * *after* it is gone, so a crash in between can leak a reference (the collector repairs
 * those) but never leave a record pointing at a collected blob.
 *
 * Two writers of one owner may need the same row. Whoever adds a reference also touches the
 * rows already there (`at` = now, `writer` = its own token), and every removal is
 * conditional, so that it cannot take a row another writer has touched since: an undo
 * removes only rows that still carry its own token (`remove`), a writer dropping what its
 * record no longer names only rows untouched since its write began (`removeUntouchedSince`,
 * `release`'s `since`).
 */
import { randomUUID } from 'node:crypto';
import { and, eq, type Filter, LarderError, or } from '@larder/protocol';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';

export const BLOB_REFS_COLLECTION = '_blob_refs';

/**
 * The owner of a write's own hold (`<this>/<uuid>`, see `RecordBlobReferences.holdForWrite`).
 * No collection has this name, so a hold a crash left behind is dropped by the collector's
 * repair of dangling references.
 */
export const WRITE_HOLDS_OWNER = '_write_holds';

const BATCH = 500;

export interface BlobReference {
  sha256: string;
  owner: string;
}

/** A reference a call inserted, with that call's token: what its undo may remove. */
export interface HeldReference extends BlobReference {
  writer: string;
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
   * Records that `owner` holds each of `hashes` and touches those already recorded; answers
   * the references this call inserted (for an undo, `remove`).
   */
  async add(owner: string, hashes: Iterable<string>, options?: AddOptions): Promise<HeldReference[]> {
    return this.addAll(
      [...new Set(hashes)].map((sha256) => ({ sha256, owner })),
      options,
    );
  }

  /** `add` for many owners at once (a bulk create), a few queries per 500 references. */
  async addAll(references: readonly BlobReference[], options?: AddOptions): Promise<HeldReference[]> {
    const unique = new Map(references.map((reference) => [referenceId(reference), reference]));
    const wanted = [...unique.values()];
    const writer = options?.writer ?? randomUUID();
    const added: HeldReference[] = [];
    for (let start = 0; start < wanted.length; start += BATCH) {
      added.push(...(await this.insertMissing(wanted.slice(start, start + BATCH), writer, options?.continuing)));
    }
    return added;
  }

  /**
   * Undoes an `add`: forgets the references it inserted, except any another writer has
   * touched since (it needs them).
   */
  async remove(references: readonly HeldReference[]): Promise<void> {
    const byWriter = new Map<string, HeldReference[]>();
    for (const each of references) byWriter.set(each.writer, [...(byWriter.get(each.writer) ?? []), each]);
    for (const [writer, held] of byWriter) {
      for (let start = 0; start < held.length; start += BATCH) {
        const slice = held.slice(start, start + BATCH);
        await this.store.remove(BLOB_REFS_COLLECTION, and(eq(['writer'], writer), idsFilter(slice.map(referenceId))));
      }
    }
  }

  /**
   * Forgets references their owner no longer names, except those touched at or after `since`
   * (ms since the epoch, taken before the owner's write): a writer that touched one later
   * needs it.
   */
  async removeUntouchedSince(references: readonly BlobReference[], since: number): Promise<void> {
    for (let start = 0; start < references.length; start += BATCH) {
      const slice = references.slice(start, start + BATCH);
      await this.store.remove(BLOB_REFS_COLLECTION, and(untouchedSince(since), idsFilter(slice.map(referenceId))));
    }
  }

  /**
   * Forgets everything these owners held; with `since`, except rows touched at or after it (a
   * writer re-creating the owner meanwhile needs them).
   */
  async release(owners: readonly string[], since?: number): Promise<void> {
    for (let start = 0; start < owners.length; start += BATCH) {
      const slice = owners.slice(start, start + BATCH);
      const filter = or(...slice.map((owner) => eq(['owner'], owner)));
      await this.store.remove(BLOB_REFS_COLLECTION, since === undefined ? filter : and(untouchedSince(since), filter));
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

  private async insertMissing(
    references: readonly BlobReference[],
    writer: string,
    continuing: string | undefined,
  ): Promise<HeldReference[]> {
    const inserted: HeldReference[] = [];
    let pending = references;
    // Two writers may race on the same reference: the loser's insert conflicts, so look again.
    for (let attempt = 0; ; attempt += 1) {
      const ids = pending.map(referenceId);
      const existing = await this.store.find(BLOB_REFS_COLLECTION, { filter: idsFilter(ids) });
      const at = Date.now();
      // Rows already there are touched, so that no other writer's undo or drop takes them now
      // (a row of the `continuing` call is this write's own, and needs no touch).
      const touch = existing
        .filter((row) => continuing === undefined || row.writer !== continuing)
        .map((row) => row._id);
      const kept = new Set(existing.map((row) => row._id));
      if (touch.length > 0) {
        const touched = await this.store.modify(BLOB_REFS_COLLECTION, idsFilter(touch), (row) => ({
          ...row,
          at,
          writer,
        }));
        const stillThere = new Set(touched.map(({ after }) => after._id));
        for (const id of touch) if (!stillThere.has(id)) kept.delete(id); // removed meanwhile: insert it
      }
      const missing = pending.filter((reference) => !kept.has(referenceId(reference)));
      if (missing.length === 0) return inserted;
      const rows: StoredDocument[] = missing.map((reference) => ({
        _id: referenceId(reference),
        ...reference,
        at,
        writer,
      }));
      try {
        await this.store.ensureCollection(BLOB_REFS_COLLECTION);
        await this.store.insert(BLOB_REFS_COLLECTION, rows);
        inserted.push(...missing.map((reference) => ({ ...reference, writer })));
        return inserted;
      } catch (error) {
        if (!(error instanceof LarderError && error.name === 'Conflict') || attempt >= 3) throw error;
        pending = missing;
      }
    }
  }
}

export interface AddOptions {
  /** This write's token (a fresh one by default), to hand to a later step as `continuing`. */
  writer?: string;
  /**
   * The token (`HeldReference.writer`) of an earlier `add` this write continues: its rows are
   * this write's own and are not touched again.
   */
  continuing?: string;
}

function idsFilter(ids: readonly string[]): Filter {
  return or(...ids.map((id) => eq(['_id'], id)));
}

function untouchedSince(since: number): Filter {
  return { op: 'lt', path: ['at'], value: since };
}

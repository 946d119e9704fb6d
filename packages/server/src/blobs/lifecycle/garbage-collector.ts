/**
 * Mark-and-sweep for blobs. A blob is kept when a record references it (`_blob_refs`) or
 * when it was uploaded within the grace period (`_blob_uploads`); everything else is
 * deleted, with the claims that granted reading it.
 *
 * Safe while uploads and writes go on: each candidate is marked in `_blob_collecting`, then
 * checked again, then deleted, then unmarked. Writers record their upload or reference
 * first and look for the mark second (`survivesCollection`), so for every interleaving
 * either the collector sees the writer's row or the writer sees the mark and waits. Each
 * delete writes a new deletion token before its unmark (`noteDeletion`), which lets a writer
 * that saw no mark skip its stat when the token did not move (`lostAmong`).
 *
 * @example
 * const report = await new GarbageCollector(store, blobs).collect({ graceMs: 0 });
 * console.log(`${report.deleted} blobs, ${report.bytesFreed} bytes freed`);
 */
import { and, eq, LarderError, or } from '@larder/protocol';
import { BLOB_CLAIMS_COLLECTION } from '../../auth/blob-access.js';
import type { DocumentStore } from '../../stores/document-store.js';
import type { BlobStore } from '../blob-store.js';
import { BlobReferences } from './blob-references.js';
import { BLOB_COLLECTING_COLLECTION, BLOB_UPLOADS_COLLECTION, noteDeletion } from './blob-uploads.js';

export interface CollectOptions {
  /** Blobs uploaded less than this long ago are kept even when unreferenced. */
  graceMs: number;
  /** Report what would go, delete nothing. */
  dryRun?: boolean;
}

export interface CollectReport {
  scanned: number;
  referenced: number;
  /** Unreferenced but uploaded within the grace period. */
  recent: number;
  /** Deleted (or, in a dry run, that would be). */
  deleted: number;
  bytesFreed: number;
  /** References whose record no longer exists, dropped (left by a crash between writes). */
  danglingReferences: number;
  dryRun: boolean;
  milliseconds: number;
}

/** A mark older than this was left by a collector that died; it is cleared. */
const STALE_MARK_MS = 10 * 60_000;
/**
 * A collector that took longer than this since its mark deletes nothing: another one may
 * already have cleared the mark as stale, and a writer then trusted the blob.
 */
const MARK_TRUSTED_MS = STALE_MARK_MS / 2;
/**
 * References younger than this are never dropped as dangling, whatever the grace period:
 * a writer adds (or touches) its reference before writing the record that holds it, so a
 * young reference with no record is most likely a write under way.
 */
const DANGLING_MIN_AGE_MS = 10 * 60_000;
const OWNER_BATCH = 500;

export class GarbageCollector {
  private readonly references: BlobReferences;

  constructor(
    private readonly store: DocumentStore,
    private readonly blobs: BlobStore,
  ) {
    this.references = new BlobReferences(store);
  }

  async collect(options: CollectOptions): Promise<CollectReport> {
    const started = Date.now();
    const dryRun = options.dryRun ?? false;
    const cutoff = started - Math.max(0, options.graceMs);
    await this.store.remove(BLOB_COLLECTING_COLLECTION, { op: 'lt', path: ['at'], value: started - STALE_MARK_MS });
    const danglingReferences = await this.dropDanglingReferences(
      Math.min(cutoff, started - DANGLING_MIN_AGE_MS),
      dryRun,
    );

    const referenced = await this.references.referencedHashes();
    const recentRows = await this.store.distinct(BLOB_UPLOADS_COLLECTION, ['_id'], {
      op: 'gte',
      path: ['at'],
      value: cutoff,
    });
    const recent = new Set(recentRows.map(String));
    const report: CollectReport = {
      scanned: 0,
      referenced: 0,
      recent: 0,
      deleted: 0,
      bytesFreed: 0,
      danglingReferences,
      dryRun,
      milliseconds: 0,
    };
    const candidates: string[] = [];
    for await (const sha256 of this.blobs.list()) {
      report.scanned += 1;
      if (referenced.has(sha256)) report.referenced += 1;
      else if (recent.has(sha256)) report.recent += 1;
      else candidates.push(sha256);
    }
    for (const sha256 of candidates) {
      const freed = dryRun ? ((await this.blobs.stat(sha256))?.size ?? 0) : await this.sweep(sha256, cutoff);
      if (freed === undefined) continue;
      report.deleted += 1;
      report.bytesFreed += freed;
    }
    report.milliseconds = Date.now() - started;
    return report;
  }

  /** Deletes one candidate unless someone took it meanwhile; answers the bytes freed, or undefined when kept. */
  private async sweep(sha256: string, cutoff: number): Promise<number | undefined> {
    const markedAt = Date.now();
    try {
      await this.store.ensureCollection(BLOB_COLLECTING_COLLECTION);
      await this.store.insert(BLOB_COLLECTING_COLLECTION, [{ _id: sha256, at: markedAt }]);
    } catch (error) {
      if (error instanceof LarderError && error.name === 'Conflict') return undefined; // another collector has it
      throw error;
    }
    // Once the blob is deleted, the mark stays until the new deletion token is written: a
    // writer that finds neither may trust its bytes without a stat (`lostAmong`). Should that
    // write fail, the mark is left to go stale, and writers meanwhile wait on it.
    let unmark = true;
    try {
      const uploadedRecently = await this.store.count(
        BLOB_UPLOADS_COLLECTION,
        and(eq(['_id'], sha256), { op: 'gte', path: ['at'], value: cutoff }),
      );
      if (uploadedRecently > 0 || (await this.references.isReferenced(sha256))) return undefined;
      const size = (await this.blobs.stat(sha256))?.size ?? 0;
      if (!(await this.stillMarked(sha256, markedAt))) return undefined;
      unmark = false;
      try {
        await this.blobs.delete(sha256);
      } finally {
        // Even after a failed delete: the bytes may be gone.
        await noteDeletion(this.store);
        unmark = true;
      }
      await this.store.remove(BLOB_CLAIMS_COLLECTION, eq(['sha256'], sha256));
      await this.store.remove(BLOB_UPLOADS_COLLECTION, eq(['_id'], sha256));
      return size;
    } finally {
      if (unmark) await this.store.remove(BLOB_COLLECTING_COLLECTION, eq(['_id'], sha256));
    }
  }

  /**
   * Whether this collector's mark still stands and is young enough to be trusted: one that
   * stalled (a slow store, a paused process) past `MARK_TRUSTED_MS` keeps the blob, since
   * another collector clears marks older than `STALE_MARK_MS` and writers then trust the blob.
   */
  private async stillMarked(sha256: string, markedAt: number): Promise<boolean> {
    if (Date.now() - markedAt > MARK_TRUSTED_MS) return false;
    const mark = and(eq(['_id'], sha256), eq(['at'], markedAt));
    return (await this.store.count(BLOB_COLLECTING_COLLECTION, mark)) > 0;
  }

  /**
   * References older than the cutoff whose record is gone: a writer crashed between
   * recording the reference and writing (or after deleting) the record.
   */
  private async dropDanglingReferences(cutoff: number, dryRun: boolean): Promise<number> {
    const stale = await this.references.olderThan(cutoff);
    const byCollection = new Map<string, Map<string, typeof stale>>();
    for (const reference of stale) {
      const slash = reference.owner.indexOf('/');
      if (slash <= 0) continue;
      const collection = reference.owner.slice(0, slash);
      const id = reference.owner.slice(slash + 1);
      const owners = byCollection.get(collection) ?? new Map<string, typeof stale>();
      owners.set(id, [...(owners.get(id) ?? []), reference]);
      byCollection.set(collection, owners);
    }
    let dropped = 0;
    for (const [collection, owners] of byCollection) {
      const ids = [...owners.keys()];
      for (let start = 0; start < ids.length; start += OWNER_BATCH) {
        const slice = ids.slice(start, start + OWNER_BATCH);
        const alive = await this.store.find(collection, { filter: or(...slice.map((id) => eq(['_id'], id))) });
        const aliveIds = new Set(alive.map((row) => row._id));
        const gone = slice.filter((id) => !aliveIds.has(id)).flatMap((id) => owners.get(id) ?? []);
        dropped += gone.length;
        // Only rows still untouched since the cutoff: a writer re-creating the record has touched its own.
        if (!dryRun && gone.length > 0) await this.references.removeUntouchedSince(gone, cutoff);
      }
    }
    return dropped;
  }
}

/**
 * Which assets belong to which dataset version: rows `{ _id: "<versionId>:<assetId>",
 * versionId, assetId }` in their own collection, written in batches, so a version of
 * 100,000+ pictures is 100,000+ small rows rather than one huge document. The version keeps
 * `assetCount` up to date after every change.
 */
import { and, eq, LarderError } from '@larder/protocol';
import { ownershipPolicy } from '../../auth/access-policy.js';
import type { Actor } from '../../auth/actor.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import {
  ANNOTATIONS,
  ASSETS,
  anyOf,
  inBatches,
  MEMBERS,
  memberId,
  VERSIONS,
  versionRows,
  WRITE_BATCH,
} from './datalake-collections.js';

export class VersionMembership {
  constructor(private readonly store: DocumentStore) {}

  /**
   * Adds assets the actor may read to a version (those already in it are skipped); answers
   * how many were new. Unknown or unreadable ids are refused before anything is written.
   */
  async add(actor: Actor, versionId: string, assetIds: readonly string[]): Promise<number> {
    const wanted = [...new Set(assetIds)];
    await inBatches(wanted, WRITE_BATCH, async (batch) => {
      const found = await this.store.find(ASSETS, {
        filter: and(anyOf('_id', batch), ownershipPolicy.readFilter(actor)),
      });
      if (found.length === batch.length) return;
      const known = new Set(found.map((asset) => asset._id));
      const missing = batch.filter((id) => !known.has(id));
      throw new LarderError(
        'BadRequest',
        `${missing.length} of the given assets do not exist or you may not read them (${missing.slice(0, 3).join(', ')}); upload them first`,
      );
    });
    let added = 0;
    await this.store.ensureCollection(MEMBERS);
    const now = new Date().toISOString();
    await inBatches(wanted, WRITE_BATCH, async (batch) => {
      const ids = batch.map((assetId) => memberId(versionId, assetId));
      const present = new Set((await this.store.find(MEMBERS, { filter: anyOf('_id', ids) })).map((row) => row._id));
      const rows: StoredDocument[] = batch
        .filter((assetId) => !present.has(memberId(versionId, assetId)))
        .map((assetId) => ({ _id: memberId(versionId, assetId), versionId, assetId, addedAt: now }));
      if (rows.length > 0) await this.store.insert(MEMBERS, rows);
      added += rows.length;
    });
    await this.refreshCount(versionId);
    return added;
  }

  /** Copies every member of `fromVersionId` into `toVersionId` (a new, empty version). */
  async copy(fromVersionId: string, toVersionId: string): Promise<void> {
    const rows = await this.store.find(MEMBERS, { filter: versionRows(fromVersionId) });
    const now = new Date().toISOString();
    await this.store.ensureCollection(MEMBERS);
    await inBatches(rows, WRITE_BATCH, async (batch) => {
      await this.store.insert(
        MEMBERS,
        batch.map((row) => {
          const assetId = String(row.assetId);
          return { _id: memberId(toVersionId, assetId), versionId: toVersionId, assetId, addedAt: now };
        }),
      );
    });
    await this.refreshCount(toVersionId);
  }

  /** Takes assets out of a version, with their annotations there; answers how many left. */
  async remove(versionId: string, assetIds: readonly string[] | 'all'): Promise<number> {
    let removed = 0;
    if (assetIds === 'all') {
      removed = (await this.store.remove(MEMBERS, versionRows(versionId))).length;
      await this.store.remove(ANNOTATIONS, versionRows(versionId));
    } else {
      await inBatches([...new Set(assetIds)], WRITE_BATCH, async (batch) => {
        const ids = batch.map((assetId) => memberId(versionId, assetId));
        removed += (await this.store.remove(MEMBERS, anyOf('_id', ids))).length;
        await this.store.remove(ANNOTATIONS, and(versionRows(versionId), anyOf('assetId', batch)));
      });
    }
    await this.refreshCount(versionId);
    return removed;
  }

  /** The asset ids of a version, in key order. */
  async assetIds(versionId: string): Promise<string[]> {
    const rows = await this.store.find(MEMBERS, { filter: versionRows(versionId) });
    return rows.map((row) => String(row.assetId));
  }

  /** Which of `assetIds` are members of the version. */
  async present(versionId: string, assetIds: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    await inBatches([...new Set(assetIds)], WRITE_BATCH, async (batch) => {
      const rows = await this.store.find(MEMBERS, {
        filter: anyOf(
          '_id',
          batch.map((id) => memberId(versionId, id)),
        ),
      });
      for (const row of rows) found.add(String(row.assetId));
    });
    return found;
  }

  /** The versions holding any of `assetIds`. */
  async versionsHolding(assetIds: readonly string[]): Promise<string[]> {
    const versions = new Set<string>();
    await inBatches(assetIds, WRITE_BATCH, async (batch) => {
      for (const id of await this.store.distinct(MEMBERS, ['versionId'], anyOf('assetId', batch))) {
        versions.add(String(id));
      }
    });
    return [...versions];
  }

  async refreshCount(versionId: string): Promise<void> {
    const assetCount = await this.store.count(MEMBERS, versionRows(versionId));
    await this.store.modify(VERSIONS, eq(['_id'], versionId), (version) => ({ ...version, assetCount }));
  }
}

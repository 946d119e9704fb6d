/**
 * Keeps `_blob_refs` in step with the records of one collection: a record holds the blobs
 * its fields name (`{ sha256: … }` objects, see `blob-hashes-in-document.ts`). References are
 * added before a write and dropped after it, so a record never points at a collected blob.
 *
 * A write that changes records (`update`, `patch`) does not know which records, or which of
 * their blobs, it will touch until it has run: before it, every hash its input could name is
 * held under an owner of the write's own (`holdForWrite`), released once the records' own
 * references are in place.
 */
import { randomUUID } from 'node:crypto';
import type { BlobMention } from '../../blobs/lifecycle/blob-hashes-in-document.js';
import {
  type BlobReference,
  BlobReferences,
  type HeldReference,
  ownerOf,
  WRITE_HOLDS_OWNER,
} from '../../blobs/lifecycle/blob-references.js';
import type { DocumentStore, Modification, StoredDocument } from '../../stores/document-store.js';

/** What `holdForWrite` holds, to hand to `releaseWrite`. */
export interface WriteHold {
  owner: string;
  /** When the hold was taken: references untouched since may be dropped by the write. */
  since: number;
}

export class RecordBlobReferences {
  private readonly references: BlobReferences;

  constructor(
    store: DocumentStore,
    private readonly collection: string,
    namedBy: (record: unknown) => Map<string, BlobMention>,
  ) {
    this.references = new BlobReferences(store);
    this.hashesIn = (record) => new Set(namedBy(record).keys());
  }

  /** The blobs a record holds, as its service reads them. */
  private readonly hashesIn: (record: unknown) => Set<string>;

  /**
   * Before writing records: references for every blob their data names (those already there
   * touched). Answers what was inserted, for `undo`. `continuing`: the token of references an
   * earlier step of the same request added for these records.
   */
  async beforeWrite(records: readonly { id: string; data: unknown }[], continuing?: string): Promise<HeldReference[]> {
    const wanted: BlobReference[] = [];
    for (const record of records) {
      const owner = ownerOf(this.collection, record.id);
      for (const sha256 of this.hashesIn(record.data)) wanted.push({ sha256, owner });
    }
    return wanted.length > 0 ? this.references.addAll(wanted, { continuing }) : [];
  }

  /** The write failed: forget the references `beforeWrite` inserted, unless another writer touched them since. */
  async undo(added: readonly HeldReference[]): Promise<void> {
    if (added.length > 0) await this.references.remove(added);
  }

  /** Before a write that changes records: `hashes` (anything its input could name) held by the write itself. */
  async holdForWrite(hashes: Iterable<string>): Promise<WriteHold> {
    const hold: WriteHold = { owner: ownerOf(WRITE_HOLDS_OWNER, randomUUID()), since: Date.now() };
    await this.references.add(hold.owner, hashes);
    return hold;
  }

  /** After the write (done or failed): its own hold goes. */
  async releaseWrite(hold: WriteHold): Promise<void> {
    await this.references.release([hold.owner]);
  }

  /**
   * After records changed: references for what they newly name (those already there touched,
   * so that no other writer's undo takes them), none for what they no longer name (except a
   * reference another writer touched after `since`, taken before the write: it is about to
   * name that blob again). What a record named before and still names has its reference
   * already, which only a drop of this owner's could take.
   */
  async afterModify(modifications: readonly Modification[], since: number): Promise<void> {
    const wanted: BlobReference[] = [];
    const dropped: BlobReference[] = [];
    for (const { before, after } of modifications) {
      const previous = this.hashesIn(before);
      const current = this.hashesIn(after);
      const owner = ownerOf(this.collection, after._id);
      for (const sha256 of current) if (!previous.has(sha256)) wanted.push({ sha256, owner });
      for (const sha256 of previous) if (!current.has(sha256)) dropped.push({ sha256, owner });
    }
    if (wanted.length > 0) await this.references.addAll(wanted);
    if (dropped.length > 0) await this.references.removeUntouchedSince(dropped, since);
  }

  /** After records were removed (the removal began at `since`): their blobs are no longer held by them. */
  async afterRemove(removed: readonly StoredDocument[], since: number): Promise<void> {
    const owners = removed
      .filter((record) => this.hashesIn(record).size > 0)
      .map((record) => ownerOf(this.collection, record._id));
    if (owners.length > 0) await this.references.release(owners, since);
  }
}

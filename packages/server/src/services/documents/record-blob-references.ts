/**
 * Keeps `_blob_refs` in step with the records of one collection: a record holds the blobs
 * its fields name (`{ sha256: … }` objects, see `blob-hashes-in-document.ts`). References are
 * added before a write and dropped after it, so a record never points at a collected blob.
 */
import type { BlobMention } from '../../blobs/lifecycle/blob-hashes-in-document.js';
import { type BlobReference, BlobReferences, ownerOf } from '../../blobs/lifecycle/blob-references.js';
import type { DocumentStore, Modification, StoredDocument } from '../../stores/document-store.js';

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

  /** Before writing records: references for every blob their data names. Answers what was added, for `undo`. */
  async beforeWrite(records: readonly { id: string; data: unknown }[]): Promise<BlobReference[]> {
    const wanted: BlobReference[] = [];
    for (const record of records) {
      const owner = ownerOf(this.collection, record.id);
      for (const sha256 of this.hashesIn(record.data)) wanted.push({ sha256, owner });
    }
    return wanted.length > 0 ? this.references.addAll(wanted) : [];
  }

  /** The write failed: forget the references `beforeWrite` added. */
  async undo(added: readonly BlobReference[]): Promise<void> {
    if (added.length > 0) await this.references.remove(added);
  }

  /** After records changed: references for what they name now, none for what they no longer name. */
  async afterModify(modifications: readonly Modification[]): Promise<void> {
    for (const { before, after } of modifications) {
      const previous = this.hashesIn(before);
      const current = this.hashesIn(after);
      const owner = ownerOf(this.collection, after._id);
      if (current.size > 0) await this.references.add(owner, current);
      const dropped = [...previous].filter((hash) => !current.has(hash)).map((sha256) => ({ sha256, owner }));
      if (dropped.length > 0) await this.references.remove(dropped);
    }
  }

  /** After records were removed: their blobs are no longer held by them. */
  async afterRemove(removed: readonly StoredDocument[]): Promise<void> {
    const owners = removed
      .filter((record) => this.hashesIn(record).size > 0)
      .map((record) => ownerOf(this.collection, record._id));
    if (owners.length > 0) await this.references.release(owners);
  }
}

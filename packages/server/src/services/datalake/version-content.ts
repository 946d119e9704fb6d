/**
 * Everything a version holds besides its own record: membership, labels and annotations.
 * Deriving a version copies all three (labels get new ids, annotations follow them);
 * dropping a version deletes them.
 */
import { eq, newId } from '@larder/protocol';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { ANNOTATIONS, inBatches, LABELS, MEMBERS, versionRows, WRITE_BATCH } from './datalake-collections.js';
import { VersionMembership } from './version-membership.js';

export class VersionContent {
  private readonly membership: VersionMembership;

  constructor(private readonly store: DocumentStore) {
    this.membership = new VersionMembership(store);
  }

  async copy(fromVersionId: string, toVersionId: string): Promise<void> {
    await this.membership.copy(fromVersionId, toVersionId);
    const now = new Date().toISOString();
    const labels = await this.store.find(LABELS, { filter: eq(['versionId'], fromVersionId) });
    const labelIds = new Map<string, string>();
    const copiedLabels = labels.map((label) => {
      const _id = newId();
      labelIds.set(label._id, _id);
      return { ...label, _id, versionId: toVersionId, createdAt: now, updatedAt: now };
    });
    if (copiedLabels.length > 0) {
      await this.store.ensureCollection(LABELS);
      await this.store.insert(LABELS, copiedLabels);
    }
    const annotations = await this.store.find(ANNOTATIONS, { filter: versionRows(fromVersionId) });
    if (annotations.length === 0) return;
    await this.store.ensureCollection(ANNOTATIONS);
    await inBatches(annotations, WRITE_BATCH, async (batch) => {
      const rows: StoredDocument[] = batch.map((annotation) => ({
        ...annotation,
        _id: `${toVersionId}:${newId()}`,
        versionId: toVersionId,
        labelId: labelIds.get(String(annotation.labelId)) ?? String(annotation.labelId),
      }));
      await this.store.insert(ANNOTATIONS, rows);
    });
  }

  async drop(versionId: string): Promise<void> {
    await this.store.remove(MEMBERS, versionRows(versionId));
    await this.store.remove(ANNOTATIONS, versionRows(versionId));
    await this.store.remove(LABELS, eq(['versionId'], versionId));
  }
}

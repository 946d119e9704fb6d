/**
 * What deleting assets does to datasets: refused when a published version holds any of
 * them (published versions never change); otherwise they leave the draft versions that
 * held them, with their annotations there.
 */
import { and, eq, LarderError } from '@larder/protocol';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { anyOf, DATASETS, MEMBERS, VERSIONS } from './datalake-collections.js';
import { VersionMembership } from './version-membership.js';

export class AssetUsage {
  private readonly membership: VersionMembership;

  constructor(private readonly store: DocumentStore) {
    this.membership = new VersionMembership(store);
  }

  async assertNotPublished(assets: readonly StoredDocument[]): Promise<void> {
    if (assets.length === 0) return;
    const ids = assets.map((asset) => asset._id);
    const versions = await this.membership.versionsHolding(ids);
    if (versions.length === 0) return;
    const [published] = await this.store.find(VERSIONS, {
      filter: and(anyOf('_id', versions), eq(['published'], true)),
      limit: 1,
    });
    if (!published) return;
    const [member] = await this.store.find(MEMBERS, {
      filter: and(eq(['versionId'], published._id), anyOf('assetId', ids)),
      limit: 1,
    });
    const asset = assets.find((each) => each._id === member?.assetId);
    const [dataset] = await this.store.find(DATASETS, { filter: eq(['_id'], String(published.datasetId)), limit: 1 });
    const name = typeof asset?.filename === 'string' ? `'${asset.filename}'` : `asset ${asset?._id ?? ids[0]}`;
    throw new LarderError(
      'Conflict',
      `${name} belongs to the published version '${String(published.name)}' of dataset '${String(dataset?.name ?? published.datasetId)}', which cannot change; nothing was deleted. Delete that dataset first, or untag the picture instead`,
    );
  }

  /** After deletion: the assets leave every (draft) version that held them. */
  async forget(assetIds: readonly string[]): Promise<void> {
    if (assetIds.length === 0) return;
    for (const versionId of await this.membership.versionsHolding(assetIds)) {
      await this.membership.remove(versionId, assetIds);
    }
  }
}

/**
 * Marcelle's asset documents (`{ filename, extension, mime, url }` in `/assets`) point at
 * their bytes by `url`: `<sha256>/<field>`, as `POST /assets/upload` answered. These hooks on
 * the assets service make such a url behave like any file a record holds:
 * - a document may name only bytes its writer uploaded (knowing a hash is not holding the
 *   file), so nobody can publish someone else's private upload by its hash;
 * - the document holds a blob reference while it names the bytes, and drops it when the url
 *   changes or the document is removed, so the collector can take files nobody holds.
 */
import type { HookContext } from '@feathersjs/feathers';
import { eq, LarderError } from '@larder/protocol';
import type { FeatureContext } from '../../app/feature.js';
import { actorOf } from '../../auth/actor.js';
import { canReadBlob } from '../../auth/blob-access.js';
import { BLOB_REFS_COLLECTION, BlobReferences, ownerOf } from '../../blobs/lifecycle/blob-references.js';
import type { StoredDocument } from '../../stores/document-store.js';
import { isFileAsset } from '../datalake/assets-service.js';
import { ASSETS } from '../datalake/datalake-collections.js';

const UPLOADED_URL = /^([0-9a-f]{64})\//;

/** The blob an asset document's url names, if it is one of ours. */
export function urlBlob(record: unknown): string | undefined {
  const url = (record as { url?: unknown } | null)?.url;
  return typeof url === 'string' ? UPLOADED_URL.exec(url)?.[1] : undefined;
}

export function installAssetUrlReferences(context: FeatureContext): void {
  const { app, store, authEnabled } = context;
  const references = new BlobReferences(store);

  async function assertHeld(hook: HookContext): Promise<void> {
    const items: unknown[] = Array.isArray(hook.data) ? hook.data : [hook.data];
    const actor = actorOf(hook.params, authEnabled);
    let before: StoredDocument | undefined;
    if (hook.id !== undefined && hook.id !== null) {
      [before] = await store.find(ASSETS, { filter: eq(['_id'], String(hook.id)), limit: 1 });
    }
    for (const item of items) {
      const sha256 = urlBlob(item);
      if (sha256 === undefined || sha256 === urlBlob(before)) continue;
      if (!(await canReadBlob(store, actor, sha256))) {
        throw new LarderError(
          'BadRequest',
          'The asset url names a file you did not upload: upload it with POST /assets/upload first',
        );
      }
    }
  }

  /** After a write: a plain asset document holds exactly the blob its url names. */
  async function follow(hook: HookContext): Promise<void> {
    const records = (Array.isArray(hook.result) ? hook.result : [hook.result]) as StoredDocument[];
    for (const record of records) {
      if (!record?._id || isFileAsset(record)) continue;
      const owner = ownerOf(ASSETS, record._id);
      const current = urlBlob(record);
      if (current !== undefined) await references.add(owner, [current]);
      const held = await store.find(BLOB_REFS_COLLECTION, { filter: eq(['owner'], owner) });
      const stale = held
        .map((row) => String(row.sha256))
        .filter((sha256) => sha256 !== current)
        .map((sha256) => ({ sha256, owner }));
      if (stale.length > 0) await references.remove(stale);
    }
  }

  async function release(hook: HookContext): Promise<void> {
    const records = (Array.isArray(hook.result) ? hook.result : [hook.result]) as StoredDocument[];
    const owners = records
      .filter((record) => record?._id && !isFileAsset(record))
      .map((record) => ownerOf(ASSETS, record._id));
    if (owners.length > 0) await references.release(owners);
  }

  app.service('assets').hooks({
    before: { create: [assertHeld], update: [assertHeld], patch: [assertHeld] },
    after: { create: [follow], update: [follow], patch: [follow], remove: [release] },
  });
}

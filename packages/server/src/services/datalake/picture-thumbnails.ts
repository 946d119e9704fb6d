/**
 * Thumbnails made on first view: the first `GET /assets/<id>/thumbnail` decodes the picture
 * with `sharp` (on libvips' threads, off the event loop), stores a 256 px WebP as a blob of
 * its own and records it in the asset's server-kept `thumbnail`, so later views serve the
 * stored blob. Uploads never decode pictures: most pictures of a large lake are trained on,
 * not browsed, and a gallery page asks for at most a page of thumbnails. Nothing needs
 * remembering between instances: whichever instance serves the first view makes it.
 *
 * A picture sharp cannot decode keeps `thumbnail: null`, so it is not tried on every view.
 */
import { availableParallelism } from 'node:os';
import { Readable } from 'node:stream';
import { eq } from '@larder/protocol';
import type { Actor } from '../../auth/actor.js';
import { recordBlobClaim } from '../../auth/blob-access.js';
import type { BlobStore } from '../../blobs/blob-store.js';
import { BlobReferences, ownerOf } from '../../blobs/lifecycle/blob-references.js';
import { confirmUpload } from '../../blobs/lifecycle/blob-uploads.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { ASSETS } from './datalake-collections.js';
import { type BlobRef, isThumbnailed, MAX_INSPECTED_BYTES, readBlob } from './picture-inspection.js';

const THUMBNAIL_SIDE = 256;

/** At most one decode per core at once, so a gallery's burst of first views cannot fill memory. */
class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(count: number) {
    this.#free = count;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free -= 1;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free += 1;
    }
  }
}

export class PictureThumbnails {
  readonly #slots = new Slots(Math.max(1, availableParallelism()));
  readonly #references: BlobReferences;
  /** Thumbnails being made in this instance, by asset id: simultaneous first views share one. */
  readonly #making = new Map<string, Promise<BlobRef | null>>();

  constructor(
    private readonly store: DocumentStore,
    private readonly blobs: BlobStore,
  ) {
    this.#references = new BlobReferences(store);
  }

  /** The asset's thumbnail, made now if it has none yet; null when it has none to make. */
  async of(asset: StoredDocument): Promise<BlobRef | null> {
    const kept = asset.thumbnail as { sha256?: unknown; size?: unknown } | null | undefined;
    if (kept && typeof kept.sha256 === 'string') return { sha256: kept.sha256, size: Number(kept.size) };
    if (kept === null || !isThumbnailed(asset.mime) || typeof asset.sha256 !== 'string') return null;
    const size = Number(asset.size);
    if (!(size > 0 && size <= MAX_INSPECTED_BYTES)) return null;
    let making = this.#making.get(asset._id);
    if (!making) {
      making = this.#slots.run(() => this.#make(asset, asset.sha256 as string, size));
      this.#making.set(asset._id, making);
      void making.finally(() => this.#making.delete(asset._id)).catch(() => {});
    }
    return making;
  }

  async #make(asset: StoredDocument, sha256: string, size: number): Promise<BlobRef | null> {
    const bytes = await readBlob(this.blobs, sha256, size);
    // Loaded on the first thumbnail: sharp brings libvips, which would slow every start.
    const { default: sharp } = await import('sharp');
    let webp: Buffer | undefined;
    try {
      webp = await sharp(bytes, { failOn: 'none' })
        .rotate()
        .resize(THUMBNAIL_SIDE, THUMBNAIL_SIDE, { fit: 'inside', withoutEnlargement: true })
        .webp({ quality: 75 })
        .toBuffer();
    } catch {
      // A truncated or corrupt picture stays an asset, without a thumbnail.
    }
    if (!webp) {
      await this.store.modify(ASSETS, eq(['_id'], asset._id), (row) =>
        row.thumbnail === undefined ? { ...row, thumbnail: null } : row,
      );
      return null;
    }
    const stored = await this.blobs.put(Readable.from([webp]));
    const thumbnail = { sha256: stored.sha256, size: stored.size };
    // The reference first, as every writer does, then the check against a concurrent
    // collection: the record never names a collected blob.
    const added = await this.#references.add(ownerOf(ASSETS, asset._id), [stored.sha256]);
    try {
      await confirmUpload(this.store, this.blobs, stored.sha256);
    } catch (error) {
      await this.#references.remove(added);
      throw error;
    }
    const [changed] = await this.store.modify(ASSETS, eq(['_id'], asset._id), (row) =>
      row.thumbnail ? row : { ...row, thumbnail },
    );
    const kept = changed?.after.thumbnail as BlobRef | undefined;
    if (kept?.sha256 !== stored.sha256) {
      // Deleted meanwhile, or another instance recorded its own: this one is garbage.
      await this.#references.remove(added);
      return kept ?? null;
    }
    // Made from bytes the owner holds, so the owner holds it too (as any upload would).
    await recordBlobClaim(this.store, ownerActor(asset), stored.sha256);
    return thumbnail;
  }
}

function ownerActor(asset: StoredDocument): Actor {
  if (typeof asset.userId !== 'string') return { kind: 'local-owner' };
  return { kind: 'user', user: { _id: asset.userId, email: '', role: 'user' } };
}

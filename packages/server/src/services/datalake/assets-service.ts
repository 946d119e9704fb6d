/**
 * The `assets` service: pictures and other data files of the datalake, and, as before, the
 * schemaless asset documents Marcelle's clients write (`{ filename, extension, mime, url }`).
 *
 * A record with a `sha256` is a file asset: the bytes are a blob the caller uploaded, the
 * server reads their type, pixel size and makes a thumbnail; the same bytes uploaded again
 * by the same owner are the same asset (tags merge). Records without one are plain
 * documents. Deleting an asset that a published dataset version holds is refused.
 */
import { and, eq, LarderError } from '@larder/protocol';
import { ownershipPolicy } from '../../auth/access-policy.js';
import type { Actor } from '../../auth/actor.js';
import { canReadBlob, recordBlobClaim } from '../../auth/blob-access.js';
import { type BlobStore, isSha256 } from '../../blobs/blob-store.js';
import type { BlobMention } from '../../blobs/lifecycle/blob-hashes-in-document.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { type DocumentParams, DocumentService } from '../documents/document-service.js';
import { pictureAssetId } from './asset-ids.js';
import { AssetUsage } from './asset-usage.js';
import { ASSETS } from './datalake-collections.js';
import { cleanFileName, optionalText, parseTags } from './datalake-names.js';
import { inspectFile } from './picture-inspection.js';
import { rewriteAllOperators } from './query-all-operator.js';

type Id = string | number | null;

/** Fields of a file asset only the server sets. */
const DERIVED = ['sha256', 'size', 'mime', 'width', 'height', 'thumbnail', 'filenames'] as const;
/** Fields of any asset only the server sets: the thumbnail route serves `thumbnail`. */
const SERVER_ONLY = ['thumbnail'] as const;

const UPLOADED_URL = /^([0-9a-f]{64})\//;

export function isFileAsset(record: unknown): boolean {
  return record !== null && typeof record === 'object' && 'sha256' in record;
}

/** The blob a Marcelle asset document's `url` names (`<sha256>/<field>`, as `POST /assets/upload` answers). */
export function urlBlob(record: unknown): string | undefined {
  const url = (record as { url?: unknown } | null)?.url;
  return typeof url === 'string' ? UPLOADED_URL.exec(url)?.[1] : undefined;
}

export class AssetsService extends DocumentService {
  private readonly usage: AssetUsage;

  constructor(
    store: DocumentStore,
    private readonly blobs: BlobStore,
    authEnabled: boolean,
  ) {
    super({
      store,
      collection: ASSETS,
      policy: ownershipPolicy,
      authEnabled,
      blobs,
      maxBatch: 1000,
      paginate: { default: 100, max: 10_000 },
    });
    this.usage = new AssetUsage(store);
  }

  /** A file asset names its bytes and thumbnail; a Marcelle document the bytes its `url` names. */
  protected override blobsNamedBy(record: unknown): Map<string, BlobMention> {
    const named = super.blobsNamedBy(record);
    const fromUrl = isFileAsset(record) ? undefined : urlBlob(record);
    if (fromUrl !== undefined && !named.has(fromUrl)) named.set(fromUrl, { size: undefined, where: 'url' });
    return named;
  }

  protected override parse(params: DocumentParams | undefined) {
    // `{ tags: { $all: [...] } }` (every tag) becomes an `$and` of equalities.
    return super.parse(params ? { ...params, query: rewriteAllOperators(params.query) } : params);
  }

  override async create(data: unknown, params?: DocumentParams): Promise<StoredDocument | StoredDocument[]> {
    if (Array.isArray(data)) {
      if (!data.some(isFileAsset)) return super.create(data.map(withoutServerOnly), params);
      if (data.length > 1000)
        throw new LarderError('PayloadTooLarge', 'At most 1000 assets can be created in one call');
      const created: StoredDocument[] = [];
      for (const item of data) created.push((await this.create(item, params)) as StoredDocument);
      return created;
    }
    if (!isFileAsset(data)) return super.create(withoutServerOnly(data), params);
    return this.createFileAsset(data as Record<string, unknown>, params);
  }

  override async remove(id: Id, params?: DocumentParams): Promise<StoredDocument | StoredDocument[]> {
    const actor = this.actor(params);
    const query = this.parse(params);
    const target = id === null ? query.filter : and(eq(['_id'], String(id)), query.filter);
    const doomed = await this.store.find(this.collection, { filter: and(target, this.policy.writeFilter(actor)) });
    await this.usage.assertNotPublished(doomed);
    const removed = await super.remove(id, params);
    await this.usage.forget(doomed.map((asset) => asset._id));
    return removed;
  }

  protected override prepareForWrite(record: StoredDocument, before: StoredDocument | undefined): StoredDocument {
    if (before === undefined) return record;
    if (!isFileAsset(before)) {
      if (isFileAsset(record)) {
        throw new LarderError('BadRequest', 'To store a file as an asset, create a new asset with its "sha256"');
      }
      const after = withoutServerOnly(record) as StoredDocument;
      if (before.thumbnail !== undefined) after.thumbnail = before.thumbnail;
      return after;
    }
    if (record.sha256 !== undefined && record.sha256 !== before.sha256) {
      throw new LarderError('BadRequest', "An asset's file cannot change; upload the new file as a new asset");
    }
    const after: StoredDocument = { ...record };
    for (const field of DERIVED) {
      const value = before[field];
      if (value === undefined) delete after[field];
      else after[field] = value;
    }
    after.tags = parseTags(record.tags);
    if (record.filename !== before.filename) after.filename = cleanFileName(record.filename);
    return after;
  }

  private async createFileAsset(data: Record<string, unknown>, params?: DocumentParams): Promise<StoredDocument> {
    const actor = this.actor(params);
    const { sha256 } = data;
    if (!isSha256(sha256)) {
      throw new LarderError('BadRequest', '"sha256" must be the 64 lower-case hex digits of an uploaded blob');
    }
    const info = (await canReadBlob(this.store, actor, sha256)) ? await this.blobs.stat(sha256) : undefined;
    if (!info) throw new LarderError('NotFound', `No blob ${sha256} that you uploaded; upload the file first`);
    const filename = cleanFileName(data.filename);
    const tags = parseTags(data.tags);
    const source = optionalText(data.source, '"source"', 200) ?? 'api';
    const _id = pictureAssetId(actor, sha256);

    const merged = await this.mergeInto(_id, tags, filename, params);
    if (merged) return merged;
    const facts = await inspectFile(this.store, this.blobs, info, filename);
    await this.holdThumbnail(actor, facts.thumbnail?.sha256);
    const extra = Object.fromEntries(
      Object.entries(data).filter(([key]) => !(DERIVED as readonly string[]).includes(key)),
    );
    const record = { ...extra, _id, sha256, size: info.size, filename, filenames: [filename], tags, source, ...facts };
    try {
      return (await super.create(record, params)) as StoredDocument;
    } catch (error) {
      // Another upload of the same bytes won the race: join it.
      if (!(error instanceof LarderError && error.name === 'Conflict')) throw error;
      const joined = await this.mergeInto(_id, tags, filename, params);
      if (!joined) throw error;
      return joined;
    }
  }

  /** The server made the thumbnail from bytes the actor holds, so they hold it too. */
  private async holdThumbnail(actor: Actor, sha256: string | undefined): Promise<void> {
    if (sha256 !== undefined) await recordBlobClaim(this.store, actor, sha256);
  }

  /**
   * The same bytes again: the existing asset gains the new tags, and remembers the new file
   * name in `filenames` (COCO import matches any of them).
   */
  private async mergeInto(
    id: string,
    tags: string[],
    filename: string,
    params?: DocumentParams,
  ): Promise<StoredDocument | undefined> {
    const exists = await this.store.count(this.collection, eq(['_id'], id));
    if (exists === 0) return undefined;
    const now = new Date().toISOString();
    const [changed] = await this.store.modify(
      this.collection,
      and(eq(['_id'], id), this.policy.writeFilter(this.actor(params))),
      (asset) => {
        const currentTags = Array.isArray(asset.tags) ? (asset.tags as string[]) : [];
        const names = Array.isArray(asset.filenames) ? (asset.filenames as string[]) : [String(asset.filename)];
        const nextTags = [...new Set([...currentTags, ...tags])];
        const nextNames = names.includes(filename) ? names : [...names, filename].slice(-100);
        if (nextTags.length === currentTags.length && nextNames.length === names.length) return asset;
        return { ...asset, tags: nextTags, filenames: nextNames, updatedAt: now };
      },
    );
    return changed ? this.get(id, params) : undefined;
  }
}

function withoutServerOnly(data: unknown): unknown {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return data;
  const copy = { ...(data as Record<string, unknown>) };
  for (const field of SERVER_ONLY) delete copy[field];
  return copy;
}

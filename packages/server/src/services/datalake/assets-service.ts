/**
 * The `assets` service: pictures and other data files of the datalake, and, as before, the
 * schemaless asset documents Marcelle's clients write (`{ filename, extension, mime, url }`).
 *
 * A record with a `sha256` is a file asset: the bytes are a blob the caller uploaded, the
 * server reads their type and pixel size (the thumbnail is made on first view); the same
 * bytes uploaded again by the same owner are the same asset (tags merge). Records without one are plain
 * documents. Deleting an asset that a published dataset version holds is refused.
 */
import { and, type ErrorName, eq, LarderError } from '@larder/protocol';
import { ownershipPolicy } from '../../auth/access-policy.js';
import type { BlobStore } from '../../blobs/blob-store.js';
import type { BlobMention } from '../../blobs/lifecycle/blob-hashes-in-document.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { type DocumentParams, DocumentService } from '../documents/document-service.js';
import { type IngestFile, type IngestOutcome, ingestFiles } from './asset-ingest.js';
import { AssetUsage } from './asset-usage.js';
import { ASSETS } from './datalake-collections.js';
import { cleanFileName, parseTags } from './datalake-names.js';
import { rewriteAllOperators } from './query-all-operator.js';

type Id = string | number | null;

/** Fields of a file asset only the server sets. */
const DERIVED = ['sha256', 'size', 'mime', 'width', 'height', 'thumbnail', 'filenames'] as const;
/** Fields of a created file asset the ingest reads itself. */
const INGESTED = new Set(['filename', 'tags', 'source']);
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
      if (!data.every(isFileAsset)) {
        const created: StoredDocument[] = [];
        for (const item of data) created.push((await this.create(item, params)) as StoredDocument);
        return created;
      }
      return throwFirstFailure(await this.ingest(data.map(asIngestFile), params), true);
    }
    if (!isFileAsset(data)) return super.create(withoutServerOnly(data), params);
    return throwFirstFailure(
      await this.ingest([asIngestFile(data as Record<string, unknown>)], params),
      false,
    )[0] as StoredDocument;
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

  /**
   * Makes file assets from blobs the caller uploaded, each with its own outcome (see
   * `asset-ingest.ts`): the bulk path of `create` and of `POST /assets/upload`.
   */
  async ingest(files: readonly IngestFile[], params?: DocumentParams): Promise<IngestOutcome[]> {
    const actor = this.caller(params);
    if (!this.policy.canCreate(actor)) {
      // Refused exactly as any other create is (401 or 403).
      await super.create([], params);
      return [];
    }
    return ingestFiles(
      {
        store: this.store,
        blobs: this.blobs,
        policy: this.policy,
        // The caller's own create, checks and all; the blobs the ingest knows held (this
        // request's uploads, and what its per-file check looked up) need no second look-up.
        insert: async (records, insertParams, heldBlobs) =>
          (await super.create(records, { ...insertParams, heldBlobs })) as StoredDocument[],
        shown: (record, shownParams) => this.shown(record, shownParams),
        namedBy: (record) => this.blobsNamedBy(record),
      },
      actor,
      files,
      params,
    );
  }
}

/** A create's file asset as the ingest takes it: the client's other fields kept aside. */
function asIngestFile(data: Record<string, unknown>): IngestFile {
  const extra = Object.fromEntries(
    Object.entries(data).filter(([key]) => !(DERIVED as readonly string[]).includes(key) && !INGESTED.has(key)),
  );
  return { sha256: data.sha256, filename: data.filename, tags: data.tags, source: data.source, extra };
}

/** The first failure of a create, named by its place in the array when there are several. */
function throwFirstFailure(outcomes: readonly IngestOutcome[], many: boolean): StoredDocument[] {
  const failedAt = outcomes.findIndex((outcome) => outcome.error !== undefined);
  if (failedAt < 0) return outcomes.map((outcome) => outcome.asset as StoredDocument);
  const { error } = outcomes[failedAt] as { error: LarderError };
  if (!many) throw error;
  throw new LarderError(error.name as ErrorName, `Asset ${failedAt} of the array: ${error.message}`, { cause: error });
}

function withoutServerOnly(data: unknown): unknown {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return data;
  const copy = { ...(data as Record<string, unknown>) };
  for (const field of SERVER_ONLY) delete copy[field];
  return copy;
}

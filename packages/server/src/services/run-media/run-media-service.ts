/**
 * `/run-images` and `/run-histograms`: a run's media by step, one service per kind over the
 * generic document service, so every create goes through the one check of the blobs a record
 * names (an image record may name only bytes its writer uploaded) and holds them from garbage
 * collection. Access is the run's, checked at every call (see `run-access.ts`); a record's
 * `created` event reaches its writer (and admins) only, by the folder policy on its `userId`.
 *
 * @example
 * POST /run-images [{ "run": "…", "key": "…", "name": "samples", "step": 3, "image": { "sha256": "…", "size": 912 } }]
 * GET  /run-images?run=<id>&$limit=10000       → every image record of the run (the index of steps)
 * GET  /run-histograms?run=<id>&name=dense/kernel → the bins by step
 */
import { and, eq, LarderError, or, parseQuery } from '@larder/protocol';
import { folderPolicy } from '../../auth/folder-policy.js';
import type { BlobStore } from '../../blobs/blob-store.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { type DocumentParams, DocumentService } from '../documents/document-service.js';
import { projectFields } from '../documents/project-fields.js';
import { RunAccess } from './run-access.js';
import { type MediaKind, mediaRecordId } from './run-media-records.js';

export const RUN_IMAGES_COLLECTION = 'run-images';
export const RUN_HISTOGRAMS_COLLECTION = 'run-histograms';

const MAX_PAGE = 10_000;
const MAX_BATCH = 1000;

type Id = string | number | null;

export class RunMediaService extends DocumentService {
  private readonly runs: RunAccess;

  constructor(
    store: DocumentStore,
    blobs: BlobStore,
    authEnabled: boolean,
    private readonly kind: MediaKind,
    private readonly validate: (body: unknown, index: number) => Record<string, unknown>,
  ) {
    super({
      store,
      blobs,
      authEnabled,
      collection: kind === 'image' ? RUN_IMAGES_COLLECTION : RUN_HISTOGRAMS_COLLECTION,
      policy: folderPolicy,
      maxBatch: MAX_BATCH,
      paginate: { default: 1000, max: MAX_PAGE },
    });
    this.runs = new RunAccess(store);
  }

  /** A run's records (`run` is required), in step order unless sorted otherwise. */
  override async find(params?: DocumentParams) {
    const actor = this.actor(params);
    const { run: runId, ...rest } = (params?.query ?? {}) as Record<string, unknown>;
    const run = await this.runs.readable(actor, runId);
    const query = parseQuery(rest, { loose: params?.provider === 'rest' });
    const limit = Math.min(query.limit ?? 1000, MAX_PAGE);
    const sort =
      query.sort.length > 0
        ? query.sort
        : [
            { path: ['name'], direction: 1 as const },
            { path: ['step'], direction: 1 as const },
          ];
    const page = await this.store.findPage(this.collection, {
      filter: and(eq(['run'], run._id), query.filter),
      sort,
      skip: query.skip,
      limit,
    });
    return {
      total: page.total,
      limit,
      skip: query.skip,
      data: page.documents.map((record) => projectFields(record, query.select)),
    };
  }

  override async get(id: Id, params?: DocumentParams): Promise<StoredDocument> {
    const actor = this.actor(params);
    const recordId = typeof id === 'string' ? id : String(id);
    const [record] = await this.store.find(this.collection, { filter: eq(['_id'], recordId), limit: 1 });
    const missing = new LarderError('NotFound', `No record found for id '${recordId.slice(0, 128)}'`);
    if (!record) throw missing;
    await this.runs.readable(actor, record.run).catch(() => {
      throw missing;
    });
    return record;
  }

  /**
   * Adds entries to runs the caller may log to; entries already stored (same run and key)
   * are answered as they are, so a resend after a broken connection stores nothing twice.
   */
  override async create(data: unknown, params?: DocumentParams): Promise<StoredDocument[]> {
    const actor = this.actor(params);
    const items = Array.isArray(data) ? data : [data];
    if (items.length > MAX_BATCH) {
      throw new LarderError('PayloadTooLarge', `At most ${MAX_BATCH} entries can be added in one call`);
    }
    const records = items.map((item, index) => this.validate(item, index));
    if (records.length === 0) return [];
    const runs = new Map<string, StoredDocument>();
    for (const runId of new Set(records.map((record) => record.run as string))) {
      runs.set(runId, await this.runs.writable(actor, runId));
    }
    const withIds = records.map((record) => {
      const run = runs.get(record.run as string) as StoredDocument;
      return { ...record, _id: mediaRecordId(this.kind, run._id, record.key as string) };
    });
    const existing = await this.store.find(this.collection, {
      filter: or(...withIds.map((record) => eq(['_id'], record._id))),
    });
    const held = new Set(existing.map((record) => record._id));
    const fresh = [...new Map(withIds.filter((record) => !held.has(record._id)).map((r) => [r._id, r])).values()];
    const created = fresh.length > 0 ? ((await super.create(fresh, params)) as StoredDocument[]) : [];
    return [...existing, ...created];
  }

  /** Removes every record of a run (its blobs go to the collector), as the server itself. */
  async removeRun(runId: string): Promise<void> {
    await super.remove(null, { query: { run: runId } });
  }
}

/**
 * The generic document service: Feathers' six methods over one collection of the metadata
 * store, with the query language, pagination, timestamps and the collection's access policy.
 * Dynamic services (any name, created on first use) and Larder's own record services are
 * all instances of it.
 */
import {
  and,
  assertRecordId,
  eq,
  type Filter,
  LarderError,
  newId,
  type ParsedQuery,
  parseQuery,
} from '@larder/protocol';
import { type AccessPolicy, notAuthenticated } from '../../auth/access-policy.js';
import { type Actor, type ActorParams, actorOf } from '../../auth/actor.js';
import { BlobNaming } from '../../auth/blob-naming.js';
import type { BlobStore } from '../../blobs/blob-store.js';
import { type BlobMention, blobMentionsIn, hashCandidatesIn } from '../../blobs/lifecycle/blob-hashes-in-document.js';
import { collectedWhileUploading, lastDeletion, lostAmong } from '../../blobs/lifecycle/blob-uploads.js';
import type { DocumentStore, Modification, StoredDocument } from '../../stores/document-store.js';
import { assertNoHiddenFields, withoutHiddenFields } from './hidden-fields.js';
import { projectFields } from './project-fields.js';
import { RecordBlobReferences } from './record-blob-references.js';
import { applyPatch, assertRecordData, type RecordData, withoutServerFields } from './record-data.js';

export interface Paginated<T> {
  total: number;
  limit: number;
  skip: number;
  data: T[];
}

export interface PaginationOptions {
  default: number;
  max: number;
}

export interface DocumentServiceOptions {
  store: DocumentStore;
  collection: string;
  policy: AccessPolicy;
  authEnabled: boolean;
  paginate?: PaginationOptions;
  /** Largest number of records one array `create` may carry. */
  maxBatch?: number;
  /**
   * The blob store, when records name blobs (`{ sha256 }` fields): the named blobs are kept
   * from garbage collection, and a writer may newly name only blobs they hold (`BlobNaming`).
   */
  blobs?: BlobStore;
  /** Fields that never leave the server and cannot be queried (password hashes). */
  hiddenFields?: readonly string[];
}

export interface DocumentParams extends ActorParams {
  query?: unknown;
  paginate?: false | Partial<PaginationOptions>;
  /**
   * Set by server code only (no transport carries it): blobs this very request found the
   * caller holds, with their stored sizes (uploaded and claimed by it, or looked up by
   * `BlobNaming.heldAmong`, as a registry push does before it takes a version number), which
   * `create`'s naming check then takes as held without a claim query and a stat each.
   */
  heldBlobs?: ReadonlyMap<string, number>;
  /**
   * Set by server code only, with `heldBlobs`: the last blob deletion's token (`lastDeletion`)
   * read before those blobs were stored or found stored, so that checking them against a
   * concurrent garbage collection needs no stat each (`lostAmong`).
   */
  deletionBefore?: string;
  /**
   * Set by server code only: the token (`HeldReference.writer`) of references an earlier step
   * of this request added for the records `create` writes, which it then does not touch again.
   */
  referencesAddedBy?: string;
}

type Id = string | number | null;

export class DocumentService {
  /** The id field, as Feathers and its authentication expect to find it. */
  readonly id = '_id';
  readonly store: DocumentStore;
  readonly collection: string;
  readonly policy: AccessPolicy;
  private readonly authEnabled: boolean;
  private readonly paginate: PaginationOptions;
  private readonly maxBatch: number;
  private readonly blobReferences: RecordBlobReferences | undefined;
  private readonly naming: BlobNaming | undefined;
  private readonly hiddenFields: readonly string[];

  constructor(options: DocumentServiceOptions) {
    this.store = options.store;
    this.collection = options.collection;
    this.policy = options.policy;
    this.authEnabled = options.authEnabled;
    this.paginate = options.paginate ?? { default: 100, max: 1000 };
    this.maxBatch = options.maxBatch ?? 10_000;
    this.hiddenFields = options.hiddenFields ?? [];
    if (options.blobs) {
      this.naming = new BlobNaming(this.store, options.blobs);
      this.blobReferences = new RecordBlobReferences(this.store, this.collection, (record) =>
        this.blobsNamedBy(record),
      );
    }
  }

  /**
   * The blobs a record names: what its readers are handed and what it keeps from garbage
   * collection. `{ sha256 }` objects at any depth; services whose records name blobs another
   * way (a url holding a hash) add those here.
   */
  protected blobsNamedBy(record: unknown): Map<string, BlobMention> {
    return blobMentionsIn(record);
  }

  /** The caller; anonymous callers are refused. */
  protected actor(params: DocumentParams | undefined): Actor {
    const actor = this.caller(params);
    if (actor.kind === 'anonymous') throw notAuthenticated();
    return actor;
  }

  /** The caller, possibly anonymous (for policies that let anyone create, like open sign-up). */
  protected caller(params: DocumentParams | undefined): Actor {
    return actorOf(params ?? {}, this.authEnabled);
  }

  protected parse(params: DocumentParams | undefined): ParsedQuery {
    const query = parseQuery(params?.query, { loose: params?.provider === 'rest' });
    if (params?.provider) assertNoHiddenFields(query, this.hiddenFields);
    return query;
  }

  /** What an external caller receives of a record: never its hidden fields. */
  protected shown<T>(record: T, params: DocumentParams | undefined): T {
    return params?.provider ? withoutHiddenFields(record, this.hiddenFields) : record;
  }

  async find(params?: DocumentParams): Promise<Paginated<StoredDocument> | StoredDocument[] | unknown[]> {
    const actor = this.actor(params);
    const query = this.parse(params);
    const filter = and(query.filter, this.policy.readFilter(actor));
    if (query.distinct) return this.store.distinct(this.collection, query.distinct, filter);
    const paginate = params?.paginate === false ? false : { ...this.paginate, ...params?.paginate };
    if (paginate === false) {
      const data = await this.store.find(this.collection, {
        filter,
        sort: query.sort,
        skip: query.skip,
        limit: query.limit,
      });
      return data.map((record) => this.shown(projectFields(record, query.select), params));
    }
    const limit = Math.min(query.limit ?? paginate.default ?? 100, paginate.max ?? 1000);
    const page = await this.store.findPage(this.collection, {
      filter,
      sort: query.sort,
      skip: query.skip,
      limit,
      select: query.select,
    });
    return {
      total: page.total,
      limit,
      skip: query.skip,
      data: page.documents.map((record) => this.shown(projectFields(record, query.select), params)),
    };
  }

  async get(id: Id, params?: DocumentParams): Promise<StoredDocument> {
    const actor = this.actor(params);
    const recordId = this.recordId(id);
    const query = this.parse(params);
    const [record] = await this.store.find(this.collection, {
      filter: and(eq(['_id'], recordId), query.filter, this.policy.readFilter(actor)),
      limit: 1,
    });
    if (!record) throw this.notFound(recordId);
    return this.shown(projectFields(record, query.select), params);
  }

  async create(data: unknown, params?: DocumentParams): Promise<StoredDocument | StoredDocument[]> {
    const actor = this.caller(params);
    if (!this.policy.canCreate(actor)) {
      if (actor.kind === 'anonymous') throw notAuthenticated();
      throw new LarderError('Forbidden', `You may not create records in ${this.collection}`);
    }
    const many = Array.isArray(data);
    const items: unknown[] = many ? data : [data];
    if (items.length > this.maxBatch) {
      throw new LarderError('PayloadTooLarge', `At most ${this.maxBatch} records can be created in one call`);
    }
    const now = new Date().toISOString();
    const records = items.map((item, index) => {
      assertRecordData(item, many ? `Record ${index} of the array` : 'The record');
      const record: RecordData = withoutServerFields(item);
      if (record._id === undefined) record._id = newId();
      else assertRecordId(record._id);
      this.policy.stampOnCreate(actor, record);
      record.createdAt = now;
      record.updatedAt = now;
      return this.prepareForWrite(record as StoredDocument, undefined);
    });
    const named = this.blobReferences ? records.map((record) => this.blobsNamedBy(record)) : [];
    const hashes = new Set(named.flatMap((each) => [...each.keys()]));
    const internal = actor.kind === 'internal';
    // Read before the naming check looks the blobs up: see `lostAmong`. Server code skips that
    // check, so it has no token of its own (see `assertNotCollected`).
    const deletionBefore = hashes.size > 0 && !internal ? await lastDeletion(this.store) : undefined;
    if (this.naming && !internal) {
      const held = await this.naming.heldAmong(actor, hashes, params?.heldBlobs);
      for (const each of named) BlobNaming.assertMayName(each, undefined, held);
    }
    await this.store.ensureCollection(this.collection);
    if (!this.blobReferences || hashes.size === 0) {
      await this.store.insert(this.collection, records);
    } else {
      const references = this.blobReferences;
      const added = await references.beforeWrite(
        records.map((record) => ({ id: record._id, data: record })),
        params?.referencesAddedBy,
      );
      try {
        await this.assertNotCollected(hashes, deletionBefore, params);
        await this.store.insert(this.collection, records);
      } catch (error) {
        await references.undo(added);
        throw error;
      }
    }
    const select = this.parse(params).select;
    const created = records.map((record) => this.shown(projectFields(record, select), params));
    return many ? created : (created[0] as StoredDocument);
  }

  async update(id: Id, data: unknown, params?: DocumentParams): Promise<StoredDocument> {
    if (id === null)
      throw new LarderError('BadRequest', 'update replaces one record: give its id (use patch for many)');
    assertRecordData(data);
    const recordId = this.recordId(id);
    if (data._id !== undefined && data._id !== recordId) {
      throw new LarderError('BadRequest', 'The body\'s "_id" does not match the id in the URL');
    }
    const now = new Date().toISOString();
    const [changed] = await this.modifyWhere(recordId, params, data, (before) => {
      const replacement: RecordData = { ...withoutServerFields(data), _id: recordId };
      this.keepOwner(before, replacement, params);
      replacement.createdAt = before.createdAt ?? now;
      replacement.updatedAt = now;
      return this.prepareForWrite(replacement as StoredDocument, before);
    });
    return changed as StoredDocument;
  }

  async patch(id: Id, data: unknown, params?: DocumentParams): Promise<StoredDocument | StoredDocument[]> {
    assertRecordData(data, 'The patch');
    if (data._id !== undefined && data._id !== id) throw new LarderError('BadRequest', 'A record id cannot be changed');
    const now = new Date().toISOString();
    const change = (before: StoredDocument): StoredDocument => {
      const { _id: _ignored, ...fields } = withoutServerFields(data);
      const after = applyPatch(before, fields);
      this.keepOwner(before, after, params);
      after.updatedAt = now;
      return this.prepareForWrite(after as StoredDocument, before);
    };
    if (id === null) return this.modifyWhere(undefined, params, data, change);
    const [changed] = await this.modifyWhere(this.recordId(id), params, data, change);
    return changed as StoredDocument;
  }

  async remove(id: Id, params?: DocumentParams): Promise<StoredDocument | StoredDocument[]> {
    const actor = this.actor(params);
    const query = this.parse(params);
    const since = Date.now();
    if (id === null) {
      const removed = await this.store.remove(this.collection, and(query.filter, this.policy.writeFilter(actor)));
      await this.blobReferences?.afterRemove(removed, since);
      return removed.map((record) => this.shown(projectFields(record, query.select), params));
    }
    const recordId = this.recordId(id);
    const [removed] = await this.store.remove(
      this.collection,
      and(eq(['_id'], recordId), query.filter, this.policy.writeFilter(actor)),
    );
    if (!removed) throw await this.whyNotWritable(recordId, actor, query.filter);
    await this.blobReferences?.afterRemove([removed], since);
    return this.shown(projectFields(removed, query.select), params);
  }

  /** A hook for subclasses: last look at a record before it is stored. */
  protected prepareForWrite(record: StoredDocument, _before: StoredDocument | undefined): StoredDocument {
    return record;
  }

  private keepOwner(before: StoredDocument, after: RecordData, params: DocumentParams | undefined): void {
    const actor = this.actor(params);
    const mayReassign = actor.kind === 'internal' || (actor.kind === 'user' && actor.user.role === 'admin');
    if (mayReassign && typeof after.userId === 'string') return;
    if (before.userId === undefined) delete after.userId;
    else after.userId = before.userId;
  }

  /**
   * Changes the writable records the query matches (one record when `recordId` is given:
   * then finding none is NotFound or Forbidden, never a silent no-op).
   */
  private async modifyWhere(
    recordId: string | undefined,
    params: DocumentParams | undefined,
    data: unknown,
    change: (before: StoredDocument) => StoredDocument,
  ): Promise<StoredDocument[]> {
    const actor = this.actor(params);
    const query = this.parse(params);
    const target = recordId === undefined ? query.filter : and(eq(['_id'], recordId), query.filter);
    const write = (checked: (before: StoredDocument) => StoredDocument) =>
      this.store.modify(this.collection, and(target, this.policy.writeFilter(actor)), checked);
    const references = this.blobReferences;
    if (!references) return this.shownAll(await write(change), recordId, actor, query, params);
    const since = Date.now();
    const candidates = [...hashCandidatesIn(data)];
    // Read before the naming check looks the blobs up: see `lostAmong`.
    const deletionBefore = candidates.length > 0 ? await lastDeletion(this.store) : '';
    const { checked, held } = await this.namingChecked(actor, candidates, change);
    // Which records change, and which blobs they newly name, is known only once the write has
    // run: until their own references are in place, the write holds the blobs its input may
    // name (those the writer holds; for server code's input, every hash in it).
    const holding = held ? [...held.keys()] : candidates;
    const hold = holding.length > 0 ? await references.holdForWrite(holding) : undefined;
    let modifications: Modification[];
    try {
      if (hold && held) {
        const blobs = this.naming?.blobs as BlobStore;
        for (const sha256 of await lostAmong(this.store, blobs, holding, deletionBefore)) held.delete(sha256);
      }
      modifications = await write(checked);
      // What the records newly name gets its reference, what they no longer name loses it.
      await references.afterModify(modifications, since);
    } finally {
      if (hold) await references.releaseWrite(hold);
    }
    return this.shownAll(modifications, recordId, actor, query, params);
  }

  /** A write's answer: the changed records as the caller may see them; none changed for one id is NotFound or Forbidden. */
  private async shownAll(
    modifications: readonly Modification[],
    recordId: string | undefined,
    actor: Actor,
    query: ParsedQuery,
    params: DocumentParams | undefined,
  ): Promise<StoredDocument[]> {
    if (recordId !== undefined && modifications.length === 0) {
      throw await this.whyNotWritable(recordId, actor, query.filter);
    }
    return modifications.map((modification) => this.shown(projectFields(modification.after, query.select), params));
  }

  /**
   * The change, refusing any record it makes name a blob the actor does not hold, and the
   * blobs held (none checked for server code). A new hash can only come from the client's
   * input, so the claims looked up are those of the hashes written anywhere in it
   * (`candidates`); the check itself runs on each record as it will be stored, on `held` as it
   * is then (the caller takes out any a concurrent collection took meanwhile).
   */
  private async namingChecked(
    actor: Actor,
    candidates: readonly string[],
    change: (before: StoredDocument) => StoredDocument,
  ): Promise<{ checked: (before: StoredDocument) => StoredDocument; held?: Map<string, number> }> {
    const naming = this.naming;
    if (!naming || actor.kind === 'internal') return { checked: change };
    const held = await naming.heldAmong(actor, candidates);
    const checked = (before: StoredDocument) => {
      const after = change(before);
      BlobNaming.assertMayName(this.blobsNamedBy(after), this.blobsNamedBy(before), held);
      return after;
    };
    return { checked, held };
  }

  /**
   * Once the created records' references are in place: throws Unavailable if a concurrent
   * garbage collection took one of their blobs after the naming check found it (or, for
   * `heldBlobs`, after the request found them stored), so that no record is written naming a
   * collected blob. Server code's creates are checked too (the server vouches for whom a
   * record may name, not for bytes a collection may be taking): with no naming check of
   * their own, their blobs outside `heldBlobs` get a stat each (`deletionBefore` undefined).
   */
  private async assertNotCollected(
    hashes: ReadonlySet<string>,
    deletionBefore: string | undefined,
    params: DocumentParams | undefined,
  ): Promise<void> {
    const blobs = this.naming?.blobs;
    if (!blobs) return;
    const known = params?.heldBlobs;
    const uploaded = [...hashes].filter((sha256) => known?.has(sha256));
    const looked = [...hashes].filter((sha256) => !known?.has(sha256));
    const lost = [
      ...(await lostAmong(this.store, blobs, looked, deletionBefore)),
      ...(await lostAmong(this.store, blobs, uploaded, params?.deletionBefore)),
    ];
    if (lost.length > 0) throw collectedWhileUploading();
  }

  /** NotFound when the caller cannot see the record, Forbidden when they can but may not change it. */
  private async whyNotWritable(recordId: string, actor: Actor, queryFilter: Filter): Promise<LarderError> {
    const visible = await this.store.count(
      this.collection,
      and(eq(['_id'], recordId), queryFilter, this.policy.readFilter(actor)),
    );
    if (visible > 0) return new LarderError('Forbidden', `You may read but not change record ${recordId}`);
    return this.notFound(recordId);
  }

  private recordId(id: Id): string {
    const recordId = typeof id === 'number' ? String(id) : id;
    assertRecordId(recordId);
    return recordId;
  }

  private notFound(recordId: string): LarderError {
    return new LarderError('NotFound', `No record found for id '${recordId}'`);
  }
}

/**
 * A document service whose records live in folders (runs, artifacts): placed with their
 * folder's access lists, named uniquely within it through key records claimed before the
 * write (`unique-names.ts`), created under a conflict strategy (`skip`, `error`, `new` —
 * the default, under the alternative name — or `replace`), idempotent by alternative name,
 * renamed and moved by claiming the new name first. Server-kept fields never come from
 * clients; which blobs a record may name is the document service's one check (`BlobNaming`).
 */
import { and, eq, LarderError } from '@larder/protocol';
import type { Actor } from '../../auth/actor.js';
import { folderPolicy } from '../../auth/folder-policy.js';
import type { BlobStore } from '../../blobs/blob-store.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { type DocumentParams, DocumentService } from '../documents/document-service.js';
import { assertRecordData, type RecordData } from '../documents/record-data.js';
import { homeOf, resolveFolderPath } from './folder-paths.js';
import type { FolderTree, Placement } from './folder-tree.js';
import {
  alternativeName,
  assertLabels,
  assertName,
  type ConflictStrategy,
  conflictStrategyOf,
  SERVER_KEPT,
} from './foldered-fields.js';
import { UniqueNames } from './unique-names.js';

type Id = string | number | null;

export interface FolderedServiceOptions {
  store: DocumentStore;
  blobs: BlobStore;
  authEnabled: boolean;
  folders: FolderTree;
  collection: string;
  /** What one record is called in messages (`run`, `artifact`). */
  noun: string;
}

/**
 * A document service whose records live in folders with unique names. Runs and artifacts
 * both build on it.
 */
export class FolderedService extends DocumentService {
  protected readonly folders: FolderTree;
  protected readonly names: UniqueNames;
  protected readonly noun: string;
  protected readonly blobs: BlobStore;

  constructor(options: FolderedServiceOptions) {
    super({
      store: options.store,
      collection: options.collection,
      policy: folderPolicy,
      authEnabled: options.authEnabled,
      blobs: options.blobs,
    });
    this.folders = options.folders;
    this.names = new UniqueNames(options.store, `_${options.collection}_names`);
    this.noun = options.noun;
    this.blobs = options.blobs;
  }

  override async create(data: unknown, params?: DocumentParams): Promise<StoredDocument | StoredDocument[]> {
    if (Array.isArray(data)) {
      const created: StoredDocument[] = [];
      for (const item of data) created.push((await this.create(item, params)) as StoredDocument);
      return created;
    }
    assertRecordData(data);
    const actor = this.actor(params);
    const { conflictStrategy, makeFolder, ...fields } = data;
    const strategy = conflictStrategyOf(conflictStrategy);
    this.validate(fields, true);
    const home = homeOf(actor);
    const folder = resolveFolderPath(fields.folder ?? 'default', home);
    // `<home>/default` and an organisation's `/<org>/default` are made on first use.
    const isDefault = /^\/[^/]+\/default$/.test(folder);
    const placement = await this.folders.place(folder, actor, makeFolder === true || isDefault);
    let name = fields.name as string;
    const altName = typeof fields.altName === 'string' ? fields.altName : alternativeName(name);
    assertName(altName, `The ${this.noun}'s altName`);

    // The same local record uploaded again: answer what is there.
    const again = await this.findOne(and(eq(['folder'], placement.folder), eq(['altName'], altName)), actor);
    if (again) return again;

    const id = typeof fields._id === 'string' ? fields._id : undefined;
    const holder = await this.names.holder(placement.folder, name);
    if (holder !== undefined && holder !== id && (await this.exists(holder))) {
      const existing = await this.settleConflict(strategy, holder, placement, name, actor, params);
      if (existing) return existing;
      if (strategy === 'new') name = altName;
    }
    const record = this.prepareNew({ ...fields, name, altName }, placement);
    const created = (await super.create(record, params)) as StoredDocument;
    if (!(await this.names.claim(placement.folder, name, created._id))) {
      const holderNow = await this.names.holder(placement.folder, name);
      if (holderNow && (await this.exists(holderNow))) {
        await this.store.remove(this.collection, eq(['_id'], created._id));
        throw new LarderError('Conflict', `A ${this.noun} named "${name}" was just created in ${placement.folder}`);
      }
      await this.names.reassign(placement.folder, name, created._id);
    }
    return created;
  }

  /** Applies the strategy to an existing record; answers the record to return instead of creating, if any. */
  private async settleConflict(
    strategy: ConflictStrategy,
    holder: string,
    placement: Placement,
    name: string,
    actor: Actor,
    params: DocumentParams | undefined,
  ): Promise<StoredDocument | undefined> {
    const where = `${placement.folder}/${name}`;
    if (strategy === 'error') throw new LarderError('Conflict', `A ${this.noun} named ${where} already exists`);
    if (strategy === 'skip') {
      const existing = await this.findOne(eq(['_id'], holder), actor);
      if (!existing) throw new LarderError('Conflict', `A ${this.noun} named ${where} already exists`);
      return existing;
    }
    if (strategy === 'replace') await this.remove(holder, params);
    return undefined;
  }

  private prepareNew(fields: RecordData, placement: Placement): RecordData {
    const record: RecordData = { ...fields, folder: placement.folder };
    for (const field of SERVER_KEPT) delete record[field];
    record.ancestors = placement.ancestors;
    record.access = placement.access;
    return this.defaults(record);
  }

  /** Per-kind defaults for a new record. */
  protected defaults(record: RecordData): RecordData {
    return record;
  }

  /** Per-kind validation of client fields (`whole`: a create or update). */
  protected validate(fields: RecordData, whole: boolean): void {
    if (whole || fields.name !== undefined) assertName(fields.name, `A ${this.noun}`);
    assertLabels(fields.labels);
  }

  override async patch(id: Id, data: unknown, params?: DocumentParams): Promise<StoredDocument | StoredDocument[]> {
    assertRecordData(data, 'The patch');
    this.validate(data, false);
    if (id === null) {
      if (data.name !== undefined || data.folder !== undefined) {
        throw new LarderError('BadRequest', `Rename or move one ${this.noun} at a time`);
      }
      return super.patch(id, data, params);
    }
    return this.withMove(id, data, params, (moved) => super.patch(id, moved, params) as Promise<StoredDocument>);
  }

  override async update(id: Id, data: unknown, params?: DocumentParams): Promise<StoredDocument> {
    assertRecordData(data);
    this.validate(data, true);
    return this.withMove(id, data, params, (moved) => super.update(id, moved, params));
  }

  /** A write that may rename or move the record: the new name is claimed first, the old one released after. */
  private async withMove(
    id: Id,
    data: RecordData,
    params: DocumentParams | undefined,
    write: (data: RecordData) => Promise<StoredDocument>,
  ): Promise<StoredDocument> {
    const actor = this.actor(params);
    const before = await this.get(id, params);
    const name = typeof data.name === 'string' ? data.name : (before.name as string);
    const folder =
      data.folder === undefined ? (before.folder as string) : resolveFolderPath(data.folder, homeOf(actor));
    const moving = name !== before.name || folder !== before.folder;
    const changed: RecordData = { ...data, name, folder };
    if (!moving) return write(changed);
    const placement = await this.folders.place(folder, actor, data.makeFolder === true);
    delete changed.makeFolder;
    if (!(await this.names.claim(placement.folder, name, before._id))) {
      const holder = await this.names.holder(placement.folder, name);
      if (holder && (await this.exists(holder))) {
        throw new LarderError('Conflict', `A ${this.noun} named ${placement.folder}/${name} already exists`);
      }
      await this.names.reassign(placement.folder, name, before._id);
    }
    try {
      const result = await write({ ...changed, ancestors: placement.ancestors, access: placement.access });
      await this.names.release(before.folder as string, before.name as string, before._id);
      return result;
    } catch (error) {
      await this.names.release(placement.folder, name, before._id);
      throw error;
    }
  }

  override async remove(id: Id, params?: DocumentParams): Promise<StoredDocument | StoredDocument[]> {
    const removed = await super.remove(id, params);
    for (const record of Array.isArray(removed) ? removed : [removed]) {
      await this.afterRemove(record);
      if (typeof record.folder === 'string' && typeof record.name === 'string') {
        await this.names.release(record.folder, record.name, record._id);
      }
    }
    return removed;
  }

  /** What else goes with a removed record (a run's metric points). */
  protected async afterRemove(_record: StoredDocument): Promise<void> {}

  /** Server-kept fields survive every client write; only internal calls change them. */
  protected override prepareForWrite(record: StoredDocument, before: StoredDocument | undefined): StoredDocument {
    if (!before) return record;
    const kept: StoredDocument = { ...record };
    for (const field of SERVER_KEPT) {
      if (field === 'ancestors' || field === 'access') {
        if (record.folder !== before.folder && record[field] !== undefined) continue;
      }
      if (before[field] === undefined) delete kept[field];
      else kept[field] = before[field];
    }
    return kept;
  }

  private async findOne(filter: ReturnType<typeof eq>, actor: Actor): Promise<StoredDocument | undefined> {
    const [record] = await this.store.find(this.collection, {
      filter: and(filter, this.policy.readFilter(actor)),
      limit: 1,
    });
    return record;
  }

  private async exists(id: string): Promise<boolean> {
    return (await this.store.count(this.collection, eq(['_id'], id))) > 0;
  }
}

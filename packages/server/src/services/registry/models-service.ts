/**
 * `/models`: the registry's models (Picsellia networks). The generic document service with
 * the model shape enforced, one name per owner, `public` kept equal to `!private` (on the
 * model and on its versions), named files the writer must hold, aliases that must name
 * existing versions, and removal that takes the versions with it.
 *
 * @example
 * POST /models { "name": "efficientdet-d2", "type": "detection", "framework": "tensorflow2", "private": false }
 * PATCH /models/<id> { "aliases.production": 3 }
 * PATCH /models/<id> { "files.config": { "sha256": "…", "size": 812, "filename": "pipeline.config" } }
 */
import { and, eq, LarderError, newId } from '@larder/protocol';
import { notAuthenticated, ownershipPolicy } from '../../auth/access-policy.js';
import type { Actor } from '../../auth/actor.js';
import type { BlobStore } from '../../blobs/blob-store.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { type DocumentParams, DocumentService } from '../documents/document-service.js';
import { assertRecordData, type RecordData } from '../documents/record-data.js';
import { assertBlobsHeld, type HeldFiles, type NamedBlob } from './held-blobs.js';
import { ModelNameKeys, ownerKey } from './model-name-keys.js';
import { MODELS_COLLECTION, type ModelFile, modelFile, normalizeModel } from './model-record.js';
import { assertAlias } from './registry-names.js';

export const MODEL_VERSIONS_COLLECTION = 'model-versions';

type Id = string | number | null;

export interface ModelsServiceOptions {
  store: DocumentStore;
  blobs: BlobStore;
  authEnabled: boolean;
  /** Publishes a change made outside the service methods (alias moves after a push). */
  emitPatched: (record: StoredDocument) => void;
  /** Removes every version of a model (through the versions service, so events go out). */
  removeVersions: (modelId: string) => Promise<void>;
}

export class ModelsService extends DocumentService {
  private readonly blobs: BlobStore;
  private readonly names: ModelNameKeys;
  private readonly emitPatched: (record: StoredDocument) => void;
  private readonly removeVersions: (modelId: string) => Promise<void>;

  constructor(options: ModelsServiceOptions) {
    super({
      store: options.store,
      collection: MODELS_COLLECTION,
      policy: ownershipPolicy,
      authEnabled: options.authEnabled,
      blobs: options.blobs,
    });
    this.blobs = options.blobs;
    this.names = new ModelNameKeys(options.store);
    this.emitPatched = options.emitPatched;
    this.removeVersions = options.removeVersions;
  }

  override async create(data: unknown, params?: DocumentParams): Promise<StoredDocument> {
    if (Array.isArray(data)) throw new LarderError('BadRequest', 'Create one model at a time');
    assertRecordData(data);
    const actor = this.caller(params);
    if (!this.policy.canCreate(actor)) throw notAuthenticated();
    // Checked here, before the name is taken, so that a refusal leaves nothing behind.
    const record = normalizeModel({ ...data, _id: 'check' } as StoredDocument, undefined);
    const held = await this.assertFilesHeld(actor, filesIn(data), undefined);
    const owner = ownerKey(ownerOnCreate(actor, data));
    const id = newId();
    await this.names.take(owner, String(record.name), id);
    try {
      // Handed what the check above found: a collection that took a file since fails the
      // create with 503 before the model is written.
      return (await super.create({ ...data, _id: id }, { ...params, ...held })) as StoredDocument;
    } catch (error) {
      await this.names.release(owner, String(record.name));
      throw error;
    }
  }

  override async patch(id: Id, data: unknown, params?: DocumentParams): Promise<StoredDocument> {
    if (id === null) throw new LarderError('BadRequest', 'Change models one at a time: give the model id');
    assertRecordData(data, 'The patch');
    return this.change(id, data, params, () => super.patch(id, data, params) as Promise<StoredDocument>);
  }

  override async update(id: Id, data: unknown, params?: DocumentParams): Promise<StoredDocument> {
    if (id === null) throw new LarderError('BadRequest', 'update replaces one model: give its id');
    assertRecordData(data);
    return this.change(id, data, params, () => super.update(id, data, params));
  }

  override async remove(id: Id, params?: DocumentParams): Promise<StoredDocument> {
    if (id === null) throw new LarderError('BadRequest', 'Remove models one at a time: give the model id');
    const removed = (await super.remove(id, params)) as StoredDocument;
    // The model is gone first, so no version can be pushed to it while its versions go.
    await this.removeVersions(removed._id);
    await this.names.release(ownerKey(removed.userId), String(removed.name));
    return removed;
  }

  /**
   * Points aliases at a version in one atomic change; `latest` only ever moves forward.
   * Used after a push; answers the model as changed.
   */
  async moveAliases(modelId: string, moves: Record<string, number>): Promise<StoredDocument | undefined> {
    const [changed] = await this.store.modify(this.collection, eq(['_id'], modelId), (model) => {
      const aliases = { ...((model.aliases as Record<string, number> | undefined) ?? {}) };
      for (const [alias, version] of Object.entries(moves)) {
        if (alias === 'latest' && (aliases.latest ?? 0) > version) continue;
        aliases[alias] = version;
      }
      return { ...model, aliases, updatedAt: new Date().toISOString() };
    });
    if (changed) this.emitPatched(changed.after);
    return changed?.after;
  }

  /** Drops aliases that point at a removed version; `latest` falls back to the newest remaining one. */
  async forgetVersion(modelId: string, version: number, newest: number | undefined): Promise<void> {
    const [changed] = await this.store.modify(this.collection, eq(['_id'], modelId), (model) => {
      const aliases: Record<string, number> = {};
      for (const [alias, target] of Object.entries((model.aliases as Record<string, number> | undefined) ?? {})) {
        if (target !== version) aliases[alias] = target;
      }
      if (aliases.latest === undefined && newest !== undefined) aliases.latest = newest;
      return { ...model, aliases, updatedAt: new Date().toISOString() };
    });
    if (changed) this.emitPatched(changed.after);
  }

  /** Hands out the next version number of a model the actor may write; NotFound/Forbidden otherwise. */
  async nextVersionNumber(modelId: string, actor: Actor): Promise<{ model: StoredDocument; version: number }> {
    await this.writableModel(modelId, actor);
    const [changed] = await this.store.modify(
      this.collection,
      and(eq(['_id'], modelId), this.policy.writeFilter(actor)),
      (model) => ({ ...model, versionCount: Number(model.versionCount ?? 0) + 1 }),
    );
    if (!changed) throw new LarderError('NotFound', `No model ${modelId}: it was removed meanwhile`);
    return { model: changed.after, version: Number(changed.after.versionCount) };
  }

  /** The model if the actor may write it: NotFound when they cannot see it, Forbidden when read-only. */
  async writableModel(modelId: string, actor: Actor): Promise<StoredDocument> {
    const [model] = await this.store.find(this.collection, {
      filter: and(eq(['_id'], modelId), this.policy.readFilter(actor)),
      limit: 1,
    });
    if (!model) throw new LarderError('NotFound', `No model ${modelId} that you may read`);
    const writable = await this.store.count(this.collection, and(eq(['_id'], modelId), this.policy.writeFilter(actor)));
    if (writable === 0) throw new LarderError('Forbidden', `You may read but not change model "${model.name}"`);
    return model;
  }

  protected override prepareForWrite(record: StoredDocument, before: StoredDocument | undefined): StoredDocument {
    return normalizeModel(record, before);
  }

  /** A patch or update: checked against the current record, with the name key and versions kept in step. */
  private async change(
    id: Id,
    data: RecordData,
    params: DocumentParams | undefined,
    write: () => Promise<StoredDocument>,
  ): Promise<StoredDocument> {
    const actor = this.actor(params);
    const before = await this.writableModel(String(id), actor);
    if (data.versionCount !== undefined) {
      throw new LarderError('BadRequest', 'versionCount is kept by the server: push a version to add one');
    }
    await this.assertAliasTargets(before._id, data);
    await this.assertFilesHeld(actor, filesIn(data), before);
    const renamed = typeof data.name === 'string' && data.name !== before.name ? data.name : undefined;
    const owner = ownerKey(before.userId);
    if (renamed !== undefined) {
      normalizeModel({ ...before, name: renamed }, before);
      await this.names.take(owner, renamed, before._id);
    }
    let after: StoredDocument;
    try {
      after = await write();
    } catch (error) {
      if (renamed !== undefined) await this.names.release(owner, renamed);
      throw error;
    }
    if (renamed !== undefined) await this.names.release(owner, String(before.name));
    if (after.public !== before.public || after.name !== before.name) {
      await this.store.modify(MODEL_VERSIONS_COLLECTION, eq(['modelId'], after._id), (version) => ({
        ...version,
        public: after.public ?? false,
        modelName: after.name ?? null,
      }));
    }
    return after;
  }

  /** Alias changes in a patch (`aliases.production: 3`, `aliases: {...}`) must name existing versions. */
  private async assertAliasTargets(modelId: string, data: RecordData): Promise<void> {
    const moves: [string, unknown][] = [];
    for (const [key, value] of Object.entries(data)) {
      if (key === 'aliases') {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) {
          throw new LarderError('BadRequest', 'aliases must be an object of alias → version number');
        }
        moves.push(...Object.entries(value));
      } else if (key.startsWith('aliases.')) moves.push([key.slice('aliases.'.length), value]);
    }
    for (const [alias, version] of moves) {
      if (version === null) continue;
      assertAlias(alias);
      const exists =
        Number.isSafeInteger(version) &&
        (await this.store.count(
          MODEL_VERSIONS_COLLECTION,
          and(eq(['modelId'], modelId), eq(['version'], version as number)),
        )) > 0;
      if (!exists) {
        throw new LarderError('BadRequest', `Alias "${alias}" must point at an existing version number of this model`);
      }
    }
  }

  /**
   * Named files new to the model must be held by the writer; answers what was found, for a
   * create's params. (A patch or update checks its files again as it writes, holding them
   * against a concurrent collection meanwhile: the document service's patch and update.)
   */
  private async assertFilesHeld(
    actor: Actor,
    files: Record<string, unknown>,
    before: StoredDocument | undefined,
  ): Promise<HeldFiles | undefined> {
    const previous = (before?.files ?? {}) as unknown as Record<string, ModelFile>;
    const named: NamedBlob[] = [];
    for (const [name, value] of Object.entries(files)) {
      if (value === null) continue;
      const file = modelFile(value, `files.${name}`);
      if (previous[name]?.sha256 === file.sha256) continue;
      named.push({ label: name, sha256: file.sha256, size: file.size });
    }
    return named.length > 0 ? assertBlobsHeld(this.store, this.blobs, actor, named) : undefined;
  }
}

/** The named files a create, patch or update body sets (`files: {...}` or `files.<name>: {...}`). */
function filesIn(data: RecordData): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (key === 'files' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      Object.assign(result, value);
    } else if (key.startsWith('files.')) result[key.slice('files.'.length)] = value;
  }
  return result;
}

function ownerOnCreate(actor: Actor, data: RecordData): string | undefined {
  if (actor.kind !== 'user')
    return typeof data.userId === 'string' && actor.kind === 'internal' ? data.userId : undefined;
  if (actor.user.role === 'admin' && typeof data.userId === 'string') return data.userId;
  return actor.user._id;
}

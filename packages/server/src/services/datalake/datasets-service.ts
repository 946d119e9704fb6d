/**
 * The `datasets` service: named collections of pictures, each with versions
 * (`dataset-versions`). A name is unique per owner. Making a dataset public or private
 * carries over to its versions and labels; deleting a dataset deletes all its versions,
 * their membership, labels and annotations (the pictures stay in the datalake).
 */
import { and, eq, LarderError, not } from '@larder/protocol';
import { ownershipPolicy } from '../../auth/access-policy.js';
import type { Actor } from '../../auth/actor.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { type DocumentParams, DocumentService } from '../documents/document-service.js';
import { ANNOTATIONS, DATASETS, LABELS, MEMBERS, VERSIONS, versionRows } from './datalake-collections.js';
import { assertEntityName, optionalText } from './datalake-names.js';

type Id = string | number | null;

export class DatasetsService extends DocumentService {
  constructor(store: DocumentStore, authEnabled: boolean) {
    super({ store, collection: DATASETS, policy: ownershipPolicy, authEnabled, maxBatch: 100 });
  }

  override async create(data: unknown, params?: DocumentParams): Promise<StoredDocument | StoredDocument[]> {
    if (Array.isArray(data)) throw new LarderError('BadRequest', 'Create one dataset at a time');
    const actor = this.actor(params);
    const body = (data ?? {}) as Record<string, unknown>;
    assertEntityName(body.name, 'dataset');
    optionalText(body.description, '"description"');
    await this.assertNameFree(actor, body.name, undefined);
    return super.create({ ...body, public: body.public === true }, params);
  }

  override async patch(id: Id, data: unknown, params?: DocumentParams): Promise<StoredDocument | StoredDocument[]> {
    if (id === null) throw new LarderError('BadRequest', 'Change one dataset at a time: give its id');
    const body = (data ?? {}) as Record<string, unknown>;
    if (body.name !== undefined) {
      assertEntityName(body.name, 'dataset');
      const current = await this.get(id, params);
      await this.assertNameFree(this.actor(params), body.name, current);
    }
    if (body.public !== undefined && typeof body.public !== 'boolean') {
      throw new LarderError('BadRequest', '"public" must be true or false');
    }
    const changed = (await super.patch(id, data, params)) as StoredDocument;
    if (body.public !== undefined) {
      // Versions and labels carry the dataset's visibility so that reads filter on it.
      const visible = (row: StoredDocument) => ({ ...row, public: changed.public === true });
      await this.store.modify(VERSIONS, eq(['datasetId'], changed._id), visible);
      await this.store.modify(LABELS, eq(['datasetId'], changed._id), visible);
    }
    return changed;
  }

  override async remove(id: Id, params?: DocumentParams): Promise<StoredDocument | StoredDocument[]> {
    if (id === null) throw new LarderError('BadRequest', 'Delete one dataset at a time: give its id');
    const removed = (await super.remove(id, params)) as StoredDocument;
    const versions = await this.store.remove(VERSIONS, eq(['datasetId'], removed._id));
    for (const version of versions) {
      await this.store.remove(MEMBERS, versionRows(version._id));
      await this.store.remove(ANNOTATIONS, versionRows(version._id));
    }
    await this.store.remove(LABELS, eq(['datasetId'], removed._id));
    return removed;
  }

  private async assertNameFree(actor: Actor, name: string, current: StoredDocument | undefined): Promise<void> {
    const owner = current?.userId ?? (actor.kind === 'user' ? actor.user._id : undefined);
    const sameOwner = typeof owner === 'string' ? eq(['userId'], owner) : { op: 'all' as const };
    const others = current ? not(eq(['_id'], current._id)) : { op: 'all' as const };
    const taken = await this.store.count(this.collection, and(eq(['name'], name), sameOwner, others));
    if (taken > 0) throw new LarderError('Conflict', `You already have a dataset named '${name}'; choose another name`);
  }
}

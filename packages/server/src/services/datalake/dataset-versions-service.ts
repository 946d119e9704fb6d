/**
 * The `dataset-versions` service. A version is a set of assets plus labels and annotations.
 * A new version derives from another (by default the dataset's latest; `from: null` starts
 * empty) and copies its membership, labels and annotations. `patch { published: true }`
 * freezes it: a published version never changes and cannot be deleted on its own (delete
 * the dataset to remove it).
 *
 * @example
 * POST /dataset-versions { "datasetId": "…", "name": "v2", "from": "latest", "assets": ["p…"] }
 * PATCH /dataset-versions/<id> { "published": true }
 */
import { and, eq, LarderError, newId } from '@larder/protocol';
import { ownershipPolicy } from '../../auth/access-policy.js';
import type { Actor } from '../../auth/actor.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { type DocumentParams, DocumentService } from '../documents/document-service.js';
import { DATASETS, VERSIONS } from './datalake-collections.js';
import { assertEntityName, optionalText } from './datalake-names.js';
import { VersionContent } from './version-content.js';
import { VersionMembership } from './version-membership.js';

type Id = string | number | null;

const PATCHABLE = new Set(['name', 'description', 'published']);

export class DatasetVersionsService extends DocumentService {
  private readonly membership: VersionMembership;
  private readonly content: VersionContent;

  constructor(store: DocumentStore, authEnabled: boolean) {
    super({ store, collection: VERSIONS, policy: ownershipPolicy, authEnabled, maxBatch: 1 });
    this.membership = new VersionMembership(store);
    this.content = new VersionContent(store);
  }

  override async create(data: unknown, params?: DocumentParams): Promise<StoredDocument | StoredDocument[]> {
    if (Array.isArray(data) || data === null || typeof data !== 'object') {
      throw new LarderError('BadRequest', 'Send one version: { datasetId, name, from?, assets? }');
    }
    const actor = this.actor(params);
    const body = data as Record<string, unknown>;
    const dataset = await this.writableDataset(actor, body.datasetId);
    assertEntityName(body.name, 'version');
    const description = optionalText(body.description, '"description"') ?? '';
    const assets = body.assets ?? [];
    if (!Array.isArray(assets) || !assets.every((id) => typeof id === 'string')) {
      throw new LarderError('BadRequest', '"assets" must be a list of asset ids');
    }
    const taken = await this.store.count(VERSIONS, and(eq(['datasetId'], dataset._id), eq(['name'], body.name)));
    if (taken > 0) {
      throw new LarderError('Conflict', `Dataset '${dataset.name}' already has a version named '${body.name}'`);
    }
    const parent = await this.parentOf(dataset._id, body.from);
    const record = {
      _id: newId(),
      datasetId: dataset._id,
      name: body.name,
      description,
      parentId: parent?._id ?? null,
      published: false,
      assetCount: 0,
      userId: dataset.userId ?? null,
      public: dataset.public === true,
    };
    if (record.userId === null) delete (record as Partial<typeof record>).userId;
    const created = (await super.create(record, params)) as StoredDocument;
    try {
      if (parent) await this.content.copy(parent._id, created._id);
      if (assets.length > 0) await this.membership.add(actor, created._id, assets as string[]);
    } catch (error) {
      await this.content.drop(created._id);
      await this.store.remove(VERSIONS, eq(['_id'], created._id));
      throw error;
    }
    return this.get(created._id, params);
  }

  override async patch(id: Id, data: unknown, params?: DocumentParams): Promise<StoredDocument | StoredDocument[]> {
    if (id === null) throw new LarderError('BadRequest', 'Change one version at a time: give its id');
    const body = (data ?? {}) as Record<string, unknown>;
    const refused = Object.keys(body).filter((key) => !PATCHABLE.has(key));
    if (refused.length > 0) {
      throw new LarderError(
        'BadRequest',
        `Only name, description and published can change (not ${refused.join(', ')})`,
      );
    }
    const current = await this.get(id, params);
    if (current.published === true) {
      throw new LarderError(
        'Conflict',
        `Version '${current.name}' is published and cannot change; create a new version from it`,
      );
    }
    if (body.published !== undefined && body.published !== true) {
      throw new LarderError('BadRequest', '"published" can only be set to true');
    }
    if (body.name !== undefined) {
      assertEntityName(body.name, 'version');
      const taken = await this.store.count(
        VERSIONS,
        and(eq(['datasetId'], String(current.datasetId)), eq(['name'], body.name)),
      );
      if (taken > 0 && body.name !== current.name) {
        throw new LarderError('Conflict', `This dataset already has a version named '${body.name}'`);
      }
    }
    optionalText(body.description, '"description"');
    const change: Record<string, unknown> = { ...body };
    if (body.published === true) change.publishedAt = new Date().toISOString();
    return super.patch(id, change, params);
  }

  override async remove(id: Id, params?: DocumentParams): Promise<StoredDocument | StoredDocument[]> {
    if (id === null) throw new LarderError('BadRequest', 'Delete one version at a time: give its id');
    const current = await this.get(id, params);
    if (current.published === true) {
      throw new LarderError(
        'Conflict',
        `Version '${current.name}' is published and cannot be deleted on its own; delete the whole dataset instead`,
      );
    }
    const removed = (await super.remove(id, params)) as StoredDocument;
    await this.content.drop(removed._id);
    return removed;
  }

  private async writableDataset(actor: Actor, datasetId: unknown): Promise<StoredDocument> {
    if (typeof datasetId !== 'string') throw new LarderError('BadRequest', 'Say which dataset: give "datasetId"');
    const [dataset] = await this.store.find(DATASETS, {
      filter: and(eq(['_id'], datasetId), ownershipPolicy.readFilter(actor)),
      limit: 1,
    });
    if (!dataset) throw new LarderError('NotFound', `No dataset '${datasetId}' that you may read`);
    const writable = await this.store.count(DATASETS, and(eq(['_id'], datasetId), ownershipPolicy.writeFilter(actor)));
    if (writable === 0) throw new LarderError('Forbidden', `You may read but not change dataset '${dataset.name}'`);
    return dataset;
  }

  /** The version to derive from: an id or name, `latest` (the default), or `null` for none. */
  private async parentOf(datasetId: string, from: unknown): Promise<StoredDocument | undefined> {
    if (from === null || from === false) return undefined;
    if (from === undefined || from === 'latest') {
      const [latest] = await this.store.find(VERSIONS, {
        filter: eq(['datasetId'], datasetId),
        sort: [
          { path: ['createdAt'], direction: -1 },
          { path: ['_id'], direction: -1 },
        ],
        limit: 1,
      });
      return latest;
    }
    if (typeof from !== 'string') throw new LarderError('BadRequest', '"from" is a version id or name, or "latest"');
    const [parent] = await this.store.find(VERSIONS, {
      filter: and(eq(['datasetId'], datasetId), { op: 'or', filters: [eq(['_id'], from), eq(['name'], from)] }),
      limit: 1,
    });
    if (!parent) throw new LarderError('NotFound', `This dataset has no version '${from}' to derive from`);
    return parent;
  }
}

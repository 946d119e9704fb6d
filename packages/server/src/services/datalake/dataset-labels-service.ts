/**
 * The `dataset-labels` service: the labels of a version (`car` drawn as rectangles,
 * `road` as polygons…), each with one type: rectangle, polygon, point, line or
 * classification. A name is unique within a version; a label in use by annotations, or in
 * a published version, cannot be deleted.
 *
 * @example
 * POST /dataset-labels { "versionId": "…", "name": "car", "type": "rectangle" }
 */
import { and, eq, LarderError } from '@larder/protocol';
import { ownershipPolicy } from '../../auth/access-policy.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { type DocumentParams, DocumentService } from '../documents/document-service.js';
import { isLabelType, LABEL_TYPES } from './annotation-shapes.js';
import { ANNOTATIONS, LABELS, versionRows } from './datalake-collections.js';
import { assertEntityName } from './datalake-names.js';
import { assertDraft, VersionAccess, type VersionRecord } from './version-access.js';

type Id = string | number | null;

export class DatasetLabelsService extends DocumentService {
  private readonly versions: VersionAccess;

  constructor(store: DocumentStore, authEnabled: boolean) {
    super({ store, collection: LABELS, policy: ownershipPolicy, authEnabled, maxBatch: 1000 });
    this.versions = new VersionAccess(store);
  }

  override async create(data: unknown, params?: DocumentParams): Promise<StoredDocument | StoredDocument[]> {
    const actor = this.actor(params);
    const items = Array.isArray(data) ? data : [data];
    if (items.length > 1000) throw new LarderError('PayloadTooLarge', 'At most 1000 labels per call');
    const records: Record<string, unknown>[] = [];
    const versions = new Map<string, VersionRecord>();
    const names = new Set<string>();
    for (const item of items) {
      const body = (item ?? {}) as Record<string, unknown>;
      const versionId = String(body.versionId ?? '');
      let version = versions.get(versionId);
      if (!version) {
        version = await this.versions.changeable(actor, body.versionId);
        versions.set(versionId, version);
      }
      assertEntityName(body.name, 'label');
      if (!isLabelType(body.type)) {
        throw new LarderError('BadRequest', `A label's "type" is one of ${LABEL_TYPES.join(', ')}`);
      }
      const key = `${version._id}/${body.name}`;
      const taken = await this.store.count(LABELS, and(eq(['versionId'], version._id), eq(['name'], body.name)));
      if (taken > 0 || names.has(key)) {
        throw new LarderError('Conflict', `Version '${version.name}' already has a label named '${body.name}'`);
      }
      names.add(key);
      records.push({
        versionId: version._id,
        datasetId: version.datasetId,
        name: body.name,
        type: body.type,
        public: version.public === true,
        ...(typeof version.userId === 'string' ? { userId: version.userId } : {}),
      });
    }
    return super.create(Array.isArray(data) ? records : records[0], params);
  }

  override async remove(id: Id, params?: DocumentParams): Promise<StoredDocument | StoredDocument[]> {
    if (id === null) throw new LarderError('BadRequest', 'Delete one label at a time: give its id');
    const label = await this.get(id, params);
    assertDraft(await this.versions.readable(this.actor(params), label.versionId));
    const used = await this.store.count(
      ANNOTATIONS,
      and(versionRows(String(label.versionId)), eq(['labelId'], label._id)),
    );
    if (used > 0) {
      throw new LarderError('Conflict', `${used} annotations use label '${label.name}'; delete them first`);
    }
    return super.remove(id, params);
  }
}

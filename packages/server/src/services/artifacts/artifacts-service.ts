/**
 * `/artifacts`: named, immutable sets of objects (t9k Artifacts), in folders like runs and
 * under the same rules (unique names, conflict strategies, idempotent re-upload). Once
 * created, an artifact's objects never change; its labels and description may.
 */
import { LarderError } from '@larder/protocol';
import type { BlobStore } from '../../blobs/blob-store.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import type { DocumentParams } from '../documents/document-service.js';
import type { RecordData } from '../documents/record-data.js';
import type { FolderTree } from '../folders/folder-tree.js';
import { FolderedService } from '../folders/foldered-service.js';
import { parseObjects } from './artifact-objects.js';

export const ARTIFACTS_COLLECTION = 'artifacts';
type Id = string | number | null;

export class ArtifactsService extends FolderedService {
  constructor(store: DocumentStore, blobs: BlobStore, authEnabled: boolean, folders: FolderTree) {
    super({ store, blobs, authEnabled, folders, collection: ARTIFACTS_COLLECTION, noun: 'artifact' });
  }

  protected override validate(fields: RecordData, whole: boolean): void {
    super.validate(fields, whole);
    if (whole && fields.objects !== undefined) parseObjects(fields.objects);
  }

  protected override defaults(record: RecordData): RecordData {
    const objects = parseObjects(record.objects ?? []);
    const bytes = objects.reduce((sum, object) => sum + ('size' in object ? object.size : 0), 0);
    return { labels: [], description: '', ...record, objects, objectCount: objects.length, bytes };
  }

  override async patch(id: Id, data: unknown, params?: DocumentParams): Promise<StoredDocument | StoredDocument[]> {
    refuseObjectChanges(data);
    return super.patch(id, data, params);
  }

  override async update(id: Id, data: unknown, params?: DocumentParams): Promise<StoredDocument> {
    const before = await this.get(id, params);
    const objects = (data as RecordData | null)?.objects;
    if (objects !== undefined && JSON.stringify(objects) !== JSON.stringify(before.objects)) {
      throw new LarderError(
        'BadRequest',
        'An artifact is immutable once uploaded: create a new one to change its objects',
      );
    }
    return super.update(
      id,
      {
        ...(data as RecordData),
        objects: before.objects ?? [],
        objectCount: before.objectCount ?? 0,
        bytes: before.bytes ?? 0,
      },
      params,
    );
  }
}

function refuseObjectChanges(data: unknown): void {
  if (data === null || typeof data !== 'object') return;
  for (const key of Object.keys(data)) {
    if (key === 'objects' || key.startsWith('objects.') || key === 'objectCount' || key === 'bytes') {
      throw new LarderError(
        'BadRequest',
        'An artifact is immutable once uploaded: create a new one to change its objects',
      );
    }
  }
}

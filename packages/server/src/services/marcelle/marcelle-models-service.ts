/**
 * `/tfjs-models` and `/onnx-models`: Marcelle's model documents
 * (`{ name, files: [[filename, id]], format, metadata }`), under the ownership policy.
 *
 * Files are blobs: a document may name only files its writer uploaded (the `blobs` list
 * derived from `files` goes through the document service's one check), and it holds them
 * (blob references through a server-kept `blobs` list derived from `files`), so replacing
 * `files` or removing the document lets the garbage collector take the bytes nobody else
 * holds. A file a concurrent collection takes fails the write before anything is written
 * (503 on a create, the server's own mirrors of versions included; 400 on a client's change):
 * the document service decides that too. `registry` (the registry model and version
 * mirroring the document) is kept by the server.
 */
import { LarderError, newId } from '@larder/protocol';
import { ownershipPolicy } from '../../auth/access-policy.js';
import type { BlobStore } from '../../blobs/blob-store.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { type DocumentParams, DocumentService } from '../documents/document-service.js';
import { assertRecordData } from '../documents/record-data.js';
import { parseModelFiles, storedModelFiles } from './model-files-field.js';

export type MarcelleModelFormat = 'tfjs' | 'onnx';
export const MARCELLE_MODEL_FORMATS: readonly MarcelleModelFormat[] = ['tfjs', 'onnx'];

/** Fields only the server writes. */
const SERVER_KEPT = ['blobs', 'registry'] as const;

type Id = string | number | null;

export function modelsPath(format: MarcelleModelFormat): string {
  return `${format}-models`;
}

export class MarcelleModelsService extends DocumentService {
  constructor(
    store: DocumentStore,
    blobs: BlobStore,
    authEnabled: boolean,
    readonly format: MarcelleModelFormat,
  ) {
    super({ store, collection: modelsPath(format), policy: ownershipPolicy, authEnabled, blobs });
  }

  override async create(data: unknown, params?: DocumentParams): Promise<StoredDocument | StoredDocument[]> {
    if (Array.isArray(data)) {
      const created: StoredDocument[] = [];
      for (const item of data) created.push((await this.create(item, params)) as StoredDocument);
      return created;
    }
    assertRecordData(data);
    const fields = this.fromClient(data, params);
    parseModelFiles(fields.files ?? []);
    return (await super.create({ _id: newId(), ...fields }, params)) as StoredDocument;
  }

  override async update(id: Id, data: unknown, params?: DocumentParams): Promise<StoredDocument> {
    assertRecordData(data);
    const fields = this.fromClient(data, params);
    parseModelFiles(fields.files ?? []);
    return super.update(id, fields, params);
  }

  override async patch(id: Id, data: unknown, params?: DocumentParams): Promise<StoredDocument | StoredDocument[]> {
    assertRecordData(data, 'The patch');
    const fields = this.fromClient(data, params);
    if (fields.files === undefined) return super.patch(id, fields, params);
    if (id === null) throw new LarderError('BadRequest', "Change one model's files at a time: give its id");
    parseModelFiles(fields.files);
    return super.patch(id, fields, params);
  }

  /** `blobs` always follows `files`; `registry` survives client writes. */
  protected override prepareForWrite(record: StoredDocument, before: StoredDocument | undefined): StoredDocument {
    const next: StoredDocument = { ...record };
    if (record.registry === undefined && before?.registry !== undefined) next.registry = before.registry;
    next.blobs = storedModelFiles(record).map(([path, sha256]) => ({ path, sha256 }));
    return next;
  }

  private fromClient(data: Record<string, unknown>, params: DocumentParams | undefined): Record<string, unknown> {
    const fields = { ...data };
    if (params?.provider) for (const field of SERVER_KEPT) delete fields[field];
    else delete fields.blobs;
    return fields;
  }
}

/**
 * `/tfjs-models` and `/onnx-models`: Marcelle's model documents
 * (`{ name, files: [[filename, id]], format, metadata }`), under the ownership policy.
 *
 * Files are blobs: a document may name only files its writer uploaded, and it holds them
 * (blob references through a server-kept `blobs` list derived from `files`), so replacing
 * `files` or removing the document lets the garbage collector take the bytes nobody else
 * holds. `registry` (the registry model and version mirroring the document) is kept by the
 * server.
 */
import { LarderError, newId } from '@larder/protocol';
import { ownershipPolicy } from '../../auth/access-policy.js';
import type { Actor } from '../../auth/actor.js';
import { canReadBlob } from '../../auth/blob-access.js';
import type { BlobStore } from '../../blobs/blob-store.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { type DocumentParams, DocumentService } from '../documents/document-service.js';
import { assertRecordData } from '../documents/record-data.js';
import { confirmSurvival } from '../registry/held-blobs.js';
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
    private readonly blobs: BlobStore,
    authEnabled: boolean,
    readonly format: MarcelleModelFormat,
  ) {
    super({ store, collection: modelsPath(format), policy: ownershipPolicy, authEnabled, holdsBlobs: true });
  }

  override async create(data: unknown, params?: DocumentParams): Promise<StoredDocument | StoredDocument[]> {
    if (Array.isArray(data)) {
      const created: StoredDocument[] = [];
      for (const item of data) created.push((await this.create(item, params)) as StoredDocument);
      return created;
    }
    assertRecordData(data);
    const fields = this.fromClient(data, params);
    const files = parseModelFiles(fields.files ?? []);
    await this.assertHeld(this.actor(params), files, new Set());
    const created = (await super.create({ _id: newId(), ...fields }, params)) as StoredDocument;
    await this.assertSurvived(created, files);
    return created;
  }

  override async update(id: Id, data: unknown, params?: DocumentParams): Promise<StoredDocument> {
    assertRecordData(data);
    const fields = this.fromClient(data, params);
    const before = await this.get(id, params);
    const files = parseModelFiles(fields.files ?? []);
    await this.assertHeld(this.actor(params), files, new Set(storedModelFiles(before).map((pair) => pair[1])));
    const updated = await super.update(id, fields, params);
    await this.assertSurvived(updated, files);
    return updated;
  }

  override async patch(id: Id, data: unknown, params?: DocumentParams): Promise<StoredDocument | StoredDocument[]> {
    assertRecordData(data, 'The patch');
    const fields = this.fromClient(data, params);
    if (fields.files === undefined) return super.patch(id, fields, params);
    if (id === null) throw new LarderError('BadRequest', "Change one model's files at a time: give its id");
    const before = await this.get(id, params);
    const files = parseModelFiles(fields.files);
    await this.assertHeld(this.actor(params), files, new Set(storedModelFiles(before).map((pair) => pair[1])));
    const patched = (await super.patch(id, fields, params)) as StoredDocument;
    await this.assertSurvived(patched, files);
    return patched;
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

  /** Knowing a hash is not holding the file: every new file must be one the writer uploaded. */
  private async assertHeld(actor: Actor, files: readonly [string, string][], known: ReadonlySet<string>) {
    for (const [filename, sha256] of files) {
      if (known.has(sha256)) continue;
      const held = (await canReadBlob(this.store, actor, sha256)) && (await this.blobs.stat(sha256)) !== undefined;
      if (!held) {
        throw new LarderError(
          'BadRequest',
          `"${filename.slice(0, 120)}" is not a file you uploaded: upload it with POST /${this.collection}/upload first`,
        );
      }
    }
  }

  private async assertSurvived(record: StoredDocument, files: readonly [string, string][]): Promise<void> {
    if (
      await confirmSurvival(
        this.store,
        this.blobs,
        files.map((pair) => pair[1]),
      )
    )
      return;
    await super.remove(record._id, {});
    throw new LarderError('Unavailable', 'Some files were garbage-collected meanwhile; upload the model again');
  }
}

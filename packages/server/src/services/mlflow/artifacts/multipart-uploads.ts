/**
 * MLflow's proxied multipart upload, over ordinary blobs. `create` opens an upload record in
 * `_mlflow_uploads` and answers one part URL per part; the client PUTs each part there
 * (MLflow's client sends no credentials with parts, as with presigned S3 URLs, so the
 * unguessable upload id is the capability). Each part is streamed into the blob store and
 * hashed by the server, recorded on the upload and held by a blob reference until the end.
 * `complete` joins the parts, in the order the client lists them, into the whole file
 * (`composeBlobs`: the store's cheapest way, on S3 a server-side copy of the parts) and
 * records it as the artifact; the part ETags the client sends back must be the ones the
 * server answered. `abort` forgets it all.
 */
import { randomBytes } from 'node:crypto';
import { eq, type JsonValue, LarderError } from '@larder/protocol';
import type { BlobInfo, BlobStore } from '../../../blobs/blob-store.js';
import { composeBlobs } from '../../../blobs/concatenated-blobs.js';
import { BlobReferences, ownerOf } from '../../../blobs/lifecycle/blob-references.js';
import { confirmUpload } from '../../../blobs/lifecycle/blob-uploads.js';
import type { DocumentStore, StoredDocument } from '../../../stores/document-store.js';
import { MlflowError } from '../mlflow-errors.js';

export const UPLOADS_COLLECTION = '_mlflow_uploads';
export const MAX_PARTS = 10_000;
/** An upload neither completed nor aborted after this long is dropped, and its parts released. */
export const ABANDONED_AFTER_MS = 7 * 24 * 3600 * 1000;

export interface OpenUpload {
  /** The tree owner and the path inside it the whole file will be recorded at. */
  owner: string;
  path: string;
}

export interface UploadPart {
  part_number: number;
  etag: string;
}

export class MultipartUploads {
  private readonly references: BlobReferences;

  constructor(
    private readonly store: DocumentStore,
    private readonly blobs: BlobStore,
  ) {
    this.references = new BlobReferences(store);
  }

  /** Opens an upload of `parts` parts; answers its id. */
  async create(target: OpenUpload, parts: number): Promise<string> {
    if (!Number.isSafeInteger(parts) || parts < 1 || parts > MAX_PARTS) {
      throw new MlflowError('INVALID_PARAMETER_VALUE', `num_parts must be between 1 and ${MAX_PARTS}`);
    }
    await this.dropAbandoned();
    const id = randomBytes(16).toString('hex');
    await this.store.ensureCollection(UPLOADS_COLLECTION);
    await this.store.insert(UPLOADS_COLLECTION, [
      { _id: id, owner: target.owner, path: target.path, numParts: parts, parts: {}, createdAt: Date.now() },
    ]);
    return id;
  }

  /** Records a part the server has just stored and hashed. */
  async recordPart(uploadId: string, partNumber: number, blob: BlobInfo): Promise<void> {
    const upload = await this.upload(uploadId);
    if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > Number(upload.numParts)) {
      throw new MlflowError('INVALID_PARAMETER_VALUE', `Part numbers of this upload run from 1 to ${upload.numParts}`);
    }
    await this.references.add(ownerOf(UPLOADS_COLLECTION, uploadId), [blob.sha256]);
    const [changed] = await this.store.modify(UPLOADS_COLLECTION, eq(['_id'], uploadId), (record) => ({
      ...record,
      parts: {
        ...(record.parts as Record<string, JsonValue>),
        [String(partNumber)]: { sha256: blob.sha256, size: blob.size },
      },
    }));
    if (!changed) throw notFound(uploadId);
  }

  /**
   * Composes the parts the client lists into one blob; answers it with the upload's target.
   * The upload stays open until `finish`, so a failed record write can be retried.
   */
  async compose(
    uploadId: string,
    target: OpenUpload,
    listed: readonly UploadPart[],
    maxBytes: number,
  ): Promise<BlobInfo> {
    const upload = await this.upload(uploadId);
    if (upload.owner !== target.owner || upload.path !== target.path) {
      throw new MlflowError('INVALID_PARAMETER_VALUE', `Upload ${uploadId} is not an upload of this artifact`);
    }
    const stored = (upload.parts ?? {}) as Record<string, { sha256: string; size: number }>;
    if (listed.length === 0) throw new MlflowError('INVALID_PARAMETER_VALUE', 'parts must list the uploaded parts');
    const hashes: string[] = [];
    for (const part of listed) {
      const recorded = Object.hasOwn(stored, String(part.part_number)) ? stored[String(part.part_number)] : undefined;
      if (!recorded) throw new MlflowError('INVALID_PARAMETER_VALUE', `Part ${part.part_number} was never uploaded`);
      if (part.etag !== '' && unquoted(part.etag) !== recorded.sha256) {
        throw new MlflowError(
          'INVALID_PARAMETER_VALUE',
          `Part ${part.part_number} has another ETag than the server answered`,
        );
      }
      hashes.push(recorded.sha256);
    }
    let result: BlobInfo;
    if (hashes.length === 1 && hashes[0] !== undefined) {
      const info = await this.blobs.stat(hashes[0]);
      if (!info) throw new LarderError('Unavailable', 'A part was lost before the upload completed; upload again');
      result = info;
    } else {
      // The store joins the parts its cheapest way (UploadPartCopy on S3), hashing the whole.
      result = await composeBlobs(this.blobs, hashes, { maxBytes });
    }
    await confirmUpload(this.store, this.blobs, result.sha256);
    return result;
  }

  /** Closes an upload (completed or aborted): its record and its parts' references go. */
  async finish(uploadId: string): Promise<void> {
    await this.store.remove(UPLOADS_COLLECTION, eq(['_id'], uploadId));
    await this.references.release([ownerOf(UPLOADS_COLLECTION, uploadId)]);
  }

  /** The upload if it exists and is one of `target`'s. */
  async uploadOf(uploadId: string, target: OpenUpload): Promise<StoredDocument> {
    const upload = await this.upload(uploadId);
    if (upload.owner !== target.owner || upload.path !== target.path) throw notFound(uploadId);
    return upload;
  }

  /** Uploads a client gave up on (a killed script) would otherwise hold their parts forever. */
  private async dropAbandoned(): Promise<void> {
    const before = Date.now() - ABANDONED_AFTER_MS;
    const stale = await this.store.remove(UPLOADS_COLLECTION, { op: 'lt', path: ['createdAt'], value: before });
    if (stale.length > 0) await this.references.release(stale.map((upload) => ownerOf(UPLOADS_COLLECTION, upload._id)));
  }

  private async upload(uploadId: string): Promise<StoredDocument> {
    const [upload] = /^[0-9a-f]{32}$/.test(uploadId)
      ? await this.store.find(UPLOADS_COLLECTION, { filter: eq(['_id'], uploadId), limit: 1 })
      : [];
    if (!upload) throw notFound(uploadId);
    return upload;
  }
}

function unquoted(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '');
}

function notFound(uploadId: string): MlflowError {
  return new MlflowError('RESOURCE_DOES_NOT_EXIST', `No open multipart upload ${uploadId.slice(0, 64)}`);
}

/**
 * The blob store on S3-compatible object storage, for several server instances sharing
 * one bucket. An upload streams through the content meter (hash, size, limit) into a
 * multipart upload under a temporary key; once its hash is known it is copied on the
 * server side to `<prefix>sha256/ab/cd/<hash>` and the temporary object deleted, so no
 * partial object is ever visible under a hash. Downloads stream, ranges included.
 */
import { randomUUID } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { LarderError } from '@larder/protocol';
import {
  type BlobInfo,
  type BlobStore,
  type ByteRange,
  isSha256,
  type PutOptions,
  type PutResult,
} from '../blob-store.js';
import { createContentMeter } from '../content-meter.js';

export interface S3BlobStoreOptions {
  bucket: string;
  /** Key prefix inside the bucket (e.g. `larder/`). */
  prefix?: string;
  /** Client settings; endpoint, region and credentials otherwise come from the standard AWS environment. */
  client?: S3ClientConfig;
  /** Objects larger than this are copied in parts (S3 copies at most 5 GiB at once). */
  maxSingleCopyBytes?: number;
  /** Create the bucket on open when it does not exist (handy for local S3 servers). */
  createBucket?: boolean;
}

const PART_BYTES = 8 * 1024 * 1024;
const COPY_PART_BYTES = 512 * 1024 * 1024;
const FIVE_GIB = 5 * 1024 * 1024 * 1024;
/** Temporary objects older than this are leftovers of crashed uploads. */
const STALE_TEMP_MS = 24 * 3600 * 1000;

function isMissing(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
}

function storageError(error: unknown, bucket?: string): LarderError {
  if (error instanceof LarderError) return error;
  const name = (error as { name?: string }).name;
  if (name === 'NoSuchBucket') {
    return new LarderError('Unavailable', `The object storage has no bucket ${bucket ?? ''}`.trim(), { cause: error });
  }
  if (name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || name === 'AccessDenied') {
    return new LarderError('Unavailable', 'The object storage refused the credentials', { cause: error });
  }
  const code = (error as { code?: string }).code;
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'ENOTFOUND') {
    return new LarderError('Unavailable', 'The object storage is unreachable; try again shortly', { cause: error });
  }
  return new LarderError('GeneralError', 'The object storage failed', { cause: error });
}

function assertHash(sha256: string): void {
  if (!isSha256(sha256))
    throw new LarderError('BadRequest', 'A blob is named by the 64 lower-case hex digits of its SHA-256');
}

export class S3BlobStore implements BlobStore {
  readonly kind = 's3';
  private client: S3Client | undefined;
  private readonly prefix: string;
  /** Copies into place under way, by hash: identical uploads share one. */
  private readonly placing = new Map<string, Promise<void>>();

  constructor(private readonly options: S3BlobStoreOptions) {
    this.prefix = options.prefix ? `${options.prefix.replace(/\/+$/, '')}/` : '';
  }

  private key(sha256: string): string {
    return `${this.prefix}sha256/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`;
  }

  private get s3(): S3Client {
    if (!this.client) throw new LarderError('Unavailable', 'The blob store is not open');
    return this.client;
  }

  async open(): Promise<void> {
    if (this.client) return;
    const client = new S3Client(this.options.client ?? {});
    this.client = client;
    try {
      if (this.options.createBucket) {
        try {
          await client.send(new HeadBucketCommand({ Bucket: this.options.bucket }));
        } catch (error) {
          if (!isMissing(error)) throw error;
          await client.send(new CreateBucketCommand({ Bucket: this.options.bucket }));
        }
      }
      await this.removeStaleTemporaries();
    } catch (error) {
      this.client = undefined;
      client.destroy();
      throw storageError(error, this.options.bucket);
    }
  }

  async close(): Promise<void> {
    this.client?.destroy();
    this.client = undefined;
  }

  private async removeStaleTemporaries(): Promise<void> {
    for await (const object of this.objects(`${this.prefix}tmp/`)) {
      if (object.LastModified && Date.now() - object.LastModified.getTime() > STALE_TEMP_MS && object.Key) {
        await this.s3.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: object.Key }));
      }
    }
  }

  private async *objects(prefix: string) {
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) yield object;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async put(source: Readable, options: PutOptions = {}): Promise<PutResult> {
    if (options.expectedSha256 !== undefined && !isSha256(options.expectedSha256)) {
      throw new LarderError('BadRequest', 'expectedSha256 must be 64 lower-case hex digits');
    }
    const s3 = this.s3;
    const bucket = this.options.bucket;
    const temporary = `${this.prefix}tmp/${randomUUID()}`;
    const meter = createContentMeter(options.maxBytes);
    const body = new PassThrough();
    const upload = new Upload({
      client: s3,
      params: { Bucket: bucket, Key: temporary, Body: body },
      partSize: PART_BYTES,
      queueSize: 2,
      leavePartsOnError: false,
    });
    const [piped, uploaded] = await Promise.allSettled([pipeline(source, meter.measure, body), upload.done()]);
    if (piped.status === 'rejected' || uploaded.status === 'rejected') {
      await upload.abort().catch(() => {});
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: temporary })).catch(() => {});
      // The source's own failure (or the size limit) says more than the upload's.
      throw piped.status === 'rejected' ? piped.reason : storageError((uploaded as PromiseRejectedResult).reason);
    }
    const { sha256, size } = meter.result();
    try {
      if (options.expectedSha256 !== undefined && options.expectedSha256 !== sha256) {
        throw new LarderError(
          'BadRequest',
          `The content hashes to ${sha256}, not to the expected ${options.expectedSha256}; nothing was stored`,
        );
      }
      const underway = this.placing.get(sha256);
      if (underway) {
        await underway;
        return { sha256, size, created: false };
      }
      if (await this.stat(sha256)) return { sha256, size, created: false };
      const placing = this.place(temporary, sha256, size);
      this.placing.set(sha256, placing);
      try {
        await placing;
      } finally {
        this.placing.delete(sha256);
      }
      return { sha256, size, created: true };
    } catch (error) {
      throw storageError(error);
    } finally {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: temporary })).catch(() => {});
    }
  }

  /**
   * Copies a finished upload to its hash's key. Should the copy fail while the key now
   * exists (another writer placed the same content first), the blob is there: success.
   */
  private async place(temporary: string, sha256: string, size: number): Promise<void> {
    try {
      await this.copy(temporary, this.key(sha256), size);
    } catch (error) {
      const placed = await this.stat(sha256).catch(() => undefined);
      if (placed?.size !== size) throw error;
    }
  }

  /** Server-side copy; in parts when larger than one copy may be. */
  private async copy(from: string, to: string, size: number): Promise<void> {
    const bucket = this.options.bucket;
    const source = `${bucket}/${from.split('/').map(encodeURIComponent).join('/')}`;
    const maxSingle = this.options.maxSingleCopyBytes ?? FIVE_GIB;
    if (size <= maxSingle) {
      await this.s3.send(new CopyObjectCommand({ Bucket: bucket, Key: to, CopySource: source }));
      return;
    }
    const partBytes = Math.max(5 * 1024 * 1024, Math.min(COPY_PART_BYTES, maxSingle));
    const { UploadId } = await this.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: to }));
    const parts: { ETag: string | undefined; PartNumber: number }[] = [];
    for (let start = 0, number = 1; start < size; start += partBytes, number++) {
      const end = Math.min(start + partBytes, size) - 1;
      const part = await this.s3.send(
        new UploadPartCopyCommand({
          Bucket: bucket,
          Key: to,
          UploadId,
          PartNumber: number,
          CopySource: source,
          CopySourceRange: `bytes=${start}-${end}`,
        }),
      );
      parts.push({ ETag: part.CopyPartResult?.ETag, PartNumber: number });
    }
    await this.s3.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: to, UploadId, MultipartUpload: { Parts: parts } }),
    );
  }

  async stat(sha256: string): Promise<BlobInfo | undefined> {
    assertHash(sha256);
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.key(sha256) }));
      return { sha256, size: head.ContentLength ?? 0 };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw storageError(error);
    }
  }

  async get(sha256: string, range?: ByteRange): Promise<Readable> {
    const info = await this.stat(sha256);
    if (!info) throw new LarderError('NotFound', `No blob ${sha256}`);
    if (range) {
      const { start, end } = range;
      const valid = Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end < info.size;
      if (!valid)
        throw new LarderError('BadRequest', `The range ${start}-${end} is outside the blob's ${info.size} bytes`);
    }
    try {
      const object = await this.s3.send(
        new GetObjectCommand({
          Bucket: this.options.bucket,
          Key: this.key(sha256),
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      return object.Body as Readable;
    } catch (error) {
      if (isMissing(error)) throw new LarderError('NotFound', `No blob ${sha256}`);
      throw storageError(error);
    }
  }

  async delete(sha256: string): Promise<boolean> {
    if (!(await this.stat(sha256))) return false;
    try {
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.key(sha256) }));
      return true;
    } catch (error) {
      throw storageError(error);
    }
  }

  async *list(): AsyncIterable<string> {
    for await (const object of this.objects(`${this.prefix}sha256/`)) {
      const name = object.Key?.slice(object.Key.lastIndexOf('/') + 1);
      if (isSha256(name)) yield name;
    }
  }
}

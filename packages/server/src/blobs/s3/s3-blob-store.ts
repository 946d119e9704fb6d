/**
 * The blob store on S3-compatible object storage, for several server instances sharing
 * one bucket. An upload streams through the content meter (hash, size, limit) into a
 * multipart upload under a temporary key (parts filled in place, two sent while the next
 * fills: three part buffers per upload, of 5 MiB up to 4.4 GiB and larger past it, see
 * `upload-part-size.ts`); once its hash is known it
 * is copied on the server side to `<prefix>sha256/ab/cd/<hash>` and the temporary object
 * deleted, so no partial object is ever visible under a hash. Composing stored blobs reads
 * them once to hash them and joins them with `UploadPartCopy`: no byte is uploaded again.
 * Downloads stream, ranges included.
 */
import { randomUUID } from 'node:crypto';
import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { LarderError } from '@larder/protocol';
import {
  type BlobInfo,
  type BlobStore,
  type ByteRange,
  isSha256,
  type PutOptions,
  type PutResult,
} from '../blob-store.js';
import { concatenatedBlobs, singlePartResult } from '../concatenated-blobs.js';
import { createContentMeter } from '../content-meter.js';
import { MAX_OBJECT_BYTES, MAX_PARTS, MIN_PART_BYTES, uploadPartBytes } from './upload-part-size.js';

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

/** Parts an upload sends at once (each holds one part buffer). */
const PARTS_IN_FLIGHT = 2;
/** Part copies in flight at once when composing. */
const COPY_CONCURRENCY = 4;
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

interface PartCopy {
  /** `bucket/key` of the blob copied from. */
  source: string;
  bytes: number;
  /** Only part of it, when it is larger than one copy may be. */
  range?: string;
}

export class S3BlobStore implements BlobStore {
  readonly kind = 's3';
  /** Parts of 5 MiB or more are joined by `UploadPartCopy` (see `compose`). */
  readonly composesWithoutCopying = true;
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
    // S3 keeps no larger object: refused as the limit is passed, not when completing.
    const meter = createContentMeter(Math.min(options.maxBytes ?? MAX_OBJECT_BYTES, MAX_OBJECT_BYTES));
    const sink = new PartSink(s3, bucket, temporary);
    try {
      await pipeline(source, meter.measure, sink);
    } catch (error) {
      await sink.abort();
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: temporary })).catch(() => {});
      // The source's own failure (or the size limit) says more than the storage's.
      throw sink.failure === error ? storageError(error) : error;
    }
    const { sha256, size } = meter.result();
    try {
      return await this.placeOnce(sha256, size, options, () => this.place(temporary, sha256, size));
    } catch (error) {
      throw storageError(error);
    } finally {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: temporary })).catch(() => {});
    }
  }

  /**
   * Joins stored blobs into one without uploading their bytes again: they are read once to
   * hash them (the hash is the server's own), then copied part by part (`UploadPartCopy`)
   * into a multipart upload at the final key, which appears whole on completion. Parts S3
   * cannot copy as parts (all but the last must be 5 MiB or more) are streamed instead.
   */
  async compose(parts: readonly string[], options: PutOptions = {}): Promise<PutResult> {
    const infos: BlobInfo[] = [];
    for (const part of parts) {
      const info = await this.stat(part);
      if (!info) throw new LarderError('NotFound', `No blob ${part}`);
      infos.push(info);
    }
    const [only] = infos;
    if (infos.length === 1 && only) return singlePartResult(only.sha256, only.size, options);
    const copies = this.partCopies(infos);
    const copyable = copies.length <= MAX_PARTS && copies.slice(0, -1).every((copy) => copy.bytes >= MIN_PART_BYTES);
    if (!copyable) return this.put(concatenatedBlobs(this, parts), options);
    if (options.expectedSha256 !== undefined && !isSha256(options.expectedSha256)) {
      throw new LarderError('BadRequest', 'expectedSha256 must be 64 lower-case hex digits');
    }
    const meter = createContentMeter(Math.min(options.maxBytes ?? MAX_OBJECT_BYTES, MAX_OBJECT_BYTES));
    const discard = new Writable({ write: (_chunk, _encoding, callback) => callback() });
    await pipeline(concatenatedBlobs(this, parts), meter.measure, discard);
    const { sha256, size } = meter.result();
    return this.placeOnce(
      sha256,
      size,
      options,
      () => this.copyParts(copies, this.key(sha256)),
      async (error) => {
        const placed = await this.stat(sha256).catch(() => undefined);
        if (placed?.size !== size) throw storageError(error);
      },
    );
  }

  /**
   * Puts content that hashed to `sha256` in place with `place`, unless it is stored already or
   * being placed by another call (then waits for that one); refuses it when it does not hash to
   * the expected hash. When placing fails, `recover` (if given) may still accept the outcome by
   * returning instead of throwing.
   */
  private async placeOnce(
    sha256: string,
    size: number,
    options: PutOptions,
    place: () => Promise<void>,
    recover?: (error: unknown) => Promise<void>,
  ): Promise<PutResult> {
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
    const placing = place();
    this.placing.set(sha256, placing);
    try {
      await placing;
    } catch (error) {
      if (recover === undefined) throw error;
      await recover(error);
    } finally {
      this.placing.delete(sha256);
    }
    return { sha256, size, created: true };
  }

  /** The part copies that make `parts`: a blob larger than one copy may be is cut in even ranges. */
  private partCopies(parts: readonly BlobInfo[]): PartCopy[] {
    const bucket = this.options.bucket;
    const maxSingle = Math.min(this.options.maxSingleCopyBytes ?? FIVE_GIB, FIVE_GIB);
    const copies: PartCopy[] = [];
    for (const part of parts) {
      const source = `${bucket}/${this.key(part.sha256).split('/').map(encodeURIComponent).join('/')}`;
      if (part.size <= maxSingle) {
        copies.push({ source, bytes: part.size });
        continue;
      }
      const step = Math.ceil(part.size / Math.ceil(part.size / maxSingle));
      for (let start = 0; start < part.size; start += step) {
        const end = Math.min(start + step, part.size);
        copies.push({ source, bytes: end - start, range: `bytes=${start}-${end - 1}` });
      }
    }
    return copies;
  }

  /** A multipart upload at `to` made of server-side copies, in order. */
  private async copyParts(copies: readonly PartCopy[], to: string): Promise<void> {
    const bucket = this.options.bucket;
    const { UploadId } = await this.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: to }));
    try {
      const etags: (string | undefined)[] = new Array(copies.length);
      let next = 0;
      const copier = async () => {
        while (next < copies.length) {
          const index = next++;
          const copy = copies[index] as (typeof copies)[number];
          const answer = await this.s3.send(
            new UploadPartCopyCommand({
              Bucket: bucket,
              Key: to,
              UploadId,
              PartNumber: index + 1,
              CopySource: copy.source,
              ...(copy.range ? { CopySourceRange: copy.range } : {}),
            }),
          );
          etags[index] = answer.CopyPartResult?.ETag;
        }
      };
      await Promise.all(Array.from({ length: Math.min(COPY_CONCURRENCY, copies.length) }, copier));
      await this.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: to,
          UploadId,
          MultipartUpload: { Parts: etags.map((ETag, index) => ({ ETag, PartNumber: index + 1 })) },
        }),
      );
    } catch (error) {
      await this.s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: to, UploadId })).catch(() => {});
      throw error;
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
    const maxSingle = Math.min(this.options.maxSingleCopyBytes ?? FIVE_GIB, FIVE_GIB);
    if (size <= maxSingle) {
      await this.s3.send(new CopyObjectCommand({ Bucket: bucket, Key: to, CopySource: source }));
      return;
    }
    // Larger copies than usual where 10,000 of them would not reach the end (S3's largest objects).
    const partBytes = Math.max(
      MIN_PART_BYTES,
      Math.min(Math.max(COPY_PART_BYTES, Math.ceil(size / MAX_PARTS)), maxSingle),
    );
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

/**
 * Where an upload's bytes go: copied into a part buffer (sized by `uploadPartBytes`, taken
 * when the part's first byte arrives), sent as `UploadPart` once full while the next part
 * fills another buffer (at most `PARTS_IN_FLIGHT` parts on the way, so memory is that many
 * buffers plus one, and the sender waits when S3 is slower). The body is the buffer itself:
 * the SDK signs and checksums it in place. An upload of less than one part is a single
 * `PutObject`. `failure` is the storage's own error, if any.
 */
class PartSink extends Writable {
  failure: unknown;
  private filling: Buffer | undefined;
  /** Buffers of parts sent, for later parts of their size. */
  private readonly spares: Buffer[] = [];
  private filled = 0;
  private uploadId: string | undefined;
  private readonly etags: (string | undefined)[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly key: string,
  ) {
    // Chunks are copied into the part buffer at once: no need to queue more than one.
    super({ highWaterMark: 64 * 1024 });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.take(chunk).then(
      () => callback(),
      (error: Error) => callback(error),
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.finish().then(
      () => callback(),
      (error: Error) => callback(error),
    );
  }

  /** Stops a multipart upload begun, so S3 keeps none of its parts. */
  async abort(): Promise<void> {
    await Promise.allSettled(this.inFlight);
    if (this.uploadId === undefined) return;
    await this.s3
      .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId }))
      .catch(() => {});
  }

  private async take(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.byteLength) {
      const filling = this.filling ?? this.nextBuffer();
      const copied = chunk.copy(filling, this.filled, offset);
      this.filled += copied;
      offset += copied;
      if (this.filled === filling.byteLength) await this.sendPart();
    }
  }

  /** A buffer for the next part: a spare of its size if there is one (sizes only grow). */
  private nextBuffer(): Buffer {
    const bytes = uploadPartBytes(this.etags.length + 1);
    while (this.spares.length > 0 && this.spares[0]?.byteLength !== bytes) this.spares.shift();
    this.filling = this.spares.pop() ?? Buffer.allocUnsafe(bytes);
    return this.filling;
  }

  /** Sends the full buffer as the next part (once there is room on the way) and fills another. */
  private async sendPart(): Promise<void> {
    while (this.inFlight.size >= PARTS_IN_FLIGHT) await Promise.race(this.inFlight);
    if (this.uploadId === undefined) {
      const created = await this.storage(
        this.s3.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: this.key })),
      );
      this.uploadId = created.UploadId;
    }
    const buffer = this.filling as Buffer;
    const body = buffer.subarray(0, this.filled);
    const number = this.etags.length + 1;
    this.etags.push(undefined);
    this.filling = undefined;
    this.filled = 0;
    const sending = this.storage(
      this.s3.send(
        new UploadPartCommand({
          Bucket: this.bucket,
          Key: this.key,
          UploadId: this.uploadId,
          PartNumber: number,
          Body: body,
        }),
      ),
    ).then((answer) => {
      this.etags[number - 1] = answer.ETag;
      this.spares.push(buffer);
    });
    this.inFlight.add(sending);
    // Awaited by a later part or the end; until then a failure must not go unhandled.
    sending.then(
      () => this.inFlight.delete(sending),
      () => {},
    );
  }

  /** Waits for every part on the way; the first failure rejects. */
  private async settle(): Promise<void> {
    await Promise.all(this.inFlight);
  }

  private async finish(): Promise<void> {
    if (this.uploadId === undefined) {
      const body = this.filling?.subarray(0, this.filled) ?? Buffer.alloc(0);
      await this.storage(this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key, Body: body })));
      return;
    }
    if (this.filled > 0) await this.sendPart();
    await this.settle();
    await this.storage(
      this.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.key,
          UploadId: this.uploadId,
          MultipartUpload: { Parts: this.etags.map((ETag, index) => ({ ETag, PartNumber: index + 1 })) },
        }),
      ),
    );
  }

  /** Remembers a storage failure as such, so `put` can tell it from the source's. */
  private async storage<T>(request: Promise<T>): Promise<T> {
    try {
      return await request;
    } catch (error) {
      this.failure = error;
      throw error;
    }
  }
}

/**
 * Reads a `multipart/form-data` request for every upload route (datalake pictures, Marcelle
 * models and assets): file parts stream into the blob store, hashed as they arrive, and are
 * made durable together, one blob batch per form; fields are collected. Every parser, request and part-stream error ends in one rejected promise
 * (a 400 with a sentence for a malformed or truncated body), never an unhandled `error`
 * event, and no part is left half-written: the form is read whole or refused whole (with
 * `perFileFailures`, a file the store refuses, too large say, is reported alone instead).
 * Stored files are recorded as uploaded (unless the caller holds them itself) and claimed a
 * batch at a time.
 *
 * @example
 * const form = await readMultipartForm(ctx, { store, blobs, actor, maxBlobBytes, noun: 'pictures' });
 * form.files; // [{ field: 'file', filename: 'a.png', sha256: '…', size: 1234 }]
 */
import { PassThrough, type Readable } from 'node:stream';
import { LarderError } from '@larder/protocol';
import busboy from 'busboy';
import type { Context } from 'koa';
import type { Actor } from '../auth/actor.js';
import { recordBlobClaims } from '../auth/blob-access.js';
import type { BlobBatch, BlobInfo, BlobStore } from '../blobs/blob-store.js';
import { startBlobBatch } from '../blobs/blob-store-batch.js';
import { collectedWhileUploading, confirmUploads, lastDeletion } from '../blobs/lifecycle/blob-uploads.js';
import type { DocumentStore } from '../stores/document-store.js';

export interface FormFile {
  /** The form field's name. */
  field: string;
  /** The file name the client gave (the field name when it gave none). */
  filename: string;
  sha256: string;
  size: number;
  /** The file's first bytes, when `headBytes` asked for them. */
  head?: Buffer;
  /** The part's position among the form's kept file parts. */
  index: number;
}

/** A file part the store refused, with `perFileFailures`. */
export interface FailedFormFile {
  field: string;
  filename: string;
  index: number;
  error: LarderError;
}

export interface MultipartForm {
  /** The kept file parts, in the order they came. */
  files: FormFile[];
  /** With `perFileFailures`: the parts that were not stored, and why. */
  failed: FailedFormFile[];
  /** Text fields by name, repeated fields in order. */
  fields: Map<string, string[]>;
  /**
   * With `recordUploads: false`: the last blob deletion's token, read before any file was
   * stored, for `lostAmong` once the caller has recorded what holds the files.
   */
  deletionBefore?: string;
}

export interface ReadFormOptions {
  store: DocumentStore;
  blobs: BlobStore;
  /** Who uploads: each stored file is recorded as their upload (a claim on its bytes). */
  actor: Actor;
  maxBlobBytes: number;
  /** What the files are, for messages ("pictures", "files"). */
  noun: string;
  /** Whether a file part with this field name is kept; others are drained. Default: all. */
  accepts?: (field: string) => boolean;
  /**
   * A file the store refuses (too large) is reported in `failed` and the others are kept,
   * instead of refusing the whole form. A malformed body still refuses the whole form.
   */
  perFileFailures?: boolean;
  /** Keeps the first this many bytes of each file in `head` (to read a picture's size). */
  headBytes?: number;
  /**
   * Whether each stored file is recorded as uploaded (default true), which keeps it from
   * collection through the grace period. `false`: the caller holds the files itself before
   * it trusts them (a reference, then `lostAmong`) and records the upload of any it does not
   * keep (`confirmUploads`), as the datalake's ingest does: a file that becomes an asset in
   * the same request then costs no upload row.
   */
  recordUploads?: boolean;
}

export const MAX_FORM_FILES = 1000;
export const MAX_FORM_FIELDS = 1000;
export const MAX_FORM_FIELD_BYTES = 64 * 1024;

interface Pending {
  field: string;
  filename: string;
  body: PassThrough;
  stored: Promise<BlobInfo>;
  head: Buffer[];
}

function malformed(cause: unknown): LarderError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new LarderError('BadRequest', `The multipart body is malformed: ${detail}; send a complete form`, { cause });
}

/** Parses the request's form into `pending` and `fields`; settles once, on the first failure or at the end. */
function parseForm(
  ctx: Context,
  options: ReadFormOptions,
  batch: BlobBatch,
  pending: Pending[],
  fields: Map<string, string[]>,
): Promise<void> {
  const request = ctx.req;
  return new Promise((resolve, reject) => {
    let settled = false;
    let parser: busboy.Busboy | undefined;
    const fail = (error: LarderError) => {
      if (settled) return;
      settled = true;
      if (parser) request.unpipe(parser);
      // Stops the blob store's writes still in flight; their temporary data is removed.
      for (const part of pending) part.body.destroy(error);
      reject(error);
    };
    try {
      parser = busboy({
        headers: request.headers,
        limits: { files: MAX_FORM_FILES, fields: MAX_FORM_FIELDS, fieldSize: MAX_FORM_FIELD_BYTES },
      });
    } catch (cause) {
      reject(
        new LarderError('BadRequest', `Send the ${options.noun} as multipart/form-data with a boundary`, { cause }),
      );
      return;
    }
    parser.on('file', (field: string, stream: Readable, info: busboy.FileInfo) => {
      stream.on('error', (cause: unknown) => fail(malformed(cause)));
      if (settled || !(options.accepts?.(field) ?? true)) {
        stream.resume();
        return;
      }
      // Through a pass-through, so that a refusal (too large) stops the store while the
      // parser keeps draining the request to its end and the client gets its answer.
      const body = new PassThrough();
      // The store's promise reports a destroyed body; this keeps the error from being
      // unhandled while the store has not started reading yet.
      body.on('error', () => {});
      stream.on('error', (cause: unknown) => body.destroy(malformed(cause)));
      const head: Buffer[] = [];
      const headBytes = options.headBytes ?? 0;
      if (headBytes > 0) {
        let kept = 0;
        const keep = (chunk: Buffer) => {
          head.push(chunk.subarray(0, headBytes - kept));
          kept += chunk.length;
          if (kept >= headBytes) stream.off('data', keep);
        };
        stream.on('data', keep);
      }
      stream.pipe(body);
      const stored = batch.add(body, { maxBytes: options.maxBlobBytes });
      stored.catch(() => {
        stream.unpipe(body);
        stream.resume();
      });
      pending.push({ field, filename: info.filename ?? field, body, stored, head });
    });
    parser.on('field', (name: string, value: string, info: busboy.FieldInfo) => {
      if (info.valueTruncated) {
        fail(
          new LarderError('PayloadTooLarge', `Form field "${name.slice(0, 80)}" is over ${MAX_FORM_FIELD_BYTES} bytes`),
        );
        return;
      }
      fields.set(name, [...(fields.get(name) ?? []), value]);
    });
    parser.on('filesLimit', () =>
      fail(new LarderError('PayloadTooLarge', `At most ${MAX_FORM_FILES} files per upload; send the rest in another`)),
    );
    parser.on('fieldsLimit', () =>
      fail(new LarderError('PayloadTooLarge', `At most ${MAX_FORM_FIELDS} form fields per upload`)),
    );
    parser.on('error', (cause: unknown) => fail(malformed(cause)));
    parser.on('close', () => {
      if (settled) return;
      settled = true;
      resolve();
    });
    request.on('error', (cause: unknown) => fail(malformed(cause)));
    request.on('aborted', () => fail(new LarderError('BadRequest', 'The upload was interrupted')));
    request.pipe(parser);
  });
}

/**
 * Reads the whole form: answers its kept files once every one is stored, recorded as
 * uploaded and claimed by the uploader, or throws a LarderError (the request is then
 * drained and the connection closed after the answer).
 */
export async function readMultipartForm(ctx: Context, options: ReadFormOptions): Promise<MultipartForm> {
  if (!ctx.is('multipart/form-data')) {
    throw new LarderError('BadRequest', `Send the ${options.noun} as multipart/form-data`);
  }
  const pending: Pending[] = [];
  const fields = new Map<string, string[]>();
  const deletionBefore = options.recordUploads === false ? await lastDeletion(options.store) : undefined;
  // The files are staged as they arrive and made durable together once the form is whole.
  const batch = startBlobBatch(options.blobs);
  let outcomes: PromiseSettledResult<BlobInfo>[];
  try {
    let parsed: unknown;
    try {
      await parseForm(ctx, options, batch, pending, fields);
    } catch (error) {
      parsed = error;
    }
    // Every write settles (staged, or refused and cleaned up) before the answer.
    const results = await Promise.allSettled(pending.map((part) => part.stored));
    try {
      if (parsed !== undefined) throw parsed;
      const refused = results.find((result) => result.status === 'rejected');
      if (refused && !options.perFileFailures) throw (refused as PromiseRejectedResult).reason;
      results.forEach((result) => {
        if (result.status === 'rejected' && !(result.reason instanceof LarderError)) throw result.reason;
      });
    } catch (error) {
      await batch.abort();
      throw error;
    }
    await batch.commit();
    outcomes = results;
  } catch (error) {
    ctx.set('Connection', 'close');
    ctx.req.resume();
    throw error;
  }
  const stored = outcomes.flatMap((result) => (result.status === 'fulfilled' ? [result.value.sha256] : []));
  // Recorded as uploaded and claimed a batch at a time: a form may hold a thousand files.
  const lost =
    options.recordUploads === false ? new Set<string>() : await confirmUploads(options.store, options.blobs, stored);
  if (lost.size > 0 && !options.perFileFailures) throw collectedWhileUploading();
  await recordBlobClaims(
    options.store,
    options.actor,
    stored.filter((sha256) => !lost.has(sha256)),
  );
  const files: FormFile[] = [];
  const failed: FailedFormFile[] = [];
  for (const [index, part] of pending.entries()) {
    const outcome = outcomes[index] as PromiseSettledResult<BlobInfo>;
    const { field, filename } = part;
    if (outcome.status === 'rejected') failed.push({ field, filename, index, error: outcome.reason as LarderError });
    else if (lost.has(outcome.value.sha256)) failed.push({ field, filename, index, error: collectedWhileUploading() });
    else {
      const { sha256, size } = outcome.value;
      const head = part.head.length > 0 ? { head: Buffer.concat(part.head) } : {};
      files.push({ field, filename, sha256, size, index, ...head });
    }
  }
  return { files, failed, fields, ...(deletionBefore === undefined ? {} : { deletionBefore }) };
}

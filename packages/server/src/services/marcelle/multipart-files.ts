/**
 * Marcelle's upload routes receive multipart forms whose *field names* are file names
 * (`model.json`, `group1-shard1of1.bin`, `photo.png`). This streams the kept parts into the
 * blob store (each part is hashed as it arrives), drains the others, records the upload and
 * the uploader's claim on each blob, and answers what was stored.
 */
import { PassThrough, type Readable } from 'node:stream';
import { LarderError } from '@larder/protocol';
import busboy from 'busboy';
import type { Context } from 'koa';
import type { Actor } from '../../auth/actor.js';
import { recordBlobClaim } from '../../auth/blob-access.js';
import type { BlobStore } from '../../blobs/blob-store.js';
import { confirmUpload } from '../../blobs/lifecycle/blob-uploads.js';
import type { DocumentStore } from '../../stores/document-store.js';

export interface StoredPart {
  /** The form field's name (Marcelle's stored file name). */
  field: string;
  /** The file name the client gave (`originalname`). */
  filename: string;
  sha256: string;
  size: number;
}

export interface ReceiveOptions {
  store: DocumentStore;
  blobs: BlobStore;
  actor: Actor;
  maxBlobBytes: number;
  /** Whether a file part with this field name is kept. */
  accepts: (field: string) => boolean;
}

const MAX_FILES = 1000;

/** Parses the request's form; answers the kept parts in the order they came. */
export async function receiveFileParts(ctx: Context, options: ReceiveOptions): Promise<StoredPart[]> {
  if (!ctx.is('multipart/form-data')) throw new LarderError('BadRequest', 'Send the files as multipart/form-data');
  const pending: { field: string; filename: string; stored: Promise<{ sha256: string; size: number }> }[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let parser: busboy.Busboy;
      try {
        parser = busboy({ headers: ctx.req.headers, limits: { files: MAX_FILES, fields: 1000 } });
      } catch (cause) {
        reject(new LarderError('BadRequest', 'Send the files as multipart/form-data', { cause }));
        return;
      }
      parser.on('file', (field: string, stream: Readable, info: busboy.FileInfo) => {
        if (!options.accepts(field)) {
          stream.resume();
          return;
        }
        // Through a pass-through, so that a refusal (too large) stops the store while the
        // parser keeps draining the request and the client still gets its answer.
        const body = new PassThrough();
        stream.pipe(body);
        const stored = options.blobs.put(body, { maxBytes: options.maxBlobBytes });
        stored.catch(() => {
          stream.unpipe(body);
          stream.resume();
        });
        pending.push({ field, filename: info.filename ?? field, stored });
      });
      parser.on('filesLimit', () =>
        reject(new LarderError('PayloadTooLarge', `At most ${MAX_FILES} files per upload; send the rest in another`)),
      );
      parser.on('error', (cause: unknown) =>
        reject(new LarderError('BadRequest', `The multipart body is malformed: ${(cause as Error).message}`)),
      );
      parser.on('close', () => resolve());
      ctx.req.pipe(parser);
    });
  } catch (error) {
    ctx.set('Connection', 'close');
    ctx.req.resume();
    throw error;
  }
  const parts: StoredPart[] = [];
  for (const part of pending) {
    const { sha256, size } = await part.stored;
    await confirmUpload(options.store, options.blobs, sha256);
    await recordBlobClaim(options.store, options.actor, sha256);
    parts.push({ field: part.field, filename: part.filename, sha256, size });
  }
  return parts;
}

/**
 * Streams a request body into the blob store, hashed by the server as it flows, through a
 * pass-through: a refusal (too large, wrong hash) stops the store without destroying the
 * request's socket, so the client still reads its 4xx; a client that goes away mid-upload
 * aborts the store's write. Every route that takes a raw body as a blob uses this.
 */
import { PassThrough } from 'node:stream';
import { LarderError } from '@larder/protocol';
import type { Context } from 'koa';
import type { BlobStore, PutOptions, PutResult } from '../blobs/blob-store.js';

export async function receiveBlob(ctx: Context, blobs: BlobStore, putOptions: PutOptions): Promise<PutResult> {
  const request = ctx.req;
  const body = new PassThrough();
  // The store's promise reports a destroyed body; until the store reads it (the file or
  // the S3 upload may still be opening), this keeps that error from going unhandled.
  body.on('error', () => {});
  const onClose = () => {
    if (!request.complete) body.destroy(new LarderError('BadRequest', 'The upload was interrupted'));
  };
  request.once('close', onClose);
  request.pipe(body);
  try {
    return await blobs.put(body, putOptions);
  } catch (error) {
    request.unpipe(body);
    if (!request.complete) {
      ctx.set('Connection', 'close');
      request.resume();
    }
    throw error;
  } finally {
    request.off('close', onClose);
  }
}

/**
 * Streams a request body into the blob store, hashed by the server as it flows, through a
 * pass-through: a refusal (too large, wrong hash) stops the store without destroying the
 * request's socket, so the client still reads its 4xx; a client that goes away mid-upload
 * aborts the store's write. Every route that takes a raw body as a blob uses this, or
 * `receiveBody` when it checks the bytes on their way (a stock pack).
 */
import { PassThrough, type Readable, Transform } from 'node:stream';
import { LarderError } from '@larder/protocol';
import type { Context } from 'koa';
import type { BlobStore, PutOptions, PutResult } from '../blobs/blob-store.js';

export function receiveBlob(ctx: Context, blobs: BlobStore, putOptions: PutOptions): Promise<PutResult> {
  return receiveBody(ctx, (body) => blobs.put(body, putOptions));
}

/**
 * Hands `consume` the request body and answers what it answers. `inspect`, when given, sees
 * each chunk before `consume` does; what it throws fails the body, and so `consume`'s write.
 */
export async function receiveBody<T>(
  ctx: Context,
  consume: (body: Readable) => Promise<T>,
  inspect?: (chunk: Buffer) => void,
): Promise<T> {
  const request = ctx.req;
  const body = inspect
    ? new Transform({
        transform(chunk: Buffer, _encoding, done) {
          try {
            inspect(chunk);
            done(null, chunk);
          } catch (error) {
            done(error as Error);
          }
        },
      })
    : new PassThrough();
  // The store's promise reports a destroyed body; until the store reads it (the file or
  // the S3 upload may still be opening), this keeps that error from going unhandled.
  body.on('error', () => {});
  const onClose = () => {
    if (!request.complete) body.destroy(new LarderError('BadRequest', 'The upload was interrupted'));
  };
  request.once('close', onClose);
  request.pipe(body);
  try {
    return await consume(body);
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

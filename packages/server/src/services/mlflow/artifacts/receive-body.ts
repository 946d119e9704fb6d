/**
 * Streams a request body into the blob store, hashed by the server as it flows. Fed through a
 * pass-through, so a refusal (too large) stops the store without destroying the socket and
 * the client still reads its error; a client that goes away mid-upload aborts the write.
 */
import { PassThrough } from 'node:stream';
import { LarderError } from '@larder/protocol';
import type { Context } from 'koa';
import type { BlobStore, PutResult } from '../../../blobs/blob-store.js';

export async function receiveBody(ctx: Context, blobs: BlobStore, maxBytes: number): Promise<PutResult> {
  const declared = Number(ctx.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    ctx.set('Connection', 'close');
    throw new LarderError('PayloadTooLarge', `Artifacts are limited to ${maxBytes} bytes on this server`);
  }
  const request = ctx.req;
  const body = new PassThrough();
  const onClose = () => {
    if (!request.complete) body.destroy(new LarderError('BadRequest', 'The upload was interrupted'));
  };
  request.once('close', onClose);
  request.pipe(body);
  try {
    return await blobs.put(body, { maxBytes });
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

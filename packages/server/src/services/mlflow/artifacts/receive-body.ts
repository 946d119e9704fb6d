/**
 * An artifact's request body into the blob store (`http/receive-blob.ts`), refused at once
 * when its declared length is over the limit.
 */
import { LarderError } from '@larder/protocol';
import type { Context } from 'koa';
import type { BlobStore, PutResult } from '../../../blobs/blob-store.js';
import { receiveBlob } from '../../../http/receive-blob.js';

export async function receiveBody(ctx: Context, blobs: BlobStore, maxBytes: number): Promise<PutResult> {
  const declared = Number(ctx.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    ctx.set('Connection', 'close');
    throw new LarderError('PayloadTooLarge', `Artifacts are limited to ${maxBytes} bytes on this server`);
  }
  return receiveBlob(ctx, blobs, { maxBytes });
}

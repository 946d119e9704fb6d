/**
 * `GET|HEAD /run-images/<id>/file`: the bytes of a run's image, to whoever may read the run
 * (not by blob claims: a reader of a shared run sees its images without having uploaded
 * them). The type is read from the bytes (PNG, JPEG, GIF or WebP; anything else is served
 * as `application/octet-stream`), never taken from the writer; `?width=N` answers a smaller
 * copy (see `run-image-sizes.ts`). Answers are cached for good: a record's image never changes.
 */
import { eq, LarderError } from '@larder/protocol';
import type { Context, Next } from 'koa';
import type { Actor } from '../../auth/actor.js';
import type { BlobStore } from '../../blobs/blob-store.js';
import { decodePathSegment } from '../../http/path-segment.js';
import { sendBlob } from '../../http/send-blob.js';
import type { DocumentStore } from '../../stores/document-store.js';
import { RunAccess } from './run-access.js';
import { requestedWidth, scaledImage } from './run-image-sizes.js';
import { RUN_IMAGES_COLLECTION } from './run-media-service.js';

const IMAGE_FILE = /^\/run-images\/([^/]+)\/file$/;

async function sniffedType(blobs: BlobStore, sha256: string, size: number): Promise<string> {
  if (size < 12) return 'application/octet-stream';
  const parts: Buffer[] = [];
  for await (const chunk of await blobs.get(sha256, { start: 0, end: 11 })) parts.push(chunk as Buffer);
  const head = Buffer.concat(parts);
  if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'image/jpeg';
  if (head.subarray(0, 4).toString('latin1') === 'GIF8') return 'image/gif';
  if (head.subarray(0, 4).toString('latin1') === 'RIFF' && head.subarray(8, 12).toString('latin1') === 'WEBP') {
    return 'image/webp';
  }
  return 'application/octet-stream';
}

export function runImageFileRoute(options: {
  store: DocumentStore;
  blobs: BlobStore;
  actorFor: (ctx: Context) => Promise<Actor>;
}) {
  const { store, blobs, actorFor } = options;
  const runs = new RunAccess(store);
  return async (ctx: Context, next: Next): Promise<void> => {
    const match = IMAGE_FILE.exec(ctx.path);
    if (!match || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    const actor = await actorFor(ctx);
    const id = decodePathSegment(match[1] as string);
    const missing = new LarderError('NotFound', `No run image ${id.slice(0, 128)} that you may see`);
    const [record] = await store.find(RUN_IMAGES_COLLECTION, { filter: eq(['_id'], id), limit: 1 });
    if (!record) throw missing;
    await runs.readable(actor, record.run).catch(() => {
      throw missing;
    });
    const { sha256 } = (record.image ?? {}) as { sha256?: unknown };
    const info = typeof sha256 === 'string' ? await blobs.stat(sha256) : undefined;
    if (!info) throw missing;
    const width = requestedWidth(ctx.query.width);
    const scaled = width === undefined ? undefined : await scaledImage(blobs, info, width);
    if (scaled) {
      const etag = `"${info.sha256}-w${width}"`;
      ctx.set('ETag', etag);
      ctx.set('Cache-Control', 'private, max-age=31536000, immutable');
      ctx.set('Content-Security-Policy', "default-src 'none'; sandbox");
      ctx.set('X-Content-Type-Options', 'nosniff');
      if (ctx.get('if-none-match') === etag) {
        ctx.status = 304;
        return;
      }
      ctx.status = 200;
      ctx.type = 'image/webp';
      ctx.length = scaled.length;
      ctx.body = ctx.method === 'GET' ? scaled : '';
      return;
    }
    const contentType = await sniffedType(blobs, info.sha256, info.size);
    await sendBlob(ctx, blobs, info, { bodyWanted: ctx.method === 'GET', contentType });
  };
}

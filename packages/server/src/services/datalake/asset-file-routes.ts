/**
 * The bytes of an asset, for whoever may read the asset (not only its uploader):
 * `GET|HEAD /assets/<id>/file` (with `Range`, the asset's type and file name) and
 * `GET /assets/<id>/thumbnail` (WebP, made on the first view: `picture-thumbnails.ts`). With `?version=<versionId>`, a reader of that dataset
 * version may fetch the pictures it holds, whoever owns them.
 */
import { and, eq, isValidRecordId, LarderError } from '@larder/protocol';
import type { Context, Next } from 'koa';
import type { FeatureContext } from '../../app/feature.js';
import { ownershipPolicy } from '../../auth/access-policy.js';
import type { Actor } from '../../auth/actor.js';
import { isSha256 } from '../../blobs/blob-store.js';
import { decodePathSegment } from '../../http/path-segment.js';
import { sendBlob } from '../../http/send-blob.js';
import type { StoredDocument } from '../../stores/document-store.js';
import { ASSETS, MEMBERS, memberId } from './datalake-collections.js';
import { PictureThumbnails } from './picture-thumbnails.js';
import { VersionAccess } from './version-access.js';

const PATH = /^\/assets\/([^/]+)\/(file|thumbnail)\/?$/;

export function assetFileRoute(context: FeatureContext) {
  const { store, blobs } = context;
  const versions = new VersionAccess(store);
  const thumbnails = new PictureThumbnails(store, blobs);

  async function readableAsset(actor: Actor, id: string, versionId: unknown): Promise<StoredDocument> {
    const notFound = new LarderError('NotFound', `No asset '${id}' that you may read`);
    if (!isValidRecordId(id)) throw notFound;
    let filter = and(eq(['_id'], id), ownershipPolicy.readFilter(actor));
    if (typeof versionId === 'string' && versionId !== '') {
      const version = await versions.readable(actor, versionId);
      const member = await store.count(MEMBERS, eq(['_id'], memberId(version._id, id)));
      if (member > 0) filter = eq(['_id'], id);
    }
    const [asset] = await store.find(ASSETS, { filter, limit: 1 });
    if (!asset) throw notFound;
    return asset;
  }

  return async (ctx: Context, next: Next): Promise<void> => {
    const match = PATH.exec(ctx.path);
    if (!match) return next();
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('Allow', 'GET, HEAD');
      throw new LarderError('MethodNotAllowed', `${ctx.method} is not supported on ${ctx.path}`);
    }
    const actor = await context.actorFor(ctx);
    const id = decodePathSegment(match[1] as string);
    const asset = await readableAsset(actor, id, ctx.query.version);
    const wanted = match[2] === 'file' ? asset.sha256 : (await thumbnails.of(asset))?.sha256;
    if (!isSha256(wanted)) {
      throw new LarderError(
        'NotFound',
        match[2] === 'file' ? `Asset '${id}' holds no file` : `Asset '${id}' has no thumbnail`,
      );
    }
    const info = await blobs.stat(wanted);
    if (!info) throw new LarderError('NotFound', `The file of asset '${id}' is missing from storage`);
    ctx.set('X-Content-SHA256', wanted);
    const file = match[2] === 'file';
    await sendBlob(ctx, blobs, info, {
      bodyWanted: ctx.method === 'GET',
      ...(file ? { filename: String(asset.filename ?? id) } : {}),
      contentType: file ? String(asset.mime ?? 'application/octet-stream') : 'image/webp',
    });
  };
}

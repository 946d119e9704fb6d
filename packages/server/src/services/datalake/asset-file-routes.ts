/**
 * The bytes of an asset, for whoever may read the asset (not only its uploader):
 * `GET|HEAD /assets/<id>/file` (with `Range`, the asset's type and file name) and
 * `GET /assets/<id>/thumbnail` (WebP). With `?version=<versionId>`, a reader of that dataset
 * version may fetch the pictures it holds, whoever owns them.
 */
import { and, eq, isValidRecordId, LarderError } from '@larder/protocol';
import type { Context, Next } from 'koa';
import type { FeatureContext } from '../../app/feature.js';
import { ownershipPolicy } from '../../auth/access-policy.js';
import type { Actor } from '../../auth/actor.js';
import { isSha256 } from '../../blobs/blob-store.js';
import { parseByteRange } from '../../http/byte-range.js';
import type { StoredDocument } from '../../stores/document-store.js';
import { ASSETS, MEMBERS, memberId } from './datalake-collections.js';
import { VersionAccess } from './version-access.js';

const PATH = /^\/assets\/([^/]+)\/(file|thumbnail)\/?$/;

export function assetFileRoute(context: FeatureContext) {
  const { store, blobs } = context;
  const versions = new VersionAccess(store);

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
    const id = decodeURIComponent(match[1] as string);
    const asset = await readableAsset(actor, id, ctx.query.version);
    const wanted = match[2] === 'file' ? asset.sha256 : (asset.thumbnail as { sha256?: unknown } | undefined)?.sha256;
    if (!isSha256(wanted)) {
      throw new LarderError(
        'NotFound',
        match[2] === 'file' ? `Asset '${id}' holds no file` : `Asset '${id}' has no thumbnail`,
      );
    }
    const info = await blobs.stat(wanted);
    if (!info) throw new LarderError('NotFound', `The file of asset '${id}' is missing from storage`);
    const etag = `"${wanted}"`;
    ctx.set('ETag', etag);
    ctx.set('Accept-Ranges', 'bytes');
    ctx.set('Cache-Control', 'private, max-age=31536000, immutable');
    ctx.set('X-Content-SHA256', wanted);
    // Uploaded content (an SVG, say) must never run as a page of this origin.
    ctx.set('Content-Security-Policy', "default-src 'none'; sandbox");
    ctx.set('X-Content-Type-Options', 'nosniff');
    if (ctx.get('if-none-match') === etag) {
      ctx.status = 304;
      return;
    }
    const answer = parseByteRange(ctx.get('range') || undefined, info.size);
    if (answer.kind === 'unsatisfiable') {
      ctx.set('Content-Range', `bytes */${info.size}`);
      ctx.status = 416;
      ctx.body = {
        name: 'RangeNotSatisfiable',
        message: `The range is outside the file's ${info.size} bytes`,
        code: 416,
        className: 'range-not-satisfiable',
      };
      return;
    }
    const range = answer.kind === 'range' ? answer.range : undefined;
    ctx.body = ctx.method === 'GET' ? await blobs.get(wanted, range) : '';
    ctx.status = range ? 206 : 200;
    if (range) ctx.set('Content-Range', `bytes ${range.start}-${range.end}/${info.size}`);
    ctx.length = range ? range.end - range.start + 1 : info.size;
    ctx.type = match[2] === 'file' ? String(asset.mime ?? 'application/octet-stream') : 'image/webp';
    if (match[2] === 'file') {
      ctx.set('Content-Disposition', `inline; filename*=UTF-8''${encodeURIComponent(String(asset.filename ?? id))}`);
    }
  };
}

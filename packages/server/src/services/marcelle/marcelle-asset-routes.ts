/**
 * Marcelle's asset file routes:
 * - `POST /assets/upload`: a multipart form whose fields are file names; parts whose field
 *   extension is whitelisted are stored, others dropped. Answers 200
 *   `{ "<original filename>": "<sha256>/<field>" }` (the url Marcelle's clients then save in
 *   an asset document), or 400 `{ error }` when no part was kept. The datalake's own form
 *   (fields named `file`) is answered by the datalake route, which passes Marcelle's on.
 * - `GET|HEAD /assets/<sha256>/<filename>`: the bytes, to whoever may read an asset document
 *   whose `url` is that path (anyone, when the document is public), and to their uploader.
 */
import { and, eq, LarderError } from '@larder/protocol';
import type { Context, Next } from 'koa';
import type { FeatureContext } from '../../app/feature.js';
import { canReadBlob } from '../../auth/blob-access.js';
import { readMultipartForm } from '../../http/multipart-form.js';
import { decodePathSegment } from '../../http/path-segment.js';
import { sendBlob } from '../../http/send-blob.js';
import { ASSETS } from '../datalake/datalake-collections.js';
import { extensionOf, isAllowedAsset, type MarcelleSettings } from './marcelle-settings.js';
import { downloadCaller, downloadReadFilter } from './route-caller.js';

const UPLOAD = /^\/assets\/upload\/?$/;
const DOWNLOAD = /^\/assets\/([0-9a-f]{64})\/([^/]+)$/;

const MEDIA_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
  webm: 'video/webm',
  mp4: 'video/mp4',
  json: 'application/json',
  txt: 'text/plain',
};

export function marcelleAssetRoutes(context: FeatureContext, settings: MarcelleSettings) {
  async function receive(ctx: Context): Promise<void> {
    const actor = await context.actorFor(ctx);
    const { files: parts } = await readMultipartForm(ctx, {
      store: context.store,
      blobs: context.blobs,
      actor,
      maxBlobBytes: context.maxBlobBytes,
      noun: 'files',
      accepts: (field) => isAllowedAsset(field, settings),
    });
    ctx.status = parts.length === 0 ? 400 : 200;
    if (parts.length === 0) {
      const accepted = settings.assetExtensions === '*' ? 'any' : settings.assetExtensions.join(', ');
      ctx.body = { error: `The request does not contain any valid file (accepted extensions: ${accepted})` };
      return;
    }
    ctx.body = Object.fromEntries(parts.map((part) => [part.filename, `${part.sha256}/${part.field}`]));
  }

  async function send(ctx: Context, sha256: string, filename: string): Promise<void> {
    const actor = await downloadCaller(ctx, context);
    const url = `${sha256}/${filename}`;
    const [asset] = await context.store.find(ASSETS, {
      filter: and(eq(['url'], url), downloadReadFilter(actor)),
      limit: 1,
    });
    const readable = asset !== undefined || (await canReadBlob(context.store, actor, sha256));
    const info = readable ? await context.blobs.stat(sha256) : undefined;
    if (!info) throw new LarderError('NotFound', 'file does not exist');
    // Uploaded content must never run as a page of this origin.
    ctx.set('Content-Security-Policy', "default-src 'none'; sandbox");
    ctx.set('X-Content-Type-Options', 'nosniff');
    const mime = typeof asset?.mime === 'string' ? asset.mime : MEDIA_TYPES[extensionOf(filename) ?? ''];
    await sendBlob(ctx, context.blobs, info, {
      bodyWanted: ctx.method === 'GET',
      contentType: mime ?? 'application/octet-stream',
    });
  }

  return async (ctx: Context, next: Next): Promise<void> => {
    if (UPLOAD.test(ctx.path) && ctx.method === 'POST') return receive(ctx);
    const match = DOWNLOAD.exec(ctx.path);
    if (!match || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    return send(ctx, match[1] as string, decodePathSegment(match[2] as string));
  };
}

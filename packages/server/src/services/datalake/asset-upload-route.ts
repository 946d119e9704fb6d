/**
 * `POST /assets/upload`: pictures as a multipart form (browsers, curl), streamed into the
 * blob store and made assets in one request. Fields `tags` (repeated, or comma-separated),
 * `source` and `public` apply to every file of the request; they may come before or after
 * the files.
 *
 * @example
 * curl -F tags=cat -F tags=outdoor -F file=@a.jpg -F file=@b.png \
 *      -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3030/assets/upload
 * → 201 { "data": [ { "_id": "p…", "filename": "a.jpg", "width": 640, … }, … ] }
 *
 * Marcelle's clients post to the same address with each file under a field named after the
 * file (`-F photo.png=@photo.png`). A form whose first part is a file under any field other
 * than `file` is theirs: it is passed on untouched to Marcelle's route (services/marcelle).
 */
import type { Readable } from 'node:stream';
import { LarderError } from '@larder/protocol';
import type { Context, Next } from 'koa';
import type { FeatureContext } from '../../app/feature.js';
import type { Actor } from '../../auth/actor.js';
import { type MultipartForm, readMultipartForm } from '../../http/multipart-form.js';
import type { StoredDocument } from '../../stores/document-store.js';

const PATH = /^\/assets\/upload\/?$/;
/** Enough bytes to hold the first part's headers. */
const PEEK_LIMIT = 64 * 1024;
const FIRST_PART = /content-disposition:[^\r\n]*?\bname="([^"]*)"[^\r\n]*?\bfilename="/i;

/**
 * The field name of the form's first part when that part is a file, read from the first
 * bytes of the body, which are then put back for the parser.
 */
function firstFileField(request: Readable): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const headersEnd = (buffer: Buffer) => buffer.indexOf('\r\n\r\n');
    const done = (buffer: Buffer) => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', reject);
      request.pause();
      request.unshift(buffer);
      const end = headersEnd(buffer);
      resolve(FIRST_PART.exec(buffer.subarray(0, end < 0 ? buffer.length : end).toString('latin1'))?.[1]);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      const buffer = Buffer.concat(chunks);
      if (size >= PEEK_LIMIT || headersEnd(buffer) >= 0) done(buffer);
    };
    const onEnd = () => reject(new LarderError('BadRequest', 'The multipart body is malformed: it holds no part'));
    request.on('data', onData);
    request.once('end', onEnd);
    request.once('error', reject);
  });
}

export function assetUploadRoute(context: FeatureContext) {
  const { store, blobs } = context;

  async function createAssets(actor: Actor, form: MultipartForm) {
    const tags = (form.fields.get('tags') ?? []).flatMap((value) => value.split(','));
    const source = form.fields.get('source')?.[0] ?? 'upload';
    const isPublic = form.fields.get('public')?.[0] === 'true';
    const params = { provider: 'rest', ...(actor.kind === 'user' ? { user: actor.user } : {}) };
    const assets: StoredDocument[] = [];
    for (const file of form.files) {
      const data = {
        sha256: file.sha256,
        filename: file.filename,
        tags,
        source,
        ...(isPublic ? { public: true } : {}),
      };
      assets.push((await context.app.service('assets').create(data, params)) as StoredDocument);
    }
    return assets;
  }

  return async (ctx: Context, next: Next): Promise<void> => {
    if (!PATH.test(ctx.path)) return next();
    if (ctx.method !== 'POST') {
      ctx.set('Allow', 'POST');
      throw new LarderError('MethodNotAllowed', `${ctx.method} is not supported on ${ctx.path}`);
    }
    const actor = await context.actorFor(ctx);
    if (!ctx.is('multipart/form-data')) throw new LarderError('BadRequest', 'Send the pictures as multipart/form-data');
    const field = await firstFileField(ctx.req);
    if (field !== undefined && field !== 'file') return next();
    const form = await readMultipartForm(ctx, {
      store,
      blobs,
      actor,
      maxBlobBytes: context.maxBlobBytes,
      noun: 'pictures',
    });
    if (form.files.length === 0) throw new LarderError('BadRequest', 'The form holds no file');
    ctx.status = 201;
    ctx.body = { data: await createAssets(actor, form) };
  };
}

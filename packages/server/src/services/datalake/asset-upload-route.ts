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
import { PassThrough, type Readable } from 'node:stream';
import { LarderError } from '@larder/protocol';
import busboy from 'busboy';
import type { Context, Next } from 'koa';
import type { FeatureContext } from '../../app/feature.js';
import type { Actor } from '../../auth/actor.js';
import { recordBlobClaim } from '../../auth/blob-access.js';
import { confirmUpload } from '../../blobs/lifecycle/blob-uploads.js';
import type { StoredDocument } from '../../stores/document-store.js';

const PATH = /^\/assets\/upload\/?$/;
const MAX_FILES = 1000;
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

interface Received {
  filename: string;
  stored: Promise<{ sha256: string; size: number }>;
}

export function assetUploadRoute(context: FeatureContext) {
  const { store, blobs } = context;

  function receive(ctx: Context): Promise<{ files: Received[]; fields: Map<string, string[]> }> {
    return new Promise((resolve, reject) => {
      let parser: busboy.Busboy;
      try {
        parser = busboy({
          headers: ctx.req.headers,
          limits: { files: MAX_FILES, fields: 1000, fieldSize: 64 * 1024 },
        });
      } catch (cause) {
        reject(new LarderError('BadRequest', 'Send the pictures as multipart/form-data', { cause }));
        return;
      }
      const files: Received[] = [];
      const fields = new Map<string, string[]>();
      parser.on('file', (_name: string, stream: Readable, info: busboy.FileInfo) => {
        // Through a pass-through, so that a refusal (too large) stops the store while the
        // parser keeps draining the request to its end and the client gets its answer.
        const body = new PassThrough();
        stream.pipe(body);
        const stored = blobs.put(body, { maxBytes: context.maxBlobBytes });
        stored.catch(() => {
          stream.unpipe(body);
          stream.resume();
        });
        files.push({ filename: info.filename ?? '', stored });
      });
      parser.on('field', (name: string, value: string) => {
        fields.set(name, [...(fields.get(name) ?? []), value]);
      });
      parser.on('filesLimit', () =>
        reject(new LarderError('PayloadTooLarge', `At most ${MAX_FILES} files per upload; send the rest in another`)),
      );
      parser.on('error', (cause: unknown) =>
        reject(new LarderError('BadRequest', `The multipart body is malformed: ${(cause as Error).message}`)),
      );
      parser.on('close', () => resolve({ files, fields }));
      ctx.req.pipe(parser);
    });
  }

  async function createAssets(actor: Actor, files: Received[], fields: Map<string, string[]>) {
    const tags = (fields.get('tags') ?? []).flatMap((value) => value.split(','));
    const source = fields.get('source')?.[0] ?? 'upload';
    const isPublic = fields.get('public')?.[0] === 'true';
    const stored = await Promise.all(files.map((file) => file.stored));
    const params = { provider: 'rest', ...(actor.kind === 'user' ? { user: actor.user } : {}) };
    const assets: StoredDocument[] = [];
    for (const [index, file] of files.entries()) {
      const blob = stored[index] as { sha256: string };
      await confirmUpload(store, blobs, blob.sha256);
      await recordBlobClaim(store, actor, blob.sha256);
      const data = {
        sha256: blob.sha256,
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
    let received: Awaited<ReturnType<typeof receive>>;
    try {
      received = await receive(ctx);
    } catch (error) {
      ctx.set('Connection', 'close');
      ctx.req.resume();
      throw error;
    }
    if (received.files.length === 0) throw new LarderError('BadRequest', 'The form holds no file');
    ctx.status = 201;
    ctx.body = { data: await createAssets(actor, received.files, received.fields) };
  };
}

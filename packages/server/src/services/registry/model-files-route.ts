/**
 * Downloads of registry files, permitted by the records that hold them rather than by blob
 * claims (a reader of a public model never uploaded its bytes):
 * - `GET|HEAD /model-files/<versionId>/<path>`: a file of a version's PMF tree;
 * - `GET|HEAD /model-named-files/<modelId>/<name>`: a named file of a model (`config`…).
 * Both honour `Range` and answer the blob's SHA-256 as the ETag. A record the caller cannot
 * read answers 404, like every other unreadable record.
 */
import { and, eq, LarderError } from '@larder/protocol';
import type { Context, Next } from 'koa';
import type { Actor } from '../../auth/actor.js';
import type { BlobStore } from '../../blobs/blob-store.js';
import { parseByteRange } from '../../http/byte-range.js';
import type { ModelFile } from './model-record.js';
import type { ModelVersionsService } from './model-versions-service.js';
import type { ModelsService } from './models-service.js';

export interface ModelFilesRouteOptions {
  blobs: BlobStore;
  models: ModelsService;
  versions: ModelVersionsService;
  actorFor: (ctx: Context) => Promise<Actor>;
}

const VERSION_FILE = /^\/model-files\/([^/]+)\/(.+)$/;
const NAMED_FILE = /^\/model-named-files\/([^/]+)\/([^/]+)$/;

export function modelFilesRoute(options: ModelFilesRouteOptions) {
  const { blobs, models, versions } = options;

  async function namedFile(modelId: string, name: string, actor: Actor): Promise<ModelFile> {
    const [model] = await models.store.find(models.collection, {
      filter: and(eq(['_id'], modelId), models.policy.readFilter(actor)),
      limit: 1,
    });
    if (!model) throw new LarderError('NotFound', `No model ${modelId} that you may read`);
    const file = (model.files as Record<string, ModelFile> | undefined)?.[name];
    if (!file || !Object.hasOwn(model.files as object, name)) {
      throw new LarderError('NotFound', `Model "${model.name}" has no file named "${name.slice(0, 80)}"`);
    }
    return file;
  }

  async function send(ctx: Context, sha256: string, filename: string): Promise<void> {
    const info = await blobs.stat(sha256);
    if (!info) throw new LarderError('NotFound', 'The file is recorded but its bytes are gone; push it again');
    const etag = `"${sha256}"`;
    ctx.set('ETag', etag);
    ctx.set('Accept-Ranges', 'bytes');
    ctx.set('Cache-Control', 'private, max-age=31536000, immutable');
    ctx.set('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(filename)}`);
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
    ctx.body = ctx.method === 'GET' ? await blobs.get(sha256, range) : '';
    if (range) {
      ctx.status = 206;
      ctx.set('Content-Range', `bytes ${range.start}-${range.end}/${info.size}`);
      ctx.length = range.end - range.start + 1;
    } else {
      ctx.status = 200;
      ctx.length = info.size;
    }
    ctx.type = 'application/octet-stream';
  }

  return async (ctx: Context, next: Next): Promise<void> => {
    const version = VERSION_FILE.exec(ctx.path);
    const named = version ? null : NAMED_FILE.exec(ctx.path);
    if (!version && !named) return next();
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('Allow', 'GET, HEAD');
      throw new LarderError('MethodNotAllowed', `${ctx.method} is not supported on ${ctx.path.slice(0, 200)}`);
    }
    const actor = await options.actorFor(ctx);
    if (version) {
      const [, id = '', path = ''] = version;
      const file = await versions.readableFile(decode(id), path.split('/').map(decode).join('/'), actor);
      return send(ctx, file.sha256, file.path.split('/').at(-1) ?? 'file');
    }
    const [, id = '', name = ''] = named as RegExpExecArray;
    const file = await namedFile(decode(id), decode(name), actor);
    return send(ctx, file.sha256, file.filename || decode(name));
  };
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch (error) {
    throw new LarderError('BadRequest', `"${segment.slice(0, 80)}" is not valid percent-encoding`, { cause: error });
  }
}

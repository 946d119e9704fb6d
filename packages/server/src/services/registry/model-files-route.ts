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
import { decodePathSegment } from '../../http/path-segment.js';
import { sendBlob } from '../../http/send-blob.js';
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
    await sendBlob(ctx, blobs, info, { bodyWanted: ctx.method === 'GET', filename, disposition: 'attachment' });
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
      const file = await versions.readableFile(
        decodePathSegment(id),
        path.split('/').map(decodePathSegment).join('/'),
        actor,
      );
      return send(ctx, file.sha256, file.path.split('/').at(-1) ?? 'file');
    }
    const [, id = '', name = ''] = named as RegExpExecArray;
    const file = await namedFile(decodePathSegment(id), decodePathSegment(name), actor);
    return send(ctx, file.sha256, file.filename || decodePathSegment(name));
  };
}

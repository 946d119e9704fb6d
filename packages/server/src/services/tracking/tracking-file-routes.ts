/**
 * Downloads of what runs and artifacts hold, granted by the record's read permission (not
 * by blob claims: a reader of a shared run may fetch its files without having uploaded them):
 * - `GET|HEAD /runs/<id>/files/<name>`: a run's named file;
 * - `GET|HEAD /runs/<id>/data-logs/<name>`: the picture of an `image` data log;
 * - `GET|HEAD /artifacts/<id>/objects/<path>`: one object of an artifact;
 * - `GET|HEAD /artifacts/<id>/archive`: the whole artifact as one zip stream (files stored, not
 *   recompressed; URI references listed in `references.json`).
 */
import { and, eq, LarderError } from '@larder/protocol';
import type { Context, Next } from 'koa';
import type { Actor } from '../../auth/actor.js';
import { folderPolicy } from '../../auth/folder-policy.js';
import type { BlobStore } from '../../blobs/blob-store.js';
import { decodePathSegment } from '../../http/path-segment.js';
import { sendBlob } from '../../http/send-blob.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { ARTIFACTS_COLLECTION } from '../artifacts/artifacts-service.js';
import { RUNS_COLLECTION } from '../runs/runs-service.js';

const RUN_FILE = /^\/runs\/([^/]+)\/files\/([^/]+)$/;
const RUN_DATA_IMAGE = /^\/runs\/([^/]+)\/data-logs\/([^/]+)$/;
const ARTIFACT_OBJECT = /^\/artifacts\/([^/]+)\/objects\/(.+)$/;
const ARTIFACT_ARCHIVE = /^\/artifacts\/([^/]+)\/archive$/;

interface Options {
  store: DocumentStore;
  blobs: BlobStore;
  actorFor: (ctx: Context) => Promise<Actor>;
}

export function trackingFileRoutes({ store, blobs, actorFor }: Options) {
  async function readable(ctx: Context, collection: string, id: string, noun: string): Promise<StoredDocument> {
    const actor = await actorFor(ctx);
    const decoded = decodePathSegment(id);
    const [record] = await store.find(collection, {
      filter: and(eq(['_id'], decoded), folderPolicy.readFilter(actor)),
      limit: 1,
    });
    if (!record) throw new LarderError('NotFound', `No ${noun} ${decoded.slice(0, 120)} that you may see`);
    return record;
  }

  async function send(ctx: Context, entry: unknown, filename: string, what: string): Promise<void> {
    const { sha256 } = (entry ?? {}) as { sha256?: unknown };
    const info = typeof sha256 === 'string' ? await blobs.stat(sha256) : undefined;
    if (!info) throw new LarderError('NotFound', `${what} has no stored file`);
    await sendBlob(ctx, blobs, info, { bodyWanted: ctx.method === 'GET', filename });
  }

  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    let match = RUN_FILE.exec(ctx.path);
    if (match) {
      const run = await readable(ctx, RUNS_COLLECTION, match[1] as string, 'run');
      const name = decodePathSegment(match[2] as string);
      const files = (run.files ?? {}) as Record<string, { filename?: string }>;
      const file = Object.hasOwn(files, name) ? files[name] : undefined;
      if (!file) throw new LarderError('NotFound', `Run ${run._id} has no file named ${name}`);
      return send(ctx, file, file.filename ?? name, `File ${name}`);
    }
    match = RUN_DATA_IMAGE.exec(ctx.path);
    if (match) {
      const run = await readable(ctx, RUNS_COLLECTION, match[1] as string, 'run');
      const name = decodePathSegment(match[2] as string);
      const logs = (run.dataLogs ?? {}) as Record<string, { type?: string; data?: { filename?: string } }>;
      const log = Object.hasOwn(logs, name) ? logs[name] : undefined;
      if (log?.type !== 'image')
        throw new LarderError('NotFound', `Run ${run._id} has no image data log named ${name}`);
      return send(ctx, log.data, log.data?.filename ?? name, `Data log ${name}`);
    }
    match = ARTIFACT_OBJECT.exec(ctx.path);
    if (match) {
      const artifact = await readable(ctx, ARTIFACTS_COLLECTION, match[1] as string, 'artifact');
      const path = decodePathSegment(match[2] as string);
      const objects = (artifact.objects ?? []) as { path: string; sha256?: string; uri?: string }[];
      const object = objects.find((each) => each.path === path);
      if (!object) throw new LarderError('NotFound', `Artifact ${artifact._id} has no object ${path}`);
      if (object.uri) throw new LarderError('NotFound', `${path} is a reference to ${object.uri}, not a stored file`);
      return send(ctx, object, path.slice(path.lastIndexOf('/') + 1), path);
    }
    match = ARTIFACT_ARCHIVE.exec(ctx.path);
    if (match) {
      const artifact = await readable(ctx, ARTIFACTS_COLLECTION, match[1] as string, 'artifact');
      return sendArchive(ctx, blobs, artifact, ctx.method === 'GET');
    }
    return next();
  };
}

async function sendArchive(
  ctx: Context,
  blobs: BlobStore,
  artifact: StoredDocument,
  bodyWanted: boolean,
): Promise<void> {
  const objects = (artifact.objects ?? []) as { path: string; sha256?: string; size?: number; uri?: string }[];
  // Every file must be there before the first byte goes out: afterwards no error can be sent.
  for (const object of objects) {
    if (object.sha256 && !(await blobs.stat(object.sha256))) {
      throw new LarderError('Unavailable', `The file of ${object.path} is missing from storage`);
    }
  }
  const name = String(artifact.name ?? artifact._id);
  ctx.attachment(`${name}.zip`);
  ctx.type = 'application/zip';
  ctx.status = 200;
  if (!bodyWanted) return;
  // Loaded on the first zip download: archiver's many modules would slow every start.
  const { ZipArchive } = await import('archiver');
  const zip = new ZipArchive({ store: true });
  ctx.body = zip;
  const references = objects.filter((object) => object.uri);
  (async () => {
    for (const object of objects) {
      if (!object.sha256) continue;
      zip.append(await blobs.get(object.sha256), { name: object.path });
    }
    if (references.length > 0) {
      zip.append(JSON.stringify(references, null, 2), { name: 'references.json' });
    }
    await zip.finalize();
  })().catch((error: unknown) => zip.destroy(error as Error));
}

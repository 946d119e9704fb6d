/**
 * MLflow's artifact proxy, `/api/2.0/mlflow-artifacts/artifacts/<path>` (PUT, GET, DELETE),
 * `GET /api/2.0/mlflow-artifacts/artifacts?path=` (list) and
 * `POST /api/2.0/mlflow-artifacts/mpu/{create,complete,abort}/<path>` (multipart), also under
 * `/ajax-api/2.0/`. Bodies stream both ways through the blob store (the server hashes what it
 * receives, so nothing a client claims about a hash is trusted); the files are named by
 * records in `artifact-files.ts`, permitted by their run or logged model. Multipart parts go
 * to `PUT …/mlflow-artifacts/mpu/parts/<upload_id>/<part_number>`. Errors leave as MLflow's
 * `{ error_code, message }`.
 */
import { LarderError } from '@larder/protocol';
import type { Context, Next } from 'koa';
import type { FeatureContext } from '../../../app/feature.js';
import { recordBlobClaim } from '../../../auth/blob-access.js';
import { confirmUpload } from '../../../blobs/lifecycle/blob-uploads.js';
import { readJsonBody } from '../../../http/read-json-body.js';
import { sendBlob } from '../../../http/send-blob.js';
import { mlflowCaller } from '../mlflow-caller.js';
import { MlflowError, toMlflowError } from '../mlflow-errors.js';
import { type ArtifactFile, ArtifactFiles, childrenOf } from './artifact-files.js';
import { parseArtifactLocation, safeSegments } from './artifact-locations.js';
import { ArtifactOwners, type ArtifactTree } from './artifact-owners.js';
import { MultipartUploads, type UploadPart } from './multipart-uploads.js';
import { receiveBody } from './receive-body.js';

const PREFIX = /^\/(?:ajax-)?api\/2\.0\/mlflow-artifacts(\/.*)?$/;
const FILE = /^\/artifacts\/(.+)$/;
const MPU = /^\/mpu\/(create|complete|abort)\/(.+)$/;
const PART = /^\/mpu\/parts\/([0-9a-f]{32})\/(\d{1,5})$/;
const JSON_LIMIT = 16 * 1024 * 1024;

export function artifactProxyRoute(context: FeatureContext) {
  const { store, blobs, maxBlobBytes } = context;
  const files = new ArtifactFiles(store, blobs);
  const owners = new ArtifactOwners(store);
  const uploads = new MultipartUploads(store, blobs);

  async function tree(ctx: Context, raw: string, access: 'read' | 'write', encoded = true) {
    const { actor } = await mlflowCaller(ctx, context);
    const location = parseArtifactLocation(raw, { encoded });
    return { actor, location, tree: await owners.tree(location.root, actor, access) };
  }

  async function fileIn(found: ArtifactTree, path: string): Promise<ArtifactFile | undefined> {
    if (found.versionFiles) return found.versionFiles.find((file) => file.path === path);
    return files.file(found.owner, path);
  }

  async function listing(found: ArtifactTree, dir: string) {
    if (!found.versionFiles) return files.list(found.owner, dir);
    const prefix = dir === '' ? '' : `${dir}/`;
    return childrenOf(
      found.versionFiles
        .filter((file) => file.path.startsWith(prefix))
        .map((file) => ({ ...file, path: file.path.slice(prefix.length) })),
    );
  }

  async function put(ctx: Context, raw: string): Promise<void> {
    const { actor, location, tree: found } = await tree(ctx, raw, 'write');
    if (location.path === '') throw new MlflowError('INVALID_PARAMETER_VALUE', 'An upload names the file it writes');
    const blob = await receiveAndConfirm(ctx);
    await recordBlobClaim(store, actor, blob.sha256);
    await files.write(found.owner, location.path, blob);
    ctx.body = {};
  }

  async function receiveAndConfirm(ctx: Context) {
    const blob = await receiveBody(ctx, blobs, maxBlobBytes);
    await confirmUpload(store, blobs, blob.sha256);
    return blob;
  }

  async function get(ctx: Context, raw: string): Promise<void> {
    const { location, tree: found } = await tree(ctx, raw, 'read');
    const file = await fileIn(found, location.path);
    if (!file) {
      throw new MlflowError(
        'RESOURCE_DOES_NOT_EXIST',
        `No artifact "${location.path.slice(0, 200)}" in this run or model`,
      );
    }
    const info = await blobs.stat(file.sha256);
    if (!info) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', 'The artifact is recorded but its bytes are gone');
    const name = location.path.split('/').at(-1) ?? 'artifact';
    await sendBlob(ctx, blobs, info, { bodyWanted: ctx.method === 'GET', filename: name, disposition: 'attachment' });
  }

  async function list(ctx: Context): Promise<void> {
    const path = new URLSearchParams(ctx.querystring).get('path') ?? '';
    const { location, tree: found } = await tree(ctx, path, 'read', false);
    const entries = await listing(found, location.path);
    ctx.body = {
      files: entries.map((entry) =>
        entry.isDir ? { path: entry.path, is_dir: true } : { path: entry.path, is_dir: false, file_size: entry.size },
      ),
    };
  }

  async function remove(ctx: Context, raw: string): Promise<void> {
    const { location, tree: found } = await tree(ctx, raw, 'write');
    await files.remove(found.owner, location.path);
    ctx.body = {};
  }

  async function multipart(ctx: Context, action: string, raw: string): Promise<void> {
    const { location, tree: found } = await tree(ctx, raw, 'write');
    const body = await readJsonBody(ctx, JSON_LIMIT);
    const message = (body !== null && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    if (typeof message.path !== 'string') {
      throw new MlflowError('INVALID_PARAMETER_VALUE', "Missing value for required parameter 'path'.");
    }
    // As MLflow's server does, the URL names the directory and the file keeps the base name
    // of the client's local `path`.
    const name = safeSegments(message.path.split(/[\\/]/).at(-1) ?? '', false).join('/');
    if (name === '') throw new MlflowError('INVALID_PARAMETER_VALUE', "'path' must end with the file's name");
    const target = { owner: found.owner, path: location.path === '' ? name : `${location.path}/${name}` };
    if (action === 'create') {
      const parts = Number(message.num_parts ?? 1);
      const uploadId = await uploads.create(target, parts);
      const base = `${ctx.protocol}://${ctx.host}${ctx.path.slice(0, ctx.path.indexOf('/mpu/'))}/mpu/parts/${uploadId}`;
      ctx.body = {
        upload_id: uploadId,
        credentials: Array.from({ length: parts }, (_, index) => ({
          url: `${base}/${index + 1}`,
          part_number: index + 1,
          headers: {},
        })),
      };
      return;
    }
    const uploadId = typeof message.upload_id === 'string' ? message.upload_id : '';
    if (action === 'abort') {
      await uploads.uploadOf(uploadId, target);
      await uploads.finish(uploadId);
      ctx.body = {};
      return;
    }
    const blob = await uploads.compose(uploadId, target, parsedParts(message.parts), maxBlobBytes);
    await files.write(found.owner, target.path, blob);
    await uploads.finish(uploadId);
    ctx.body = {};
  }

  async function part(ctx: Context, uploadId: string, partNumber: number): Promise<void> {
    const blob = await receiveAndConfirm(ctx);
    await uploads.recordPart(uploadId, partNumber, blob);
    ctx.set('ETag', `"${blob.sha256}"`);
    ctx.body = {};
  }

  async function dispatch(ctx: Context, rest: string): Promise<void> {
    const method = ctx.method;
    if (rest === '/artifacts' || rest === '/artifacts/') {
      if (method === 'GET') return list(ctx);
      return methodNotAllowed(ctx, 'GET');
    }
    const file = FILE.exec(rest);
    if (file) {
      const raw = file[1] ?? '';
      if (method === 'GET' || method === 'HEAD') return get(ctx, raw);
      if (method === 'PUT') return put(ctx, raw);
      if (method === 'DELETE') return remove(ctx, raw);
      return methodNotAllowed(ctx, 'GET, HEAD, PUT, DELETE');
    }
    const partMatch = PART.exec(rest);
    if (partMatch) {
      if (method !== 'PUT') return methodNotAllowed(ctx, 'PUT');
      return part(ctx, partMatch[1] ?? '', Number(partMatch[2]));
    }
    const mpu = MPU.exec(rest);
    if (mpu) {
      if (method !== 'POST') return methodNotAllowed(ctx, 'POST');
      return multipart(ctx, mpu[1] ?? '', mpu[2] ?? '');
    }
    throw new MlflowError('ENDPOINT_NOT_FOUND', `No API endpoint ${method} ${ctx.path.slice(0, 200)}`);
  }

  return async (ctx: Context, next: Next): Promise<void> => {
    const match = PREFIX.exec(ctx.path);
    if (!match) return next();
    try {
      await dispatch(ctx, match[1] ?? '/');
    } catch (thrown) {
      const error = toMlflowError(thrown);
      if (error.status >= 500) {
        context.log(
          `error: mlflow-artifacts ${ctx.method} ${ctx.path}: ${(error.cause as Error)?.stack ?? error.message}`,
        );
      }
      if (!ctx.req.complete) {
        // Refused before the body was read: answer now and drop the rest of the upload.
        ctx.set('Connection', 'close');
        ctx.req.resume();
      }
      ctx.status = error.status;
      ctx.body = error.toJSON();
    }
  };
}

function parsedParts(value: unknown): UploadPart[] {
  if (!Array.isArray(value))
    throw new MlflowError('INVALID_PARAMETER_VALUE', "Missing value for required parameter 'parts'.");
  return value.map((each, index) => {
    const part = (each !== null && typeof each === 'object' ? each : {}) as Record<string, unknown>;
    const number = Number(part.part_number);
    if (!Number.isSafeInteger(number)) {
      throw new MlflowError('INVALID_PARAMETER_VALUE', `parts[${index}].part_number must be an integer`);
    }
    return { part_number: number, etag: typeof part.etag === 'string' ? part.etag : '' };
  });
}

function methodNotAllowed(ctx: Context, allow: string): never {
  ctx.set('Allow', allow);
  throw new LarderError('MethodNotAllowed', `${ctx.method} is not supported on ${ctx.path.slice(0, 200)}`);
}

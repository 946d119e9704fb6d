/**
 * The artifact endpoints of MLflow's web UI and of older clients, beside the proxy: they name
 * a file by its run (or logged model, or registered version) and a path in a query string.
 * - `GET /artifacts/list?run_id&path`: a run's directory, paths relative to the run's root;
 * - `GET /get-artifact?run_id|run_uuid&path`: one file of a run, as an attachment;
 * - `GET /get-trace-artifact?request_id`: a trace's spans (`traces.json`), as an attachment;
 * - `GET /model-versions/get-artifact?name&version&path`: one file of a registered version;
 * - `GET /logged-models/{model_id}/artifacts/files?artifact_file_path`: one file of a logged model;
 * - `POST /upload-artifact?run_uuid&path` with the file as the raw body (at most 10 MB, as
 *   MLflow's server limits it).
 * The paths outside `/api/2.0/mlflow` (`/get-artifact`, `/model-versions/get-artifact`) are
 * brought under it by `artifactUiPathsRoute`. Files are the proxy's records (`artifact-files.ts`),
 * permitted by their owner as every artifact is; unsafe paths answer MLflow's "Invalid path".
 */
import { LarderError } from '@larder/protocol';
import type { Context, Next } from 'koa';
import type { FeatureContext } from '../../../app/feature.js';
import { recordBlobClaim } from '../../../auth/blob-access.js';
import { confirmUpload } from '../../../blobs/lifecycle/blob-uploads.js';
import { sendBlob } from '../../../http/send-blob.js';
import { RUNS_COLLECTION } from '../../runs/runs-service.js';
import { ANSWERED, type EndpointTable, type MlflowCall } from '../mlflow-endpoints.js';
import { MlflowError } from '../mlflow-errors.js';
import { optionalString, requiredString } from '../mlflow-request-fields.js';
import { modelNamed, versionNumbered } from '../registry/model-names.js';
import { pathParameter } from '../registry/path-parameters.js';
import { runInfoOf } from '../tracking/run-records.js';
import { type ArtifactFile, ArtifactFiles, artifactOwner } from './artifact-files.js';
import { safeSegments } from './artifact-locations.js';
import { ArtifactOwners, LOGGED_MODELS_COLLECTION, TRACES_COLLECTION } from './artifact-owners.js';
import { receiveBody } from './receive-body.js';

/** RFC 9110's token characters: a file name of only these needs no quotes. */
const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** MLflow's server refuses UI uploads over 10 MB; larger files go through the proxy. */
export const UI_UPLOAD_LIMIT_BYTES = 10 * 1024 * 1024;

/** A path as MLflow's `validate_path_is_safe` takes it, or its exact refusal. */
export function safeArtifactPath(path: string): string {
  try {
    if (path.includes('#')) throw new Error('fragment');
    return safeSegments(path, false).join('/');
  } catch {
    throw new MlflowError('INVALID_PARAMETER_VALUE', 'Invalid path');
  }
}

const invalid = (message: string) => new MlflowError('INVALID_PARAMETER_VALUE', message);

export function artifactUiEndpoints(context: FeatureContext): EndpointTable {
  const { store, blobs } = context;
  const files = new ArtifactFiles(store, blobs);
  const owners = new ArtifactOwners(store);

  const runOf = async (call: MlflowCall, field: string, access: 'read' | 'write') => {
    const runId = optionalString(call.request, field) ?? optionalString(call.request, 'run_uuid');
    if (runId === undefined || runId === '') throw invalid(`Missing value for required parameter '${field}'.`);
    const record = await owners.run(runId, call.actor, access);
    return { record, owner: artifactOwner(RUNS_COLLECTION, record._id) };
  };

  const send = async (ctx: Context, file: ArtifactFile | undefined, path: string): Promise<typeof ANSWERED> => {
    if (!file) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `No artifact "${path.slice(0, 200)}"`);
    const info = await blobs.stat(file.sha256);
    if (!info) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', 'The artifact is recorded but its bytes are gone');
    const filename = path.split('/').at(-1) ?? 'artifact';
    await sendBlob(ctx, blobs, info, { bodyWanted: ctx.method !== 'HEAD', filename, disposition: 'attachment' });
    // As MLflow's server writes it: a name that is an HTTP token goes bare (`filename=a.txt`);
    // any other stays quoted and encoded as `sendBlob` wrote it. Both mean the same to a client.
    if (HTTP_TOKEN.test(filename)) ctx.set('Content-Disposition', `attachment; filename=${filename}`);
    return ANSWERED;
  };

  return {
    'GET /artifacts/list': async (call) => {
      const raw = optionalString(call.request, 'path');
      const dir = raw === undefined ? '' : safeArtifactPath(raw);
      const { record, owner } = await runOf(call, 'run_id', 'read');
      const entries = await files.list(owner, dir);
      return {
        root_uri: runInfoOf(call.actor, record as never).artifact_uri,
        files: entries.map((entry) => {
          const path = dir === '' ? entry.path : `${dir}/${entry.path}`;
          return entry.isDir ? { path, is_dir: true } : { path, is_dir: false, file_size: entry.size };
        }),
      };
    },

    // The UI's trace view: a trace's spans, `traces.json`, by the trace's id.
    'GET /get-trace-artifact': async (call) => {
      const trace = await owners.trace(requiredString(call.request, 'request_id'), call.actor, 'read');
      return send(
        call.ctx,
        await files.file(artifactOwner(TRACES_COLLECTION, trace._id), 'traces.json'),
        'traces.json',
      );
    },

    'GET /get-artifact': async (call) => {
      const path = safeArtifactPath(requiredString(call.request, 'path'));
      const { owner } = await runOf(call, 'run_id', 'read');
      return send(call.ctx, await files.file(owner, path), path);
    },

    'GET /model-versions/get-artifact': async (call) => {
      const path = safeArtifactPath(requiredString(call.request, 'path'));
      const model = await modelNamed(store, requiredString(call.request, 'name'), call.actor);
      const version = await versionNumbered(store, model, requiredString(call.request, 'version'));
      const listed = Array.isArray(version.files) ? (version.files as unknown as ArtifactFile[]) : [];
      return send(
        call.ctx,
        listed.find((file) => file.path === path),
        path,
      );
    },

    'GET /logged-models/{model_id}/artifacts/files': async (call) => {
      const raw = optionalString(call.request, 'artifact_file_path');
      if (!raw) throw new MlflowError('BAD_REQUEST', 'Request must include the "artifact_file_path" query parameter.');
      const path = safeArtifactPath(raw);
      const model = await owners.loggedModel(pathParameter(call.ctx, 'model_id'), call.actor, 'read');
      return send(call.ctx, await files.file(artifactOwner(LOGGED_MODELS_COLLECTION, model._id), path), path);
    },

    'POST /upload-artifact': async (call) => {
      const runId = optionalString(call.request, 'run_uuid') ?? optionalString(call.request, 'run_id');
      if (!runId) throw invalid('Request must specify run_uuid.');
      const raw = optionalString(call.request, 'path');
      if (!raw) throw invalid('Request must specify path.');
      const path = safeArtifactPath(raw);
      const declared = Number(call.ctx.get('content-length') || 0);
      if (declared > UI_UPLOAD_LIMIT_BYTES) throw invalid('Artifact size is too large. Max size is 10MB.');
      const { owner } = await runOf(call, 'run_uuid', 'write');
      let blob: Awaited<ReturnType<typeof receiveBody>>;
      try {
        blob = await receiveBody(call.ctx, blobs, UI_UPLOAD_LIMIT_BYTES);
      } catch (error) {
        if (error instanceof LarderError && error.code === 413) {
          throw invalid('Artifact size is too large. Max size is 10MB.');
        }
        throw error;
      }
      if (blob.size === 0) throw invalid('Request must specify data.');
      await confirmUpload(store, blobs, blob.sha256);
      await recordBlobClaim(store, call.actor, blob.sha256);
      await files.write(owner, path, blob);
      return {};
    },
  };
}

const UI_PATHS: [RegExp, string][] = [
  [/^\/+get-artifact\/?$/, '/ajax-api/2.0/mlflow/get-artifact'],
  [/^\/+model-versions\/get-artifact\/?$/, '/ajax-api/2.0/mlflow/model-versions/get-artifact'],
];

/** Brings the UI's download paths outside `/api/2.0/mlflow` under the dispatcher's prefix. */
export function artifactUiPathsRoute() {
  return async (ctx: Context, next: Next): Promise<void> => {
    for (const [pattern, path] of UI_PATHS) {
      if (pattern.test(ctx.path)) {
        ctx.path = path;
        break;
      }
    }
    return next();
  };
}

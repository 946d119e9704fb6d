/**
 * What a model version registered through MLflow is made of: the files under its `source`,
 * read through the records the caller may read, and copied (by hash: no bytes move) into the
 * version. Sources Larder holds are `models:/<model_id>` (a logged model),
 * `runs:/<run_id>/<path>`, `mlflow-artifacts:/<experiment_id>/…` and the same behind this
 * server's `http(s)://…/api/2.0/mlflow-artifacts/artifacts/…`; any other source (`s3://…`)
 * is recorded as given, with no files, as MLflow's registry does with sources it does not
 * serve; so is a source the caller may not read (a run of another user, a mistyped run id).
 * Reading the source is the proof of holding its bytes: the caller never names a hash.
 */
import type { Actor } from '../../../auth/actor.js';
import { artifactOwner } from '../artifacts/artifact-files.js';
import { type ArtifactLocation, parseArtifactLocation, safeSegments } from '../artifacts/artifact-locations.js';
import { LOGGED_MODELS_COLLECTION } from '../artifacts/artifact-owners.js';
import { MlflowError } from '../mlflow-errors.js';
import { modelNamed, versionNumbered } from './model-names.js';
import type { RegistryContext } from './registry-context.js';
import { mlflowFieldsOf } from './registry-messages.js';

export interface ResolvedSource {
  files: { path: string; sha256: string; size: number }[];
  runId: string | null;
  loggedModelId: string | null;
  /** For a source without files here: where MLflow would download it from. */
  storageLocation?: string;
}

const HTTP_ANCHOR = '/mlflow-artifacts/artifacts/';

export async function resolveSource(
  context: RegistryContext,
  source: string,
  modelId: string | undefined,
  actor: Actor,
): Promise<ResolvedSource> {
  if (isLocal(source)) {
    // MLflow takes a local path only inside a run's local artifact directory; Larder's runs
    // have none (their artifacts are behind mlflow-artifacts:/).
    throw new MlflowError(
      'INVALID_PARAMETER_VALUE',
      `Invalid model version source: '${source.slice(0, 200)}'. A local path cannot be a source on this server: ` +
        'register runs:/<run_id>/<path>, models:/<model_id> or the mlflow-artifacts:/ location instead',
    );
  }
  try {
    return await resolveReadable(context, source, modelId, actor);
  } catch (error) {
    // A source the caller cannot read is recorded as given, with no files, like one outside
    // Larder: MLflow's registry takes any run id, and answering otherwise would tell the
    // caller that someone else's run exists.
    if (!(error instanceof MlflowError && error.errorCode === 'RESOURCE_DOES_NOT_EXIST')) throw error;
    return { files: [], runId: null, loggedModelId: modelId ?? null };
  }
}

async function resolveReadable(
  context: RegistryContext,
  source: string,
  modelId: string | undefined,
  actor: Actor,
): Promise<ResolvedSource> {
  const decoded = decodeLoosely(source);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (/(^|\/)\.\.(\/|$)/.test(decoded) || /[\u0000-\u001f\u007f]/.test(decoded)) {
    // MLflow's own sentence for relative references in a source.
    throw new MlflowError(
      'INVALID_PARAMETER_VALUE',
      `Invalid model version source: '${source.slice(0, 200)}'. If supplying a source as an http, https, ` +
        'local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided ' +
        'without relative path references present. Please provide an absolute path.',
    );
  }
  const logged = /^models:\/(m-[0-9a-f]{32})\/?$/.exec(source)?.[1];
  if (logged) return fromLoggedModel(context, logged, actor);
  const registered = /^models:\/([^/@]+)\/(\d+)\/?$/.exec(source);
  if (registered) return fromVersion(context, registered[1] ?? '', registered[2] ?? '', actor);
  const runs = /^runs:\/([^/]+)(?:\/(.*))?$/.exec(source);
  if (runs) {
    const run = await context.owners.run(runs[1] ?? '', actor, 'read');
    const dir = safeSegments(runs[2] ?? '', false).join('/');
    const files = await context.files.filesUnder(artifactOwner('runs', run._id), dir);
    return { files, runId: run._id, loggedModelId: modelId ?? null };
  }
  const location = locationOfSource(source);
  if (location) {
    const tree = await context.owners.tree(location.root, actor, 'read');
    const prefix = location.path === '' ? '' : `${location.path}/`;
    const files = tree.versionFiles
      ? tree.versionFiles
          .filter((file) => file.path.startsWith(prefix))
          .map((file) => ({ ...file, path: file.path.slice(prefix.length) }))
      : await context.files.filesUnder(tree.owner, location.path);
    return {
      files,
      runId: location.root.kind === 'run' ? location.root.runId : null,
      loggedModelId: location.root.kind === 'logged-model' ? location.root.modelId : (modelId ?? null),
    };
  }
  if (modelId) return fromLoggedModel(context, modelId, actor);
  return { files: [], runId: null, loggedModelId: null };
}

/** `models:/<name>/<version>`: a copy of another version (`copy_model_version`). */
async function fromVersion(
  context: RegistryContext,
  name: string,
  number: string,
  actor: Actor,
): Promise<ResolvedSource> {
  const store = context.feature.store;
  const version = await versionNumbered(store, await modelNamed(store, name, actor), number);
  const files = Array.isArray(version.files) ? (version.files as unknown as ResolvedSource['files']) : [];
  const fields = mlflowFieldsOf(version);
  return {
    files,
    runId: fields.runId,
    loggedModelId: fields.loggedModelId,
    storageLocation: fields.storageLocation || fields.source,
  };
}

async function fromLoggedModel(context: RegistryContext, modelId: string, actor: Actor): Promise<ResolvedSource> {
  const model = await context.owners.loggedModel(modelId, actor, 'read');
  const files = await context.files.filesUnder(artifactOwner(LOGGED_MODELS_COLLECTION, model._id), '');
  return { files, runId: model.sourceRunId ? String(model.sourceRunId) : null, loggedModelId: model._id };
}

function locationOfSource(source: string): ArtifactLocation | undefined {
  if (source.startsWith('mlflow-artifacts:')) {
    const path = source
      .slice('mlflow-artifacts:'.length)
      .replace(/^\/\/[^/]*/, '')
      .replace(/^\/+/, '');
    // Unsafe paths are refused; a safe one outside Larder's layout (`mlflow-artifacts:/models`,
    // another server's) names nothing here and is recorded as given, as MLflow records any URI.
    safeSegments(path, false);
    try {
      return parseArtifactLocation(path, { encoded: false });
    } catch {
      return undefined;
    }
  }
  if (/^https?:\/\//.test(source)) {
    const at = source.indexOf(HTTP_ANCHOR);
    if (at >= 0) return parseArtifactLocation(source.slice(at + HTTP_ANCHOR.length), { encoded: true });
  }
  return undefined;
}

/** A path without a scheme, a `file:` URI or a Windows drive path, as MLflow's `is_local_uri` sees them. */
function isLocal(source: string): boolean {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(source)?.[1];
  return scheme === undefined || scheme.length === 1 || scheme.toLowerCase() === 'file';
}

function decodeLoosely(source: string): string {
  try {
    return decodeURIComponent(source);
  } catch {
    return source;
  }
}

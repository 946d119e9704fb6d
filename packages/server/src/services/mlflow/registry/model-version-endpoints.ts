/**
 * MLflow's model-version endpoints (`model_registry.proto`) over Larder's `/model-versions`:
 * create (an MLflow-format version whose files are copied, by hash, from its source),
 * get, update, delete, search, tags, stage transitions and get-download-uri. A version is
 * numbered, aliased and owned as every registry version is; its files are served at
 * `mlflow-artifacts:/model-versions/<id>/artifacts`.
 */
import { and, eq } from '@larder/protocol';
import { ownershipPolicy } from '../../../auth/access-policy.js';
import type { StoredDocument } from '../../../stores/document-store.js';
import { mlflowStage } from '../../registry/mlflow-version-record.js';
import { MODEL_VERSIONS_COLLECTION } from '../../registry/models-service.js';
import { modelVersionArtifactUri } from '../artifacts/artifact-locations.js';
import type { EndpointTable, MlflowCall } from '../mlflow-endpoints.js';
import { MlflowError } from '../mlflow-errors.js';
import { modelNamed, versionNumbered, versionsOf } from './model-names.js';
import type { RegistryContext } from './registry-context.js';
import { parseRegistryFilter } from './registry-filter.js';
import { millis, mlflowFieldsOf, modelVersionMessage } from './registry-messages.js';
import {
  keyValues,
  maxResults,
  nextPageToken,
  optionalBoolean,
  optionalString,
  pageOffset,
  requiredString,
  stringList,
} from './request-fields.js';
import { resolveSource } from './version-sources.js';

const MODEL_VERSIONS_TAG = 'mlflow.modelVersions';
const SEARCH_ATTRIBUTES = [
  'name',
  'version_number',
  'run_id',
  'source_path',
  'source',
  'model_id',
  'current_stage',
  'user_id',
];
type Read = (entry: { model: StoredDocument; version: StoredDocument }) => string | number;
const BY_NAME: Read = ({ model }) => String(model.name);
const BY_NUMBER: Read = ({ version }) => Number(version.version);
const BY_UPDATE: Read = ({ version }) => millis(version.updatedAt);
const ORDER_FIELDS: Record<string, Read> = {
  name: BY_NAME,
  version_number: BY_NUMBER,
  creation_timestamp: ({ version }) => millis(version.createdAt),
  last_updated_timestamp: BY_UPDATE,
  timestamp: BY_UPDATE,
};

export function modelVersionEndpoints(context: RegistryContext): EndpointTable {
  const { store } = context.feature;

  async function found(call: MlflowCall) {
    const model = await modelNamed(store, requiredString(call.request, 'name'), call.actor);
    const version = await versionNumbered(store, model, requiredString(call.request, 'version'));
    return { model, version };
  }

  async function writable(call: MlflowCall) {
    const entry = await found(call);
    await context.models.writableModel(entry.model._id, call.actor);
    return entry;
  }

  async function patched(call: MlflowCall, version: StoredDocument, data: Record<string, unknown>) {
    return (await context.versions.patch(version._id, data, call.params)) as StoredDocument;
  }

  function mlflowOnly(version: StoredDocument): void {
    if (version.format !== 'mlflow') {
      throw new MlflowError(
        'INVALID_PARAMETER_VALUE',
        `Version ${version.version} is a PMF version pushed with Larder: it has no MLflow stage or tags`,
      );
    }
  }

  return {
    'POST /model-versions/create': async (call) => {
      const { request, actor } = call;
      const model = await modelNamed(store, requiredString(request, 'name'), actor);
      await context.models.writableModel(model._id, actor);
      const source = requiredString(request, 'source');
      const runIdParam = optionalString(request, 'run_id') || undefined;
      const resolved = await resolveSource(context, source, optionalString(request, 'model_id') || undefined, actor);
      const runId = runIdParam ?? resolved.runId;
      // Lineage names the run only when the caller may read it; MLflow records any run id.
      const lineage = runId && (runId === resolved.runId || (await readableRun(context, runId, actor))) ? [runId] : [];
      const tags = keyValues(request, 'tags');
      // The caller's write permission is checked above and the files were read through records
      // they may read, so the server vouches for them: an internal create.
      const version = (await context.versions.create(
        {
          format: 'mlflow',
          modelId: model._id,
          files: resolved.files,
          description: optionalString(request, 'description') ?? '',
          producedBy: lineage,
          mlflow: {
            source,
            runId,
            loggedModelId: resolved.loggedModelId,
            runLink: optionalString(request, 'run_link') ?? '',
            stage: 'None',
            tags: Object.fromEntries(tags.map((tag) => [tag.key, tag.value])),
            storageLocation: resolved.storageLocation ?? '',
          },
        },
        {},
      )) as StoredDocument;
      if (resolved.loggedModelId) {
        await noteRegistration(context, resolved.loggedModelId, String(model.name), Number(version.version), actor);
      }
      const after = await modelNamed(store, String(model.name), actor);
      return { model_version: modelVersionMessage(after, version) };
    },
    'GET /model-versions/get': async (call) => {
      const { model, version } = await found(call);
      return { model_version: modelVersionMessage(model, version) };
    },
    'PATCH /model-versions/update': async (call) => {
      const { model, version } = await writable(call);
      const description = optionalString(call.request, 'description');
      const after = description === undefined ? version : await patched(call, version, { description });
      return { model_version: modelVersionMessage(model, after) };
    },
    'DELETE /model-versions/delete': async (call) => {
      const { version } = await writable(call);
      await context.versions.remove(version._id, call.params);
      return {};
    },
    'POST /model-versions/transition-stage': async (call) => {
      const { model, version } = await writable(call);
      mlflowOnly(version);
      const stage = mlflowStage(requiredString(call.request, 'stage'));
      const after = await patched(call, version, { 'mlflow.stage': stage });
      if (
        optionalBoolean(call.request, 'archive_existing_versions') &&
        (stage === 'Staging' || stage === 'Production')
      ) {
        for (const other of await versionsOf(store, model._id)) {
          if (other._id !== version._id && other.format === 'mlflow' && mlflowFieldsOf(other).stage === stage) {
            await patched(call, other, { 'mlflow.stage': 'Archived' });
          }
        }
      }
      // As in MLflow, a stage change counts as a change of the registered model.
      await context.models.patch(model._id, {}, call.params);
      return { model_version: modelVersionMessage(model, after) };
    },
    'POST /model-versions/set-tag': async (call) => {
      const { version } = await writable(call);
      mlflowOnly(version);
      const key = requiredString(call.request, 'key');
      const value = call.request.value === undefined || call.request.value === null ? '' : String(call.request.value);
      await patched(call, version, { 'mlflow.tags': { ...mlflowFieldsOf(version).tags, [key]: value } });
      return {};
    },
    'DELETE /model-versions/delete-tag': async (call) => {
      const { version } = await writable(call);
      mlflowOnly(version);
      const key = requiredString(call.request, 'key');
      const tags = { ...mlflowFieldsOf(version).tags };
      delete tags[key];
      await patched(call, version, { 'mlflow.tags': tags });
      return {};
    },
    'GET /model-versions/get-download-uri': async (call) => {
      const { version } = await found(call);
      return { artifact_uri: downloadUri(version) };
    },
    'GET /model-versions/search': (call) => search(call),
    'POST /model-versions/search': (call) => search(call),
  };

  async function search(call: MlflowCall) {
    const matches = parseRegistryFilter(optionalString(call.request, 'filter'), SEARCH_ATTRIBUTES);
    const limit = maxResults(call.request, 10_000, 200_000);
    const offset = pageOffset(call.request);
    const order = orderOf(stringList(call.request, 'order_by'));
    const readFilter = ownershipPolicy.readFilter(call.actor);
    const models = new Map(
      (await store.find('models', { filter: readFilter })).map((model) => [model._id, model] as const),
    );
    const versions = await store.find(MODEL_VERSIONS_COLLECTION, { filter: and(readFilter, eq(['format'], 'mlflow')) });
    const pmf = await store.find(MODEL_VERSIONS_COLLECTION, {
      filter: and(readFilter, { op: 'exists', path: ['format'], value: false }),
    });
    const entries = [];
    for (const version of [...versions, ...pmf]) {
      const model = models.get(String(version.modelId));
      if (!model) continue;
      const fields = mlflowFieldsOf(version);
      const candidate = {
        attributes: {
          name: String(model.name),
          version_number: Number(version.version),
          run_id: fields.runId,
          source_path: fields.source,
          source: fields.source,
          model_id: fields.loggedModelId,
          current_stage: fields.stage,
          user_id: typeof version.userId === 'string' ? version.userId : null,
        },
        tags: fields.tags,
      };
      if (matches(candidate)) entries.push({ model, version });
    }
    entries.sort(order);
    const page = entries.slice(offset, offset + limit);
    const token = nextPageToken(offset, page.length, entries.length);
    return {
      model_versions: page.map(({ model, version }) => modelVersionMessage(model, version)),
      ...(token ? { next_page_token: token } : {}),
    };
  }
}

/** A version holding files is served from them; one without (an outside source) points at its source, as in MLflow. */
function downloadUri(version: StoredDocument): string {
  const files = Array.isArray(version.files) ? version.files : [];
  if (files.length > 0 || version.format !== 'mlflow') return modelVersionArtifactUri(version._id);
  const fields = mlflowFieldsOf(version);
  return fields.storageLocation || fields.source;
}

/**
 * As MLflow's server, a logged model lists the versions registered from it in its
 * `mlflow.modelVersions` tag, written as Python's `json.dumps` writes it
 * (`[{"name": "model", "version": 1}]`), which clients compare as text.
 */
async function noteRegistration(
  context: RegistryContext,
  modelId: string,
  name: string,
  version: number,
  actor: MlflowCall['actor'],
): Promise<void> {
  try {
    await context.loggedModels.change(modelId, actor, (before) => {
      const tags = (before.tags ?? {}) as Record<string, string>;
      let listed: { name: string; version: number }[] = [];
      try {
        const parsed: unknown = JSON.parse(tags[MODEL_VERSIONS_TAG] ?? '[]');
        if (Array.isArray(parsed)) listed = parsed as typeof listed;
      } catch {
        // a tag someone overwrote with something else: start the list again
      }
      if (!listed.some((each) => each?.name === name && Number(each?.version) === version)) {
        listed.push({ name, version });
      }
      const text = `[${listed.map((each) => `{"name": ${JSON.stringify(String(each.name))}, "version": ${Number(each.version)}}`).join(', ')}]`;
      return { ...before, tags: { ...tags, [MODEL_VERSIONS_TAG]: text } };
    });
  } catch (error) {
    // Registering from a logged model one may read but not write leaves its tags alone.
    if (!(error instanceof MlflowError && error.errorCode === 'PERMISSION_DENIED')) throw error;
  }
}

async function readableRun(context: RegistryContext, runId: string, actor: MlflowCall['actor']): Promise<boolean> {
  try {
    await context.owners.run(runId, actor, 'read');
    return true;
  } catch (error) {
    if (error instanceof MlflowError && error.errorCode === 'RESOURCE_DOES_NOT_EXIST') return false;
    throw error;
  }
}

function orderOf(clauses: readonly string[]) {
  const keys = clauses.map((clause) => {
    const match = /^\s*(\S+)(?:\s+(ASC|DESC))?\s*$/i.exec(clause);
    const read = match ? ORDER_FIELDS[match[1] ?? ''] : undefined;
    if (!match || !read) {
      throw new MlflowError('INVALID_PARAMETER_VALUE', `Invalid order_by clause '${clause.slice(0, 80)}'`);
    }
    return { read, direction: match[2]?.toUpperCase() === 'DESC' ? -1 : 1 };
  });
  // MLflow's default: most recently updated first; ties by name, newest version first.
  if (keys.length === 0) keys.push({ read: BY_UPDATE, direction: -1 });
  if (!keys.some((key) => key.read === BY_NAME)) keys.push({ read: BY_NAME, direction: 1 });
  if (!keys.some((key) => key.read === BY_NUMBER)) keys.push({ read: BY_NUMBER, direction: -1 });
  return (a: Parameters<Read>[0], b: Parameters<Read>[0]): number => {
    for (const key of keys) {
      const left = key.read(a);
      const right = key.read(b);
      if (left < right) return -key.direction;
      if (left > right) return key.direction;
    }
    return 0;
  };
}

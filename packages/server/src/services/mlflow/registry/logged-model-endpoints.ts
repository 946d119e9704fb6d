/**
 * MLflow 3's logged-model endpoints (`service.proto`): create, get, finalize, search, set and
 * delete tags, log params, delete, and the artifact directory listing, over `LoggedModels`.
 */

import { eq, LarderError } from '@larder/protocol';
import type { StoredDocument } from '../../../stores/document-store.js';
import { homeOf } from '../../folders/folder-paths.js';
import { FOLDERS_COLLECTION, folderId } from '../../folders/folder-tree.js';
import { childrenOf } from '../artifacts/artifact-files.js';
import { loggedModelArtifactUri, safeSegments } from '../artifacts/artifact-locations.js';
import { DEFAULT_EXPERIMENT_ID, LOGGED_MODELS_COLLECTION } from '../artifacts/artifact-owners.js';
import type { EndpointTable, MlflowCall } from '../mlflow-endpoints.js';
import { MlflowError } from '../mlflow-errors.js';
import type { LoggedModels } from './logged-models.js';
import { experimentIdOf, loggedModelMessage, loggedModelStatus, modelMetricsOf } from './logged-models.js';
import { pathParameter } from './path-parameters.js';
import type { RegistryContext } from './registry-context.js';
import { parseRegistryFilter } from './registry-filter.js';
import {
  keyValues,
  maxResults,
  nextPageToken,
  optionalString,
  pageOffset,
  requiredString,
  stringList,
} from './request-fields.js';

const SEARCH_ATTRIBUTES = [
  'name',
  'model_id',
  'model_type',
  'status',
  'source_run_id',
  'creation_timestamp',
  'creation_time',
  'last_updated_timestamp',
];
const ORDER_FIELDS: Record<string, string> = {
  name: 'name',
  creation_timestamp: 'createdAt',
  creation_time: 'createdAt',
  last_updated_timestamp: 'updatedAt',
  model_id: '_id',
};

/** MLflow's default experiment always exists: the caller's default folder, made on first use. */
export async function ensureDefaultFolder(feature: RegistryContext['feature'], call: MlflowCall): Promise<void> {
  const path = `${homeOf(call.actor)}/default`;
  if ((await feature.store.count(FOLDERS_COLLECTION, eq(['_id'], folderId(path)))) > 0) return;
  try {
    await feature.app.service(FOLDERS_COLLECTION).create({ path }, call.params);
  } catch (error) {
    if (!(error instanceof LarderError && error.name === 'Conflict')) throw error;
  }
}

export function loggedModelEndpoints({ feature, loggedModels, owners, files }: RegistryContext): EndpointTable {
  const modelOf = async (call: MlflowCall) =>
    owners.loggedModel(pathParameter(call.ctx, 'model_id'), call.actor, 'read');

  return {
    'POST /logged-models': async (call) => {
      const { request, actor } = call;
      if (request.experiment_id === DEFAULT_EXPERIMENT_ID) await ensureDefaultFolder(feature, call);
      const model = await loggedModels.create(
        {
          experimentId: requiredString(request, 'experiment_id'),
          name: optionalString(request, 'name'),
          modelType: optionalString(request, 'model_type'),
          sourceRunId: optionalString(request, 'source_run_id'),
          tags: keyValues(request, 'tags'),
          params: keyValues(request, 'params'),
        },
        actor,
      );
      return { model: loggedModelMessage(model, actor) };
    },
    'GET /logged-models/{model_id}': async (call) => ({ model: loggedModelMessage(await modelOf(call), call.actor) }),
    'PATCH /logged-models/{model_id}': async ({ ctx, request, actor }) => {
      const status = loggedModelStatus(request.status);
      const model = await loggedModels.change(pathParameter(ctx, 'model_id'), actor, (before) => ({
        ...before,
        status,
      }));
      return { model: loggedModelMessage(model, actor) };
    },
    'DELETE /logged-models/{model_id}': async ({ ctx, actor }) => {
      await loggedModels.remove(pathParameter(ctx, 'model_id'), actor);
      return {};
    },
    'PATCH /logged-models/{model_id}/tags': async ({ ctx, request, actor }) => {
      const tags = keyValues(request, 'tags');
      const model = await loggedModels.change(pathParameter(ctx, 'model_id'), actor, (before) => ({
        ...before,
        tags: {
          ...(before.tags as Record<string, string>),
          ...Object.fromEntries(tags.map((tag) => [tag.key, tag.value])),
        },
      }));
      return { model: loggedModelMessage(model, actor) };
    },
    'DELETE /logged-models/{model_id}/tags/{tag_key}': async ({ ctx, actor }) => {
      const key = pathParameter(ctx, 'tag_key');
      const modelId = pathParameter(ctx, 'model_id');
      const current = await owners.loggedModel(modelId, actor, 'write');
      if (!Object.hasOwn((current.tags ?? {}) as object, key)) {
        throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `No tag with key '${key}' found for logged model ${modelId}`);
      }
      await loggedModels.change(modelId, actor, (before) => {
        const tags = { ...(before.tags as Record<string, string>) };
        delete tags[key];
        return { ...before, tags };
      });
      return {};
    },
    'POST /logged-models/{model_id}/params': async ({ ctx, request, actor }) => {
      const params = keyValues(request, 'params');
      await loggedModels.change(pathParameter(ctx, 'model_id'), actor, (before) => ({
        ...before,
        params: {
          ...(before.params as Record<string, string>),
          ...Object.fromEntries(params.map((param) => [param.key, param.value])),
        },
      }));
      return {};
    },
    'GET /logged-models/{model_id}/artifacts/directories': async (call) => {
      const model = await modelOf(call);
      const dir = safeSegments(optionalString(call.request, 'artifact_directory_path') ?? '', false).join('/');
      const below = await files.filesUnder(`${LOGGED_MODELS_COLLECTION}/${model._id}`, dir);
      return {
        root_uri: loggedModelArtifactUri(experimentIdOf(model, call.actor), model._id),
        files: childrenOf(below).map((entry) =>
          entry.isDir
            ? { path: dir ? `${dir}/${entry.path}` : entry.path, is_dir: true }
            : { path: dir ? `${dir}/${entry.path}` : entry.path, is_dir: false, file_size: entry.size },
        ),
      };
    },
    'POST /logged-models/search': async ({ request, actor }) => searchLoggedModels(loggedModels, request, actor),
  };
}

/** `datasets: [{ dataset_name, dataset_digest? }]` of a logged-model search: models with metrics on one of them. */
function datasetsOf(value: unknown): { name: string; digest?: string }[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    throw new MlflowError('INVALID_PARAMETER_VALUE', "'datasets' must be a list of { dataset_name, dataset_digest }");
  }
  return value.map((entry, index) => {
    const fields = (entry ?? {}) as Record<string, unknown>;
    if (typeof fields.dataset_name !== 'string' || fields.dataset_name === '') {
      throw new MlflowError('INVALID_PARAMETER_VALUE', `datasets[${index}] must name a dataset_name`);
    }
    const digest = fields.dataset_digest;
    if (digest !== undefined && digest !== null && typeof digest !== 'string') {
      throw new MlflowError('INVALID_PARAMETER_VALUE', `datasets[${index}].dataset_digest must be a string`);
    }
    return { name: fields.dataset_name, ...(typeof digest === 'string' && digest !== '' ? { digest } : {}) };
  });
}

async function searchLoggedModels(
  loggedModels: LoggedModels,
  request: MlflowCall['request'],
  actor: MlflowCall['actor'],
): Promise<Record<string, unknown>> {
  const experimentIds = stringList(request, 'experiment_ids');
  if (experimentIds.length === 0) {
    throw new MlflowError('INVALID_PARAMETER_VALUE', 'experiment_ids must name at least one experiment');
  }
  const matches = parseRegistryFilter(optionalString(request, 'filter'), SEARCH_ATTRIBUTES);
  const limit = maxResults(request, 50, 1000);
  const offset = pageOffset(request);
  const order = Array.isArray(request.order_by) ? (request.order_by as Record<string, unknown>[]) : [];
  const keys = order.map((each) => {
    const field = String(each?.field_name ?? '');
    const path = ORDER_FIELDS[field];
    if (!path)
      throw new MlflowError('INVALID_PARAMETER_VALUE', `Cannot order logged models by '${field.slice(0, 60)}'`);
    return { path, direction: each?.ascending === false ? -1 : 1 };
  });
  if (keys.length === 0) keys.push({ path: 'createdAt', direction: -1 });
  const datasets = datasetsOf(request.datasets);
  const measuredOn = (model: StoredDocument) =>
    datasets.length === 0 ||
    modelMetricsOf(model).some((metric) =>
      datasets.some(
        (dataset) =>
          metric.datasetName === dataset.name &&
          (dataset.digest === undefined || metric.datasetDigest === dataset.digest),
      ),
    );
  const models = (await loggedModels.inExperiments(experimentIds, actor)).filter(
    (model) =>
      measuredOn(model) &&
      matches({
        attributes: {
          name: String(model.name),
          model_id: model._id,
          model_type: String(model.modelType),
          status: String(model.status),
          source_run_id: String(model.sourceRunId),
          creation_timestamp: Number(model.createdAt),
          creation_time: Number(model.createdAt),
          last_updated_timestamp: Number(model.updatedAt),
        },
        tags: (model.tags ?? {}) as Record<string, string>,
        params: (model.params ?? {}) as Record<string, string>,
      }),
  );
  models.sort((a, b) => {
    for (const key of keys) {
      const left = a[key.path] as string | number;
      const right = b[key.path] as string | number;
      if (left < right) return -key.direction;
      if (left > right) return key.direction;
    }
    return a._id < b._id ? -1 : 1;
  });
  const page = models.slice(offset, offset + limit);
  const token = nextPageToken(offset, page.length, models.length);
  return {
    models: page.map((model) => loggedModelMessage(model, actor)),
    ...(token ? { next_page_token: token } : {}),
  };
}

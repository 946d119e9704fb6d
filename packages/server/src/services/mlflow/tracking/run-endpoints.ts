/**
 * MLflow's run endpoints over `/runs`: create, get, update, delete and restore (MLflow's
 * soft deletion, `mlflow.lifecycleStage`), tags, params (never changed once logged, as in
 * MLflow), log-batch, log-model (the `mlflow.log-model.history` tag), dataset inputs and
 * model outputs. Every read and write goes through the runs service as the caller.
 */
import type { EndpointDeps, EndpointTable, MlflowCall } from '../mlflow-endpoints.js';
import { MlflowError } from '../mlflow-errors.js';
import {
  type KeyValue,
  keyValues,
  listOf,
  missing,
  optionalEnum,
  optionalInteger,
  optionalString,
  requiredString,
  runIdOf,
} from '../mlflow-request-fields.js';
import { DatasetLineage } from './dataset-lineage.js';
import { DEFAULT_EXPERIMENT_ID, ExperimentFolders } from './experiment-folders.js';
import { metricPointOf } from './metric-endpoints.js';
import { MetricLogging } from './metric-logging.js';
import { randomRunName } from './run-names.js';
import {
  type DatasetInput,
  LARDER_STATUS,
  MLFLOW_STATUSES,
  RUN_NAME_TAG,
  type RunRecord,
  RunRecords,
  runInfoOf,
  STATUS_NUMBERS,
  toMlflowRun,
} from './run-records.js';
import { assertBatchSize, assertParam, assertTag } from './tracking-limits.js';

const LOG_MODEL_HISTORY_TAG = 'mlflow.log-model.history';
const USER_TAG = 'mlflow.user';

function assertActive(record: RunRecord): void {
  if (record.mlflow?.lifecycleStage === 'deleted') {
    throw new MlflowError(
      'INVALID_PARAMETER_VALUE',
      `The run ${record._id} must be in the 'active' state to be changed; it is deleted (restore it first)`,
    );
  }
}

/** The patch that sets params, refusing a changed value as MLflow does. */
function paramsPatch(record: RunRecord, params: readonly KeyValue[]): Record<string, unknown> | undefined {
  const hparams = { ...(record.hparams ?? {}) };
  let changed = false;
  const seen = new Map<string, string>();
  for (const { key, value } of params) {
    const earlier = seen.get(key);
    if (earlier !== undefined && earlier !== value) {
      throw new MlflowError(
        'INVALID_PARAMETER_VALUE',
        `The batch logs param '${key}' twice with different values ('${earlier}' and '${value}')`,
      );
    }
    seen.set(key, value);
    if (Object.hasOwn(hparams, key)) {
      const stored = hparams[key];
      const text = typeof stored === 'string' ? stored : JSON.stringify(stored);
      if (text !== value) {
        throw new MlflowError(
          'INVALID_PARAMETER_VALUE',
          `Changing param values is not allowed: param '${key}' of run ${record._id} was logged as '${text}', not '${value}'`,
        );
      }
      continue;
    }
    hparams[key] = value;
    changed = true;
  }
  return changed ? { hparams } : undefined;
}

/** The patch that sets tags; `mlflow.runName` renames the run. */
function tagsPatch(record: RunRecord, tags: readonly KeyValue[]): Record<string, unknown> {
  const next = { ...(record.tags ?? {}) };
  const patch: Record<string, unknown> = {};
  for (const { key, value } of tags) {
    if (key === RUN_NAME_TAG) patch.name = value;
    else next[key] = value;
  }
  return { ...patch, tags: next };
}

export function runEndpoints(deps: EndpointDeps): EndpointTable {
  const runs = new RunRecords(deps);
  const experiments = new ExperimentFolders(deps);
  const metrics = new MetricLogging(deps);
  const lineage = new DatasetLineage(deps);

  const changeActive = (call: MlflowCall, change: (record: RunRecord) => Record<string, unknown> | undefined) =>
    runs.change(call, runIdOf(call.request), (record) => {
      assertActive(record);
      return change(record);
    });

  const setStage = async (call: MlflowCall, stage: 'active' | 'deleted') => {
    await runs.change(call, runIdOf(call.request), (record) =>
      (record.mlflow?.lifecycleStage ?? 'active') === stage
        ? undefined
        : { 'mlflow.lifecycleStage': stage, 'mlflow.deletedTime': stage === 'deleted' ? Date.now() : null },
    );
    return {};
  };

  return {
    'POST /runs/create': async (call) => {
      const { request, actor } = call;
      const experimentId = optionalString(request, 'experiment_id', true) ?? DEFAULT_EXPERIMENT_ID;
      const folder = await experiments.byId(call, experimentId);
      if (folder.mlflow?.lifecycleStage === 'deleted') {
        throw new MlflowError('INVALID_STATE', `Experiment ${experimentId} is deleted; restore it to add runs`);
      }
      const tags = keyValues(request.tags, 'tags');
      for (const tag of tags) assertTag(tag);
      const nameTag = tags.find((tag) => tag.key === RUN_NAME_TAG)?.value;
      const name = optionalString(request, 'run_name', true) ?? (nameTag || undefined) ?? randomRunName();
      const startTime = optionalInteger(request, 'start_time') ?? Date.now();
      const userId =
        optionalString(request, 'user_id', true) ??
        tags.find((tag) => tag.key === USER_TAG)?.value ??
        (actor.kind === 'user' ? actor.user.email : '');
      const tagMap = Object.fromEntries(
        tags.filter((tag) => tag.key !== RUN_NAME_TAG).map((tag) => [tag.key, tag.value]),
      );
      const created = await runs.create(call, {
        name,
        folder: folder.path,
        status: 'Running',
        startTime: new Date(startTime).toISOString(),
        hparams: {},
        tags: tagMap,
        mlflow: { lifecycleStage: 'active', userId },
      });
      return { run: toMlflowRun(actor, created, experiments.idOf(actor, folder)) };
    },

    'GET /runs/get': async (call) => {
      const record = await runs.get(call, runIdOf(call.request));
      return { run: toMlflowRun(call.actor, record, await experiments.idOfPath(call.actor, record.folder ?? '')) };
    },

    'POST /runs/update': async (call) => {
      const status = optionalEnum(call.request, 'status', MLFLOW_STATUSES, STATUS_NUMBERS);
      const endTime = optionalInteger(call.request, 'end_time');
      const runName = optionalString(call.request, 'run_name', true);
      const updated = await changeActive(call, () => ({
        ...(status ? { status: LARDER_STATUS[status] } : {}),
        ...(endTime !== undefined ? { endTime: new Date(endTime).toISOString() } : {}),
        ...(runName !== undefined ? { name: runName } : {}),
      }));
      return { run_info: runInfoOf(call.actor, updated, await experiments.idOfPath(call.actor, updated.folder ?? '')) };
    },

    'POST /runs/delete': (call) => setStage(call, 'deleted'),
    'POST /runs/restore': (call) => setStage(call, 'active'),

    'POST /runs/set-tag': async (call) => {
      runIdOf(call.request);
      const tag = { key: requiredString(call.request, 'key'), value: optionalString(call.request, 'value') ?? '' };
      assertTag(tag);
      await changeActive(call, (record) => tagsPatch(record, [tag]));
      return {};
    },

    'POST /runs/delete-tag': async (call) => {
      runIdOf(call.request);
      const key = requiredString(call.request, 'key');
      await changeActive(call, (record) => {
        if (!Object.hasOwn(record.tags ?? {}, key)) {
          throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `No tag with name: ${key} in run with id ${record._id}`);
        }
        const tags = { ...record.tags };
        delete tags[key];
        return { tags };
      });
      return {};
    },

    'POST /runs/log-parameter': async (call) => {
      runIdOf(call.request);
      const param = { key: requiredString(call.request, 'key'), value: optionalString(call.request, 'value') ?? '' };
      assertParam(param);
      await changeActive(call, (record) => paramsPatch(record, [param]));
      return {};
    },

    'POST /runs/log-batch': async (call) => {
      const { request } = call;
      runIdOf(request);
      const points = listOf(request, 'metrics').map((metric, index) => metricPointOf(metric, `metrics[${index}]`));
      const params = keyValues(request.params, 'params');
      const tags = keyValues(request.tags, 'tags');
      assertBatchSize(points.length, params.length, tags.length);
      for (const param of params) assertParam(param);
      for (const tag of tags) assertTag(tag);
      let run = await runs.get(call, runIdOf(request));
      assertActive(run);
      if (params.length > 0 || tags.length > 0) {
        run = await changeActive(call, (record) => {
          const patch = { ...(params.length > 0 ? paramsPatch(record, params) : {}) };
          return tags.length > 0
            ? { ...patch, ...tagsPatch(record, tags) }
            : Object.keys(patch).length > 0
              ? patch
              : undefined;
        });
      }
      await metrics.log(call, run, points);
      return {};
    },

    'POST /runs/log-model': async (call) => {
      const text = requiredString(call.request, 'model_json');
      let model: unknown;
      try {
        model = JSON.parse(text);
      } catch (error) {
        throw new MlflowError('INVALID_PARAMETER_VALUE', `'model_json' is not JSON: ${(error as Error).message}`);
      }
      const fields = ['artifact_path', 'flavors', 'utc_time_created', 'run_id'];
      const absent = fields.filter((field) => (model as Record<string, unknown> | null)?.[field] === undefined);
      if (model === null || typeof model !== 'object' || Array.isArray(model) || absent.length > 0) {
        throw new MlflowError('INVALID_PARAMETER_VALUE', `'model_json' lacks ${absent.join(', ')}`);
      }
      await changeActive(call, (record) => {
        let history: unknown[] = [];
        try {
          const stored = JSON.parse(record.tags?.[LOG_MODEL_HISTORY_TAG] ?? '[]');
          if (Array.isArray(stored)) history = stored;
        } catch {}
        return { tags: { ...record.tags, [LOG_MODEL_HISTORY_TAG]: JSON.stringify([...history, model]) } };
      });
      return {};
    },

    'POST /runs/log-inputs': async (call) => {
      runIdOf(call.request);
      const inputs = listOf(call.request, 'datasets').map((entry, index) => datasetInputOf(entry, index));
      const models = listOf(call.request, 'models').map((entry, index) => {
        const { model_id: modelId } = (entry ?? {}) as { model_id?: unknown };
        if (typeof modelId !== 'string' || modelId === '') throw missing(`models[${index}].model_id`);
        return { model_id: modelId };
      });
      const run = await runs.get(call, runIdOf(call.request));
      assertActive(run);
      for (const input of inputs) {
        const versionId = await lineage.versionOf(call, input);
        if (versionId) input.versionId = versionId;
      }
      await changeActive(call, (record) => {
        const datasets = [...(record.mlflow?.datasets ?? [])];
        for (const input of inputs) {
          const same = datasets.findIndex((each) => each.name === input.name && each.digest === input.digest);
          if (same >= 0) datasets[same] = input;
          else datasets.push(input);
        }
        const associations = (record.associations ?? {}) as {
          inputs?: { kind: string; id: string }[];
          outputs?: unknown[];
        };
        const linked = [...(associations.inputs ?? [])];
        for (const input of inputs) {
          if (
            input.versionId &&
            !linked.some((node) => node.kind === 'dataset-version' && node.id === input.versionId)
          ) {
            linked.push({ kind: 'dataset-version', id: input.versionId });
          }
        }
        const contexts = datasets.flatMap((each) =>
          each.tags.filter((tag) => tag.key === 'mlflow.data.context').map((tag) => tag.value),
        );
        const modelInputs = [...(record.mlflow?.modelInputs ?? [])];
        for (const model of models) {
          if (!modelInputs.some((each) => each.model_id === model.model_id)) modelInputs.push(model);
        }
        return {
          'mlflow.modelInputs': modelInputs,
          'mlflow.datasets': datasets,
          'mlflow.datasetNames': [...new Set(datasets.map((each) => each.name))],
          'mlflow.datasetDigests': [...new Set(datasets.map((each) => each.digest))],
          'mlflow.datasetContexts': [...new Set(contexts)],
          associations: { ...associations, inputs: linked, outputs: associations.outputs ?? [] },
        };
      });
      return {};
    },

    'POST /runs/outputs': async (call) => {
      const models = listOf(call.request, 'models').map((entry, index) => {
        const { model_id: modelId, step } = (entry ?? {}) as { model_id?: unknown; step?: unknown };
        if (typeof modelId !== 'string' || modelId === '') {
          throw new MlflowError(
            'INVALID_PARAMETER_VALUE',
            `Missing value for required parameter 'models[${index}].model_id'`,
          );
        }
        return { model_id: modelId, step: typeof step === 'number' ? step : Number(step ?? 0) || 0 };
      });
      await changeActive(call, (record) => ({
        'mlflow.modelOutputs': [...(record.mlflow?.modelOutputs ?? []), ...models],
      }));
      return {};
    },
  };
}

function datasetInputOf(entry: unknown, index: number): DatasetInput {
  const { dataset, tags } = (entry ?? {}) as { dataset?: Record<string, unknown>; tags?: unknown };
  const field = (name: string, required: boolean): string | undefined => {
    const value = dataset?.[name];
    if (value === undefined || value === null) {
      if (required) {
        throw new MlflowError(
          'INVALID_PARAMETER_VALUE',
          `Missing value for required parameter 'datasets[${index}].dataset.${name}'`,
        );
      }
      return undefined;
    }
    if (typeof value !== 'string') {
      throw new MlflowError('INVALID_PARAMETER_VALUE', `'datasets[${index}].dataset.${name}' must be a string`);
    }
    return value;
  };
  const schema = field('schema', false);
  const profile = field('profile', false);
  return {
    name: field('name', true) as string,
    digest: field('digest', true) as string,
    source_type: field('source_type', true) as string,
    source: field('source', true) as string,
    ...(schema !== undefined ? { schema } : {}),
    ...(profile !== undefined ? { profile } : {}),
    tags: keyValues(tags, `datasets[${index}].tags`),
  };
}

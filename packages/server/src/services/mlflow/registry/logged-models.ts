/**
 * MLflow 3 logged models: the model a `log_model` call creates before its files are
 * uploaded, then finalizes. One record each in `_mlflow_logged_models` (id `m-<32 hex>`, its
 * experiment, name, type, source run, status, tags and params); its files are artifact
 * records like a run's (`artifacts/artifact-files.ts`). Permitted by the experiment's folder:
 * whoever may read the folder reads its logged models, its writers write them.
 */
import { randomBytes } from 'node:crypto';
import { eq } from '@larder/protocol';
import type { Actor } from '../../../auth/actor.js';
import type { DocumentStore, StoredDocument } from '../../../stores/document-store.js';
import { homeOf } from '../../folders/folder-paths.js';
import { type ArtifactFiles, artifactOwner } from '../artifacts/artifact-files.js';
import { loggedModelArtifactUri } from '../artifacts/artifact-locations.js';
import { type ArtifactOwners, DEFAULT_EXPERIMENT_ID, LOGGED_MODELS_COLLECTION } from '../artifacts/artifact-owners.js';
import { MlflowError } from '../mlflow-errors.js';
import { wireDouble } from '../tracking/run-records.js';

export const LOGGED_MODEL_STATUSES = [
  'LOGGED_MODEL_STATUS_UNSPECIFIED',
  'LOGGED_MODEL_PENDING',
  'LOGGED_MODEL_READY',
  'LOGGED_MODEL_UPLOAD_FAILED',
] as const;
export type LoggedModelStatus = (typeof LOGGED_MODEL_STATUSES)[number];

export interface NewLoggedModel {
  experimentId: string;
  name: string | undefined;
  modelType: string | undefined;
  sourceRunId: string | undefined;
  tags: { key: string; value: string }[];
  params: { key: string; value: string }[];
}

/** A metric point as the tracking endpoints read it, naming its dataset when it has one. */
export interface ModelMetricPoint {
  key: string;
  value: number;
  timestamp: number;
  step: number;
  datasetName?: string;
  datasetDigest?: string;
}

/** A metric kept on a logged model. */
export interface ModelMetric extends ModelMetricPoint {
  runId: string;
}

/** The metrics kept on a logged model. */
export function modelMetricsOf(model: StoredDocument): ModelMetric[] {
  return Array.isArray(model.metrics) ? (model.metrics as unknown as ModelMetric[]) : [];
}

export class LoggedModels {
  constructor(
    private readonly store: DocumentStore,
    private readonly owners: ArtifactOwners,
    private readonly files: ArtifactFiles,
  ) {}

  async create(input: NewLoggedModel, actor: Actor): Promise<StoredDocument> {
    const folder = await this.owners.experiment(input.experimentId, actor, 'write');
    const now = Date.now();
    const record: StoredDocument = {
      _id: `m-${randomBytes(16).toString('hex')}`,
      folderId: folder._id,
      folderPath: String(folder.path),
      name: input.name || generatedName(),
      modelType: input.modelType ?? '',
      sourceRunId: input.sourceRunId ?? '',
      status: 'LOGGED_MODEL_PENDING',
      statusMessage: '',
      tags: Object.fromEntries(input.tags.map((tag) => [tag.key, tag.value])),
      params: Object.fromEntries(input.params.map((param) => [param.key, param.value])),
      ...(actor.kind === 'user' ? { userId: actor.user._id } : {}),
      createdAt: now,
      updatedAt: now,
    };
    await this.store.ensureCollection(LOGGED_MODELS_COLLECTION);
    await this.store.insert(LOGGED_MODELS_COLLECTION, [record]);
    return record;
  }

  /** Changes a model the actor may write, atomically. */
  async change(
    modelId: string,
    actor: Actor,
    change: (model: StoredDocument) => StoredDocument,
  ): Promise<StoredDocument> {
    await this.owners.loggedModel(modelId, actor, 'write');
    const [changed] = await this.store.modify(LOGGED_MODELS_COLLECTION, eq(['_id'], modelId), (model) => ({
      ...change(model),
      updatedAt: Date.now(),
    }));
    if (!changed) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Logged model with ID '${modelId}' not found`);
    return changed.after;
  }

  /**
   * Keeps metric points logged with this model's id (`log_metric(..., model_id=)`) on the
   * model: the latest point (by step, then time) of each key, dataset and run, as the
   * model's `data.metrics`. The caller must be able to write the model.
   */
  async recordMetrics(
    modelId: string,
    actor: Actor,
    runId: string,
    points: readonly ModelMetricPoint[],
  ): Promise<void> {
    await this.change(modelId, actor, (model) => {
      const kept = new Map<string, ModelMetric>();
      const identity = (metric: ModelMetric) =>
        JSON.stringify([metric.key, metric.datasetName ?? '', metric.datasetDigest ?? '', metric.runId]);
      for (const metric of modelMetricsOf(model)) kept.set(identity(metric), metric);
      for (const point of points) {
        const metric: ModelMetric = {
          key: point.key,
          value: point.value,
          timestamp: point.timestamp,
          step: point.step,
          runId,
          ...(point.datasetName ? { datasetName: point.datasetName } : {}),
          ...(point.datasetDigest ? { datasetDigest: point.datasetDigest } : {}),
        };
        const previous = kept.get(identity(metric));
        const newer =
          !previous ||
          metric.step > previous.step ||
          (metric.step === previous.step && metric.timestamp >= previous.timestamp);
        if (newer) kept.set(identity(metric), metric);
      }
      return { ...model, metrics: [...kept.values()] as unknown as StoredDocument[] };
    });
  }

  /** Removes a model and its files. */
  async remove(modelId: string, actor: Actor): Promise<void> {
    await this.owners.loggedModel(modelId, actor, 'write');
    await this.store.remove(LOGGED_MODELS_COLLECTION, eq(['_id'], modelId));
    await this.files.remove(artifactOwner(LOGGED_MODELS_COLLECTION, modelId), '');
  }

  /** Every model of the experiments the actor may read among `experimentIds`. */
  async inExperiments(experimentIds: readonly string[], actor: Actor): Promise<StoredDocument[]> {
    const folders = new Set<string>();
    for (const experimentId of experimentIds) {
      try {
        folders.add((await this.owners.experiment(experimentId, actor, 'read'))._id);
      } catch (error) {
        if (error instanceof MlflowError && error.errorCode === 'RESOURCE_DOES_NOT_EXIST') continue;
        throw error;
      }
    }
    const models: StoredDocument[] = [];
    for (const folder of folders) {
      models.push(...(await this.store.find(LOGGED_MODELS_COLLECTION, { filter: eq(['folderId'], folder) })));
    }
    return models;
  }
}

/** The experiment id of a logged model as `actor` sees it (`0` for their own default folder). */
export function experimentIdOf(model: StoredDocument, actor: Actor): string {
  return model.folderPath === `${homeOf(actor)}/default` ? DEFAULT_EXPERIMENT_ID : String(model.folderId);
}

/** A logged model as MLflow's `LoggedModel` message, seen by `actor`. */
export function loggedModelMessage(model: StoredDocument, actor: Actor): Record<string, unknown> {
  const experimentId = experimentIdOf(model, actor);
  const pairs = (value: unknown) =>
    Object.entries((value ?? {}) as Record<string, string>).map(([key, each]) => ({ key, value: each }));
  return {
    info: {
      model_id: model._id,
      experiment_id: experimentId,
      name: String(model.name),
      creation_timestamp_ms: Number(model.createdAt),
      last_updated_timestamp_ms: Number(model.updatedAt),
      artifact_uri: loggedModelArtifactUri(experimentId, model._id),
      status: String(model.status),
      ...(model.modelType ? { model_type: String(model.modelType) } : {}),
      ...(model.sourceRunId ? { source_run_id: String(model.sourceRunId) } : {}),
      ...(model.statusMessage ? { status_message: String(model.statusMessage) } : {}),
      tags: pairs(model.tags),
    },
    data: {
      params: pairs(model.params),
      metrics: modelMetricsOf(model).map((metric) => ({
        key: metric.key,
        value: wireDouble(metric.value),
        timestamp: metric.timestamp,
        step: metric.step,
        run_id: metric.runId,
        model_id: model._id,
        ...(metric.datasetName ? { dataset_name: metric.datasetName } : {}),
        ...(metric.datasetDigest ? { dataset_digest: metric.datasetDigest } : {}),
      })),
    },
  };
}

/** A status as MLflow's JSON sends it: the enum name, or its number. */
export function loggedModelStatus(value: unknown): LoggedModelStatus {
  if (typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value))) {
    const byNumber = LOGGED_MODEL_STATUSES[Number(value)];
    if (byNumber) return byNumber;
  }
  const byName = LOGGED_MODEL_STATUSES.find((status) => status === value);
  if (!byName) {
    throw new MlflowError('INVALID_PARAMETER_VALUE', `status must be one of ${LOGGED_MODEL_STATUSES.join(', ')}`);
  }
  return byName;
}

const ADJECTIVES = [
  'able',
  'bold',
  'calm',
  'deft',
  'eager',
  'fair',
  'glad',
  'keen',
  'lucid',
  'merry',
  'noble',
  'quick',
];
const NOUNS = ['ant', 'bee', 'crow', 'deer', 'eel', 'fox', 'gnu', 'hare', 'ibis', 'jay', 'koi', 'lynx'];

/** MLflow-style `<adjective>-<animal>-<number>` names for models logged without one. */
function generatedName(): string {
  const [a = 0, b = 0, c = 0] = randomBytes(3);
  return `${ADJECTIVES[a % ADJECTIVES.length]}-${NOUNS[b % NOUNS.length]}-${c}`;
}

/**
 * MLflow runs are Larder runs (`/runs`), read and written through the runs service as the
 * caller. The mapping: run name ↔ `name` (and the `mlflow.runName` tag), status ↔ `status`
 * (RUNNING/FINISHED/FAILED/KILLED/SCHEDULED ↔ Running/Complete/Failed/Interrupted/Scheduled),
 * start/end times in ms ↔ `startTime`/`endTime` (ISO 8601), params ↔ `hparams` (MLflow's
 * strings kept exactly; Larder's own values read as text, nested objects flattened with
 * dots), tags ↔ `tags` (key → value), latest metrics ↔ the `metrics.<type>.<name>` summaries.
 * What runs do not model is under `mlflow` (lifecycle stage, user id, dataset inputs).
 */
import { isValidRecordId, LarderError } from '@larder/protocol';
import type { Actor } from '../../../auth/actor.js';
import type { StoredDocument } from '../../../stores/document-store.js';
import { folderId } from '../../folders/folder-tree.js';
import { runArtifactUri } from '../artifacts/artifact-locations.js';
import type { EndpointDeps, MlflowCall } from '../mlflow-endpoints.js';
import { MlflowError } from '../mlflow-errors.js';
import { DEFAULT_EXPERIMENT_ID, defaultFolderOf } from './experiment-folders.js';
import { metricKeyOfSeries } from './metric-keys.js';

export const RUN_NAME_TAG = 'mlflow.runName';

export const MLFLOW_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;
export type MlflowStatus = (typeof MLFLOW_STATUSES)[number];
/** protobuf's numbers for RunStatus, which JSON bodies may use. */
export const STATUS_NUMBERS: Record<number, MlflowStatus> = {
  1: 'RUNNING',
  2: 'SCHEDULED',
  3: 'FINISHED',
  4: 'FAILED',
  5: 'KILLED',
};

export const LARDER_STATUS: Record<MlflowStatus, string> = {
  RUNNING: 'Running',
  SCHEDULED: 'Scheduled',
  FINISHED: 'Complete',
  FAILED: 'Failed',
  KILLED: 'Interrupted',
};

/** Larder's statuses as MLflow's; any other status (Marcelle's `epoch`…) reads as RUNNING. */
export function mlflowStatusOf(status: unknown): MlflowStatus {
  const found = (Object.entries(LARDER_STATUS) as [MlflowStatus, string][]).find(([, larder]) => larder === status);
  return found ? found[0] : 'RUNNING';
}

export interface DatasetInput {
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema?: string;
  profile?: string;
  tags: { key: string; value: string }[];
  /** The Larder dataset version it is linked to in lineage. */
  versionId?: string;
}

export interface RunState {
  lifecycleStage?: 'active' | 'deleted';
  deletedTime?: number;
  userId?: string;
  artifactUri?: string;
  datasets?: DatasetInput[];
  /** Flat lists for `datasets.<name|digest|context>` filters. */
  datasetNames?: string[];
  datasetDigests?: string[];
  datasetContexts?: string[];
  modelInputs?: { model_id: string }[];
  modelOutputs?: { model_id: string; step: number }[];
  /** Bumped by every MLflow write, so concurrent writers of params and tags never lose one. */
  revision?: number;
}

export type RunRecord = StoredDocument & {
  name?: string;
  folder?: string;
  status?: string;
  startTime?: string;
  endTime?: string | null;
  hparams?: Record<string, unknown>;
  tags?: Record<string, string>;
  metrics?: Record<string, Record<string, { last?: number | null; step?: number; time?: number }>>;
  mlflow?: RunState;
};

export function experimentIdOfRun(actor: Actor, record: RunRecord): string {
  const folder = record.folder ?? '';
  return folder === defaultFolderOf(actor) ? DEFAULT_EXPERIMENT_ID : folderId(folder);
}

/** Params as MLflow's strings: Larder's own values as text, nested objects as dotted keys. */
export function paramsOf(hparams: unknown, prefix = '', out: { key: string; value: string }[] = []) {
  if (hparams === null || typeof hparams !== 'object' || Array.isArray(hparams)) return out;
  for (const [key, value] of Object.entries(hparams)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) paramsOf(value, name, out);
    else out.push({ key: name, value: typeof value === 'string' ? value : JSON.stringify(value) });
  }
  return out;
}

const msOf = (iso: unknown): number | undefined => {
  if (typeof iso !== 'string') return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
};

/** A double as protobuf JSON writes it: NaN and infinities as strings. */
export function wireDouble(value: number | null | undefined): number | string {
  if (value === null || value === undefined || Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  return value;
}

/** `experimentId`: the run's experiment when known (a renamed experiment keeps its old id). */
export function runInfoOf(actor: Actor, record: RunRecord, experimentId = experimentIdOfRun(actor, record)) {
  const endTime = msOf(record.endTime);
  return {
    run_id: record._id,
    run_uuid: record._id,
    run_name: record.name ?? '',
    experiment_id: experimentId,
    user_id: record.mlflow?.userId ?? (typeof record.userId === 'string' ? record.userId : ''),
    status: mlflowStatusOf(record.status),
    start_time: msOf(record.startTime) ?? msOf(record.createdAt) ?? 0,
    ...(endTime !== undefined ? { end_time: endTime } : {}),
    artifact_uri: record.mlflow?.artifactUri ?? runArtifactUri(experimentId, record._id),
    lifecycle_stage: record.mlflow?.lifecycleStage ?? 'active',
  };
}

/** The MLflow Run message of a Larder run. */
export function toMlflowRun(actor: Actor, record: RunRecord, experimentId?: string): Record<string, unknown> {
  const metrics: Record<string, unknown>[] = [];
  for (const [type, byName] of Object.entries(record.metrics ?? {})) {
    for (const [name, summary] of Object.entries(byName ?? {})) {
      metrics.push({
        key: metricKeyOfSeries(type, name),
        value: wireDouble(summary?.last),
        timestamp: summary?.time ?? 0,
        step: summary?.step ?? 0,
      });
    }
  }
  const tags = Object.entries(record.tags ?? {}).map(([key, value]) => ({ key, value: String(value) }));
  if (!Object.hasOwn(record.tags ?? {}, RUN_NAME_TAG)) tags.push({ key: RUN_NAME_TAG, value: record.name ?? '' });
  return {
    info: runInfoOf(actor, record, experimentId),
    data: { metrics, params: paramsOf(record.hparams), tags },
    inputs: {
      dataset_inputs: (record.mlflow?.datasets ?? []).map(({ tags: inputTags, versionId: _, ...dataset }) => ({
        tags: inputTags,
        dataset,
      })),
      model_inputs: record.mlflow?.modelInputs ?? [],
    },
    outputs: { model_outputs: record.mlflow?.modelOutputs ?? [] },
  };
}

export class RunRecords {
  constructor(private readonly deps: EndpointDeps) {}

  private get runs() {
    return this.deps.app.service('runs');
  }

  /** The run if the caller may read it; RESOURCE_DOES_NOT_EXIST otherwise. */
  async get(call: MlflowCall, runId: string): Promise<RunRecord> {
    const notFound = new MlflowError('RESOURCE_DOES_NOT_EXIST', `Run with id=${runId} not found`);
    if (!isValidRecordId(runId)) throw notFound;
    try {
      return (await this.runs.get(runId, call.params)) as RunRecord;
    } catch (error) {
      if (error instanceof LarderError && error.name === 'NotFound') throw notFound;
      throw error;
    }
  }

  async create(call: MlflowCall, fields: Record<string, unknown>): Promise<RunRecord> {
    return (await this.runs.create(fields, call.params)) as RunRecord;
  }

  /**
   * Changes a run from its current state: `change` gets the record and answers the patch
   * (or `undefined` for no write). The patch is applied only if no other MLflow write came in
   * between (the `mlflow.revision` guard), else it is recomputed on the new state.
   */
  async change(
    call: MlflowCall,
    runId: string,
    change: (record: RunRecord) => Record<string, unknown> | undefined,
  ): Promise<RunRecord> {
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const record = await this.get(call, runId);
      const patch = change(record);
      if (!patch) return record;
      const revision = record.mlflow?.revision;
      const guard =
        revision === undefined ? { 'mlflow.revision': { $exists: false } } : { 'mlflow.revision': revision };
      try {
        return (await this.runs.patch(
          runId,
          { ...patch, 'mlflow.revision': (revision ?? 0) + 1 },
          { ...call.params, query: guard },
        )) as RunRecord;
      } catch (error) {
        // NotFound here means the guard missed: someone else wrote first. Read again.
        if (!(error instanceof LarderError && error.name === 'NotFound')) throw error;
      }
    }
    throw new MlflowError('TEMPORARILY_UNAVAILABLE', `Run ${runId} is being changed by many writers at once; retry`);
  }
}

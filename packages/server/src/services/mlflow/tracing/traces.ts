/**
 * MLflow 3 traces: what `@mlflow.trace`, `mlflow.start_span` and GenAI autologging record.
 * One record each in `_mlflow_traces` (the trace info: id, the experiment's folder, times,
 * state, previews, metadata, tags); the spans are the trace's data, `traces.json`, which the
 * client uploads through the artifact proxy to `<experiment>/traces/<trace id>/artifacts/`
 * and which is kept as an artifact record like a run's files (a blob, held by the record).
 * Permitted by the experiment's folder, through `ArtifactOwners`, as logged models are: whoever
 * may read the folder reads its traces, its writers write them; another user's trace answers
 * RESOURCE_DOES_NOT_EXIST, as a missing one does.
 */
import { and, eq, type Filter, or } from '@larder/protocol';
import type { Actor } from '../../../auth/actor.js';
import type { DocumentStore, StoredDocument } from '../../../stores/document-store.js';
import { homeOf } from '../../folders/folder-paths.js';
import { type ArtifactFiles, artifactOwner } from '../artifacts/artifact-files.js';
import { traceArtifactUri } from '../artifacts/artifact-locations.js';
import { type ArtifactOwners, DEFAULT_EXPERIMENT_ID, TRACES_COLLECTION } from '../artifacts/artifact-owners.js';
import { MlflowError } from '../mlflow-errors.js';

export const TRACE_STATES = ['STATE_UNSPECIFIED', 'OK', 'ERROR', 'IN_PROGRESS'] as const;
export type TraceState = (typeof TRACE_STATES)[number];

/** The tag MLflow's server sets on every trace: where the client puts and gets its spans. */
export const ARTIFACT_LOCATION_TAG = 'mlflow.artifactLocation';

/** A trace info as the client sends it, checked. */
export interface TraceInfoInput {
  traceId: string;
  experimentId: string;
  clientRequestId: string | undefined;
  requestPreview: string | undefined;
  responsePreview: string | undefined;
  requestTime: number;
  executionDuration: number | undefined;
  state: TraceState;
  metadata: Record<string, string>;
  tags: Record<string, string>;
}

export class Traces {
  private indexed = false;

  constructor(
    private readonly store: DocumentStore,
    private readonly owners: ArtifactOwners,
    private readonly files: ArtifactFiles,
  ) {}

  /**
   * Records a trace in an experiment the actor may write (StartTraceV3, which the client calls
   * when the trace ends). The same id sent again (a retry) updates the trace, its metadata and
   * tags merged; an id taken in another experiment, or by a trace the actor may not write, is
   * refused and nothing changes.
   */
  async start(input: TraceInfoInput, actor: Actor): Promise<StoredDocument> {
    const folder = await this.owners.experiment(input.experimentId, actor, 'write');
    await this.prepare();
    const fields = {
      folderId: folder._id,
      folderPath: String(folder.path),
      clientRequestId: input.clientRequestId ?? '',
      requestPreview: input.requestPreview ?? '',
      responsePreview: input.responsePreview ?? '',
      requestTime: input.requestTime,
      executionDuration: input.executionDuration ?? null,
      state: input.state,
    };
    const [existing] = await this.store.find(TRACES_COLLECTION, { filter: eq(['_id'], input.traceId), limit: 1 });
    if (existing) {
      const taken = new MlflowError('RESOURCE_ALREADY_EXISTS', `Trace with ID '${input.traceId}' already exists.`);
      if (existing.folderId !== folder._id) throw taken;
      const [changed] = await this.store.modify(TRACES_COLLECTION, eq(['_id'], input.traceId), (trace) => ({
        ...trace,
        ...fields,
        metadata: { ...stringMap(trace.metadata), ...input.metadata },
        tags: { ...stringMap(trace.tags), ...input.tags },
        updatedAt: Date.now(),
      }));
      if (!changed) throw taken;
      return changed.after;
    }
    const now = Date.now();
    const record: StoredDocument = {
      _id: input.traceId,
      ...fields,
      metadata: input.metadata,
      tags: input.tags,
      ...(actor.kind === 'user' ? { userId: actor.user._id } : {}),
      createdAt: now,
      updatedAt: now,
    };
    await this.store.insert(TRACES_COLLECTION, [record]);
    return record;
  }

  /** Sets (`value` a string) or deletes (`value` undefined) a tag of a trace the actor may write. */
  async changeTag(traceId: string, key: string, value: string | undefined, actor: Actor): Promise<void> {
    const trace = await this.owners.trace(traceId, actor, 'write');
    const tags = stringMap(trace.tags);
    if (value === undefined && !Object.hasOwn(tags, key)) {
      throw new MlflowError(
        'RESOURCE_DOES_NOT_EXIST',
        `No trace tag with key '${key.slice(0, 250)}' for trace with ID '${traceId}'`,
      );
    }
    await this.store.modify(TRACES_COLLECTION, eq(['_id'], traceId), (current) => {
      const next = { ...stringMap(current.tags) };
      if (value === undefined) delete next[key];
      else next[key] = value;
      return { ...current, tags: next, updatedAt: Date.now() };
    });
  }

  /**
   * Links traces the actor may write to a run they may read (`link_traces_to_run`): a trace
   * searched with `run_id = '<run>'` is found by its linked runs as by the run it was recorded in.
   * Every trace is checked before any changes.
   */
  async linkRun(traceIds: readonly string[], runId: string, actor: Actor): Promise<void> {
    await this.owners.run(runId, actor, 'read');
    for (const traceId of traceIds) await this.owners.trace(traceId, actor, 'write');
    await this.store.modify(TRACES_COLLECTION, anyOf('_id', traceIds), (trace) => {
      const runIds = Array.isArray(trace.runIds) ? trace.runIds.map(String) : [];
      return runIds.includes(runId) ? trace : { ...trace, runIds: [...runIds, runId], updatedAt: Date.now() };
    });
  }

  /** Every trace of the experiments the actor may read among `experimentIds`, newest first. */
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
    if (folders.size === 0) return [];
    return this.store.find(TRACES_COLLECTION, {
      filter: anyOf('folderId', [...folders]),
      sort: [
        { path: ['requestTime'], direction: -1 },
        { path: ['_id'], direction: 1 },
      ],
    });
  }

  /**
   * Deletes traces of an experiment the actor may write: the ids given (those in the
   * experiment), or the oldest `maxTraces` older than `maxTimestamp`, with their span data.
   */
  async remove(
    experimentId: string,
    selection: { traceIds: string[] } | { maxTimestamp: number; maxTraces: number | undefined },
    actor: Actor,
  ): Promise<number> {
    const folder = await this.owners.experiment(experimentId, actor, 'write');
    let ids: string[];
    if ('traceIds' in selection) {
      ids = selection.traceIds;
    } else {
      const oldest = await this.store.find(TRACES_COLLECTION, {
        filter: and(eq(['folderId'], folder._id), { op: 'lte', path: ['requestTime'], value: selection.maxTimestamp }),
        sort: [
          { path: ['requestTime'], direction: 1 },
          { path: ['_id'], direction: 1 },
        ],
        limit: selection.maxTraces,
      });
      ids = oldest.map((trace) => trace._id);
    }
    if (ids.length === 0) return 0;
    const removed = await this.store.remove(TRACES_COLLECTION, and(eq(['folderId'], folder._id), anyOf('_id', ids)));
    for (const trace of removed) await this.files.remove(artifactOwner(TRACES_COLLECTION, trace._id), '');
    return removed.length;
  }

  private async prepare(): Promise<void> {
    if (this.indexed) return;
    await this.store.ensureCollection(TRACES_COLLECTION);
    await this.store.indexField(TRACES_COLLECTION, ['folderId']);
    this.indexed = true;
  }
}

function anyOf(field: string, values: readonly string[]): Filter {
  return or(...values.map((value) => eq([field], value)));
}

function stringMap(value: unknown): Record<string, string> {
  return value && typeof value === 'object' && !Array.isArray(value) ? { ...(value as Record<string, string>) } : {};
}

/** The experiment id of a trace as `actor` sees it (`0` for their own default folder). */
export function traceExperimentId(trace: StoredDocument, actor: Actor): string {
  return trace.folderPath === `${homeOf(actor)}/default` ? DEFAULT_EXPERIMENT_ID : String(trace.folderId);
}

/** Milliseconds as a protobuf `Timestamp` in JSON (RFC 3339, UTC). */
export function timestampJson(ms: number): string {
  return new Date(ms).toISOString();
}

/** Milliseconds as a protobuf `Duration` in JSON (`"1.25s"`). */
export function durationJson(ms: number): string {
  return `${ms / 1000}s`;
}

/** A trace as MLflow's `TraceInfoV3` message, seen by `actor`. */
export function traceInfoMessage(trace: StoredDocument, actor: Actor): Record<string, unknown> {
  const experimentId = traceExperimentId(trace, actor);
  return {
    trace_id: trace._id,
    ...(trace.clientRequestId ? { client_request_id: String(trace.clientRequestId) } : {}),
    trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } },
    ...(trace.requestPreview ? { request_preview: String(trace.requestPreview) } : {}),
    ...(trace.responsePreview ? { response_preview: String(trace.responsePreview) } : {}),
    request_time: timestampJson(Number(trace.requestTime)),
    ...(typeof trace.executionDuration === 'number'
      ? { execution_duration: durationJson(trace.executionDuration) }
      : {}),
    state: String(trace.state),
    trace_metadata: stringMap(trace.metadata),
    assessments: [],
    tags: { ...stringMap(trace.tags), [ARTIFACT_LOCATION_TAG]: traceArtifactUri(experimentId, trace._id) },
  };
}

/**
 * MLflow 3's trace endpoints (`service.proto`) over `Traces`: StartTraceV3 (`POST /traces`),
 * GetTraceInfoV3 (`GET /traces/{trace_id}`), SearchTracesV3 (`POST /traces/search`),
 * DeleteTraces (`POST /traces/delete-traces`), SetTraceTag and DeleteTraceTag
 * (`PATCH`/`DELETE /traces/{trace_id}/tags`) and LinkTracesToRun (`POST /traces/link-to-run`), under `/api/2.0/mlflow` and `/api/3.0/mlflow`.
 * The spans travel through the artifact proxy (`traces.json` under the trace's
 * `mlflow.artifactLocation` tag), as with MLflow's own server over an artifact store.
 */
import type { StoredDocument } from '../../../stores/document-store.js';
import { DEFAULT_EXPERIMENT_ID } from '../artifacts/artifact-owners.js';
import type { EndpointTable, MlflowCall, MlflowRequest } from '../mlflow-endpoints.js';
import { MlflowError } from '../mlflow-errors.js';
import {
  invalidValue,
  missing,
  optionalInteger,
  optionalString,
  requiredString,
  stringList,
} from '../mlflow-request-fields.js';
import { ensureDefaultFolder } from '../registry/logged-model-endpoints.js';
import { pathParameter } from '../registry/path-parameters.js';
import type { RegistryContext } from '../registry/registry-context.js';
import { parseRegistryFilter, type Searchable } from '../registry/registry-filter.js';
import { maxResults, nextPageToken, pageOffset } from '../registry/request-fields.js';
import { splitOrderBy } from '../search/order-by.js';
import { TRACE_STATES, type TraceInfoInput, type TraceState, Traces, traceInfoMessage } from './traces.js';

const MAX_ID_LENGTH = 256;
const MAX_KEY_LENGTH = 250;
const MAX_VALUE_LENGTH = 8000;
const MAX_ENTRIES = 1000;
const MAX_PREVIEW_LENGTH = 1000;
const SEARCH_DEFAULT = 100;
const MAX_LINKED_TRACES = 100;
const SEARCH_CEILING = 50_000;
/** Trace ids are path segments of the artifact proxy: letters, digits, `-`, `_`, `.`. */
const TRACE_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

const SEARCH_ATTRIBUTES = [
  'trace_id',
  'request_id',
  'client_request_id',
  'status',
  'state',
  'timestamp_ms',
  'timestamp',
  'request_time',
  'execution_time',
  'execution_time_ms',
  'execution_duration',
  'name',
  'run_id',
];
const SORT_ATTRIBUTES: Record<string, (trace: StoredDocument) => string | number> = {
  timestamp_ms: (trace) => Number(trace.requestTime),
  timestamp: (trace) => Number(trace.requestTime),
  request_time: (trace) => Number(trace.requestTime),
  execution_time: (trace) => Number(trace.executionDuration ?? 0),
  execution_time_ms: (trace) => Number(trace.executionDuration ?? 0),
  execution_duration: (trace) => Number(trace.executionDuration ?? 0),
  status: (trace) => String(trace.state),
  state: (trace) => String(trace.state),
  trace_id: (trace) => trace._id,
  request_id: (trace) => trace._id,
  name: (trace) => String((trace.tags as Record<string, string> | undefined)?.['mlflow.traceName'] ?? ''),
};

function object(value: unknown, field: string): Record<string, unknown> {
  if (value === undefined || value === null) throw missing(field);
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidValue(value, field, 'expected an object');
  return value as Record<string, unknown>;
}

/** A `map<string, string>` of the proto (a JSON object), within MLflow's limits. */
function stringMapOf(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  const entries = Object.entries(object(value, field));
  if (entries.length > MAX_ENTRIES) throw invalidValue(entries.length, field, `at most ${MAX_ENTRIES} entries`);
  const map: Record<string, string> = {};
  for (const [key, each] of entries) {
    if (key === '' || key.length > MAX_KEY_LENGTH) {
      throw invalidValue(key, field, `keys must be 1 to ${MAX_KEY_LENGTH} characters`);
    }
    if (typeof each !== 'string') throw invalidValue(each, `${field}.${key}`, 'expected a string');
    if (each.length > MAX_VALUE_LENGTH) {
      throw invalidValue(each.slice(0, 20), `${field}.${key}`, `values are limited to ${MAX_VALUE_LENGTH} characters`);
    }
    map[key] = each;
  }
  return map;
}

function traceIdOf(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw missing(field);
  if (value.length > MAX_ID_LENGTH || !TRACE_ID.test(value)) {
    throw invalidValue(value, field, 'a trace id is letters, digits, "-", "_" and "."');
  }
  return value;
}

/** A protobuf `Timestamp` in JSON (RFC 3339), or milliseconds, as milliseconds. */
function timestampOf(value: unknown, field: string): number {
  if (value === undefined || value === null) throw missing(field);
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'string') {
    // Fractions beyond milliseconds (protobuf writes up to nanoseconds) are cut, as MLflow's store keeps ms.
    const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(value);
    if (match) {
      const ms = Date.parse(`${match[1]}.${(match[2] ?? '').padEnd(3, '0').slice(0, 3)}${match[3]}`);
      if (Number.isFinite(ms) && ms >= 0) return ms;
    }
  }
  throw invalidValue(value, field, 'expected an RFC 3339 time');
}

/** A protobuf `Duration` in JSON (`"1.5s"`) as whole milliseconds. */
function durationOf(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') {
    const match = /^(\d{1,12})(?:\.(\d{1,9}))?s$/.exec(value);
    if (match) return Number(match[1]) * 1000 + Number((match[2] ?? '').padEnd(3, '0').slice(0, 3));
  }
  throw invalidValue(value, field, 'expected a duration such as "1.5s"');
}

function stateOf(value: unknown): TraceState {
  if (value === undefined || value === null || value === '') return 'STATE_UNSPECIFIED';
  if (typeof value === 'string' && (TRACE_STATES as readonly string[]).includes(value)) return value as TraceState;
  if (typeof value === 'number' && TRACE_STATES[value]) return TRACE_STATES[value] as TraceState;
  throw invalidValue(value, 'trace_info.state', `one of ${TRACE_STATES.join(', ')}`);
}

/** The experiment a `TraceLocation` names; Larder keeps traces in MLflow experiments only. */
function experimentOfLocation(value: unknown, field: string): string {
  const location = object(value, field);
  if (location.type !== undefined && location.type !== 'MLFLOW_EXPERIMENT' && location.type !== 1) {
    throw invalidValue(location.type, `${field}.type`, 'Larder keeps traces in MLflow experiments only');
  }
  const experiment = object(location.mlflow_experiment, `${field}.mlflow_experiment`);
  const id = experiment.experiment_id;
  if (typeof id !== 'string' || id === '') throw missing(`${field}.mlflow_experiment.experiment_id`);
  return id;
}

function preview(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidValue(value, field, 'expected a string');
  // A preview is a preview: MLflow's store keeps its first 1000 characters.
  return value.slice(0, MAX_PREVIEW_LENGTH);
}

function traceInfoInput(request: MlflowRequest): TraceInfoInput {
  const trace = object(request.trace, 'trace');
  const info = object(trace.trace_info, 'trace.trace_info');
  const clientRequestId = info.client_request_id;
  if (clientRequestId !== undefined && clientRequestId !== null && typeof clientRequestId !== 'string') {
    throw invalidValue(clientRequestId, 'trace_info.client_request_id', 'expected a string');
  }
  return {
    traceId: traceIdOf(info.trace_id, 'trace_info.trace_id'),
    experimentId: experimentOfLocation(info.trace_location, 'trace_info.trace_location'),
    clientRequestId: typeof clientRequestId === 'string' ? clientRequestId.slice(0, MAX_VALUE_LENGTH) : undefined,
    requestPreview: preview(info.request_preview, 'trace_info.request_preview'),
    responsePreview: preview(info.response_preview, 'trace_info.response_preview'),
    requestTime: timestampOf(info.request_time, 'trace_info.request_time'),
    executionDuration: durationOf(info.execution_duration, 'trace_info.execution_duration'),
    state: stateOf(info.state),
    metadata: stringMapOf(info.trace_metadata, 'trace_info.trace_metadata'),
    tags: stringMapOf(info.tags, 'trace_info.tags'),
  };
}

/** The experiments of a search: V3's `locations`, or V2's `experiment_ids`. */
function searchedExperiments(request: MlflowRequest): string[] {
  const locations = request.locations;
  if (Array.isArray(locations) && locations.length > 0) {
    return locations.map((location, index) => experimentOfLocation(location, `locations[${index}]`));
  }
  const ids = stringList(request, 'experiment_ids');
  if (ids.length === 0) throw missing('locations');
  return ids;
}

/**
 * A trace as the filter reads it: one candidate for each run it belongs to (the run it was
 * recorded in and the runs linked to it), so `run_id = '<run>'` finds it by any of them.
 */
function searchables(trace: StoredDocument): Searchable[] {
  const metadata = (trace.metadata ?? {}) as Record<string, string>;
  const runs = [metadata['mlflow.sourceRun'], ...(Array.isArray(trace.runIds) ? trace.runIds.map(String) : [])];
  const distinct = [...new Set(runs.filter((run): run is string => typeof run === 'string' && run !== ''))];
  return (distinct.length === 0 ? [null] : distinct).map((runId) => searchable(trace, runId));
}

function searchable(trace: StoredDocument, runId: string | null): Searchable {
  const tags = (trace.tags ?? {}) as Record<string, string>;
  const metadata = (trace.metadata ?? {}) as Record<string, string>;
  return {
    attributes: {
      trace_id: trace._id,
      request_id: trace._id,
      client_request_id: trace.clientRequestId ? String(trace.clientRequestId) : null,
      status: String(trace.state),
      state: String(trace.state),
      timestamp_ms: Number(trace.requestTime),
      timestamp: Number(trace.requestTime),
      request_time: Number(trace.requestTime),
      execution_time: typeof trace.executionDuration === 'number' ? trace.executionDuration : null,
      execution_time_ms: typeof trace.executionDuration === 'number' ? trace.executionDuration : null,
      execution_duration: typeof trace.executionDuration === 'number' ? trace.executionDuration : null,
      name: tags['mlflow.traceName'] ?? null,
      run_id: runId,
    },
    tags,
    params: metadata,
  };
}

function sorter(orderBy: readonly string[]): (a: StoredDocument, b: StoredDocument) => number {
  const keys = orderBy.map((clause) => {
    const { key: text, direction } = splitOrderBy(clause);
    const key = text.replace(/^(attributes|attribute|trace)\./, '');
    const read = Object.hasOwn(SORT_ATTRIBUTES, key) ? SORT_ATTRIBUTES[key] : undefined;
    if (!read) {
      throw new MlflowError(
        'INVALID_PARAMETER_VALUE',
        `Invalid order_by entity '${text.slice(0, 60)}': use ${Object.keys(SORT_ATTRIBUTES).join(', ')}`,
      );
    }
    return { read, direction };
  });
  // MLflow's default and final tie-breaks: the newest first, then the id.
  keys.push({ read: SORT_ATTRIBUTES.timestamp_ms as (trace: StoredDocument) => number, direction: -1 });
  keys.push({ read: SORT_ATTRIBUTES.trace_id as (trace: StoredDocument) => string, direction: 1 });
  return (a, b) => {
    for (const { read, direction } of keys) {
      const left = read(a);
      const right = read(b);
      if (left < right) return -direction;
      if (left > right) return direction;
    }
    return 0;
  };
}

export function traceEndpoints({ feature, owners, files }: RegistryContext): EndpointTable {
  const traces = new Traces(feature.store, owners, files);
  const traceIdInPath = (call: MlflowCall) => pathParameter(call.ctx, 'trace_id');

  return {
    'POST /traces': async (call) => {
      // Under 2.0 this path is MLflow 2's StartTrace, whose message has no `trace`: not served.
      if (!Object.hasOwn(call.request, 'trace') && /^\/(ajax-)?api\/2\.0\//.test(call.ctx.path)) {
        throw new MlflowError(
          'ENDPOINT_NOT_FOUND',
          "MLflow 2's StartTrace is not served: MLflow 3's client logs traces through /api/3.0/mlflow/traces",
        );
      }
      const input = traceInfoInput(call.request);
      if (input.experimentId === DEFAULT_EXPERIMENT_ID) await ensureDefaultFolder(feature, call);
      const trace = await traces.start(input, call.actor);
      return { trace: { trace_info: traceInfoMessage(trace, call.actor) } };
    },
    'GET /traces/{trace_id}': async (call) => {
      const trace = await owners.trace(traceIdInPath(call), call.actor, 'read');
      return { trace: { trace_info: traceInfoMessage(trace, call.actor) } };
    },
    'POST /traces/search': async (call) => {
      const { request, actor } = call;
      const experiments = searchedExperiments(request);
      const match = parseRegistryFilter(optionalString(request, 'filter'), SEARCH_ATTRIBUTES, {
        params: ['metadata', 'request_metadata'],
        attributes: ['trace'],
      });
      const order = sorter(stringList(request, 'order_by'));
      const limit = maxResults(request, SEARCH_DEFAULT, SEARCH_CEILING);
      const offset = pageOffset(request);
      const found = (await traces.inExperiments(experiments, actor)).filter((trace) => searchables(trace).some(match));
      found.sort(order);
      const page = found.slice(offset, offset + limit);
      const token = nextPageToken(offset, page.length, found.length);
      return {
        traces: page.map((trace) => traceInfoMessage(trace, actor)),
        ...(token ? { next_page_token: token } : {}),
      };
    },
    'POST /traces/delete-traces': async (call) => {
      const { request, actor } = call;
      const experimentId = requiredString(request, 'experiment_id');
      const ids = stringList(request, 'request_ids');
      const maxTimestamp = optionalInteger(request, 'max_timestamp_millis');
      const maxTraces = optionalInteger(request, 'max_traces');
      if (ids.length > 0 === (maxTimestamp !== undefined)) {
        throw new MlflowError(
          'INVALID_PARAMETER_VALUE',
          'Exactly one of max_timestamp_millis and request_ids must be specified.',
        );
      }
      if (maxTraces !== undefined && maxTraces < 1) throw invalidValue(maxTraces, 'max_traces', 'at least 1');
      const selection =
        maxTimestamp === undefined ? { traceIds: ids } : { maxTimestamp, maxTraces: maxTraces ?? undefined };
      return { traces_deleted: await traces.remove(experimentId, selection, actor) };
    },
    'POST /traces/link-to-run': async (call) => {
      const traceIds = stringList(call.request, 'trace_ids');
      if (traceIds.length > MAX_LINKED_TRACES) {
        throw invalidValue(traceIds.length, 'trace_ids', `at most ${MAX_LINKED_TRACES} traces a request`);
      }
      await traces.linkRun(traceIds, requiredString(call.request, 'run_id'), call.actor);
      return {};
    },
    'PATCH /traces/{trace_id}/tags': async (call) => {
      const key = requiredString(call.request, 'key');
      if (key.length > MAX_KEY_LENGTH)
        throw invalidValue(key.slice(0, 20), 'key', `at most ${MAX_KEY_LENGTH} characters`);
      const value = optionalString(call.request, 'value') ?? '';
      if (value.length > MAX_VALUE_LENGTH) {
        throw invalidValue(value.slice(0, 20), 'value', `at most ${MAX_VALUE_LENGTH} characters`);
      }
      await traces.changeTag(traceIdInPath(call), key, value, call.actor);
      return {};
    },
    'DELETE /traces/{trace_id}/tags': async (call) => {
      await traces.changeTag(traceIdInPath(call), requiredString(call.request, 'key'), undefined, call.actor);
      return {};
    },
  };
}

/**
 * MLflow's metric endpoints over Larder's metric store: log-metric, get-history (paged by
 * offset tokens), get-history-bulk and get-history-bulk-interval (the UI's charts: up to 100
 * runs, steps sampled evenly with the first and last kept). Reads go through the run's read
 * permission, writes through its write permission.
 */
import type { EndpointDeps, EndpointTable, MlflowCall } from '../mlflow-endpoints.js';
import { MlflowError } from '../mlflow-errors.js';
import {
  doubleOf,
  missing,
  optionalInteger,
  optionalString,
  requiredString,
  runIdOf,
  stringList,
} from '../mlflow-request-fields.js';
import { offsetOfPageToken, pageTokenOf } from '../search/order-by.js';
import { type HistorySlice, indexRange, metricHistoryJson } from './metric-history-json.js';
import { seriesOfMetricKey } from './metric-keys.js';
import { MetricLogging, type MetricPoint } from './metric-logging.js';
import { RunRecords } from './run-records.js';
import { assertKey } from './tracking-limits.js';

const MAX_HISTORY = 25_000;
const MAX_BULK_RUNS = 100;
const MAX_INTERVAL_RESULTS = 2500;

/** A metric of a request (`{ key, value, timestamp, step }`), checked; `what` prefixes field names (`metrics[3]`). */
export function metricPointOf(entry: unknown, what: string): MetricPoint {
  const field = (name: string) => (what ? `${what}.${name}` : name);
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    throw new MlflowError('INVALID_PARAMETER_VALUE', `'${what || 'metric'}' must be { key, value, timestamp, step }`);
  }
  const fields = entry as Record<string, unknown>;
  const key = optionalString(fields, 'key');
  if (key === undefined) throw missing(field('key'));
  assertKey(key, 'metric');
  const value = doubleOf(fields.value, field('value'));
  if (value === undefined) throw missing(field('value'));
  const timestamp = optionalInteger(fields, 'timestamp');
  if (timestamp === undefined) throw missing(field('timestamp'));
  // Infinities are kept as the largest doubles, as MLflow's SQL store keeps them (JSON has no infinity).
  const finite =
    value === Number.POSITIVE_INFINITY
      ? Number.MAX_VALUE
      : value === Number.NEGATIVE_INFINITY
        ? -Number.MAX_VALUE
        : value;
  const modelId = optionalString(fields, 'model_id');
  const datasetName = optionalString(fields, 'dataset_name');
  const datasetDigest = optionalString(fields, 'dataset_digest');
  return {
    key,
    value: finite,
    timestamp,
    step: optionalInteger(fields, 'step') ?? 0,
    ...(modelId ? { modelId } : {}),
    ...(datasetName ? { datasetName } : {}),
    ...(datasetDigest ? { datasetDigest } : {}),
  };
}

/**
 * The steps a chart of several runs gets: within the range (all steps when none is given),
 * `maxResults` picked at even intervals of the sorted distinct steps plus the last one, and
 * every run's first and last step in the range, so no run's ends are dropped.
 */
export function sampledSteps(
  runs: readonly Float64Array[],
  maxResults: number,
  startStep: number | undefined,
  endStep: number | undefined,
): Set<number> {
  const all = [...new Set(runs.flatMap((steps) => Array.from(steps)))].sort((a, b) => a - b);
  const low = startStep ?? Math.min(0, all[0] ?? 0);
  const high = endStep ?? all.at(-1) ?? 0;
  const inRange = all.filter((step) => step >= low && step <= high);
  const chosen = new Set<number>();
  if (inRange.length <= maxResults) for (const step of inRange) chosen.add(step);
  else {
    const interval = inRange.length / maxResults;
    for (let index = 0; index < maxResults; index += 1) chosen.add(inRange[Math.floor(index * interval)] as number);
    chosen.add(inRange.at(-1) as number);
  }
  for (const steps of runs) {
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    for (const step of steps) {
      if (step < low || step > high) continue;
      if (step < first) first = step;
      if (step > last) last = step;
    }
    if (first <= last) chosen.add(first).add(last);
  }
  return chosen;
}

export function metricEndpoints(deps: EndpointDeps): EndpointTable {
  const runs = new RunRecords(deps);
  const logging = new MetricLogging(deps);

  const history = async (call: MlflowCall, runId: string, key: string) => {
    const run = await runs.get(call, runId);
    const columns = await deps.metrics.read({ run: run._id, ...seriesOfMetricKey(key) }, { withTimes: true });
    return { run, columns };
  };

  /**
   * One page of a series, `max` points from position `offset`, read with one point more,
   * which says whether a next page exists: a client paging through a long series (MLflow's
   * reads 25,000 points a call) reads each stored chunk about once, not the series a page.
   */
  const historyPage = async (call: MlflowCall, runId: string, key: string, offset: number, max: number) => {
    const run = await runs.get(call, runId);
    if (max < 1 || max > MAX_HISTORY) {
      throw new MlflowError('INVALID_PARAMETER_VALUE', `max_results must be from 1 to ${MAX_HISTORY}; got ${max}`);
    }
    const series = { run: run._id, ...seriesOfMetricKey(key) };
    const columns = await deps.metrics.read(series, { withTimes: true, fromIndex: offset, toIndex: offset + max + 1 });
    const count = Math.min(max, columns.steps.length);
    return { columns, count, more: columns.steps.length > max };
  };

  /** The run ids of a bulk read, deduplicated and sorted, refused in MLflow's words. */
  const runIdsOf = (call: MlflowCall, field: 'run_id' | 'run_ids') => {
    const ids = stringList(call.request, field);
    const request = field === 'run_id' ? 'GetMetricHistoryBulk' : 'GetMetricHistoryBulkInterval';
    if (ids.length === 0) {
      throw field === 'run_id'
        ? new MlflowError('INVALID_PARAMETER_VALUE', `${request} request must specify at least one run_id.`)
        : missing(field);
    }
    if (ids.length > MAX_BULK_RUNS) {
      throw new MlflowError(
        'INVALID_PARAMETER_VALUE',
        field === 'run_id'
          ? `${request} request cannot specify more than ${MAX_BULK_RUNS} run_ids. Received ${ids.length} run_ids.`
          : `${request} request must specify at most ${MAX_BULK_RUNS} run_ids. Received ${ids.length} run_ids.`,
      );
    }
    return [...new Set(ids)].sort();
  };

  return {
    'POST /runs/log-metric': async (call) => {
      const runId = runIdOf(call.request);
      const point = metricPointOf(call.request, '');
      const run = await runs.get(call, runId);
      if (run.mlflow?.lifecycleStage === 'deleted') {
        throw new MlflowError(
          'INVALID_PARAMETER_VALUE',
          `The run ${run._id} must be in the 'active' state to be changed`,
        );
      }
      await logging.log(call, run, [point]);
      return {};
    },

    'GET /metrics/get-history': async (call) => {
      const key = requiredString(call.request, 'metric_key');
      const runId = runIdOf(call.request);
      const maxResults = optionalInteger(call.request, 'max_results');
      const offset = offsetOfPageToken(optionalString(call.request, 'page_token'));
      if (maxResults === undefined) {
        const { columns } = await history(call, runId, key);
        return metricHistoryJson([{ key, columns, indexes: indexRange(offset, columns.steps.length) }]);
      }
      const { columns, count, more } = await historyPage(call, runId, key, offset, maxResults);
      return metricHistoryJson(
        [{ key, columns, indexes: indexRange(0, count) }],
        more ? pageTokenOf(offset + count) : undefined,
      );
    },

    'GET /metrics/get-history-bulk': async (call) => {
      const runIds = runIdsOf(call, 'run_id');
      const key = optionalString(call.request, 'metric_key');
      if (!key) {
        throw new MlflowError('INVALID_PARAMETER_VALUE', 'GetMetricHistoryBulk request must specify a metric_key.');
      }
      let left = Math.max(0, Math.min(optionalInteger(call.request, 'max_results') ?? MAX_HISTORY, MAX_HISTORY));
      const slices: HistorySlice[] = [];
      for (const runId of runIds) {
        const { columns } = await history(call, runId, key);
        const count = Math.min(left, columns.steps.length);
        slices.push({ key, columns, indexes: indexRange(0, count), runId });
        left -= count;
      }
      return metricHistoryJson(slices);
    },

    'GET /metrics/get-history-bulk-interval': async (call) => {
      // Checked in MLflow's order, with its words: clients and tests match on them.
      const runIds = runIdsOf(call, 'run_ids');
      const maxResults = optionalInteger(call.request, 'max_results') ?? MAX_INTERVAL_RESULTS;
      if (maxResults < 1 || maxResults > MAX_INTERVAL_RESULTS) {
        throw new MlflowError('INVALID_PARAMETER_VALUE', `max_results must be between 1 and ${MAX_INTERVAL_RESULTS}.`);
      }
      const key = requiredString(call.request, 'metric_key');
      const startStep = optionalInteger(call.request, 'start_step');
      const endStep = optionalInteger(call.request, 'end_step');
      if ((startStep === undefined) !== (endStep === undefined)) {
        throw new MlflowError(
          'INVALID_PARAMETER_VALUE',
          'If either start step or end step are specified, both must be specified.',
        );
      }
      if (startStep !== undefined && endStep !== undefined && startStep > endStep) {
        throw new MlflowError(
          'INVALID_PARAMETER_VALUE',
          `end_step must be greater than start_step. Found start_step=${startStep} and end_step=${endStep}.`,
        );
      }
      const series = [];
      for (const runId of runIds) series.push({ runId, columns: (await history(call, runId, key)).columns });
      const chosen = sampledSteps(
        series.map(({ columns }) => columns.steps),
        maxResults,
        startStep,
        endStep,
      );
      const slices: HistorySlice[] = [];
      for (const { runId, columns } of series) {
        const indexes = Array.from(indexRange(0, columns.steps.length))
          .filter((index) => chosen.has(columns.steps[index] as number))
          .sort(
            (a, b) =>
              (columns.steps[a] as number) - (columns.steps[b] as number) ||
              (columns.times[a] as number) - (columns.times[b] as number),
          );
        slices.push({ key, columns, indexes, runId });
      }
      return metricHistoryJson(slices);
    },
  };
}

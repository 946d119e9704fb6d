/**
 * `/metrics`: metric points of runs.
 * - `create({ run, series })` appends columnar batches exactly once (see `metric-batch.ts`),
 *   keeps the run's `metrics.<type>.<name>` summary up to date, and sends a `points` event
 *   with the new points so charts move while training runs.
 * - `find({ query: { run } })` lists a run's series; with `type` and `name` it answers the
 *   series, downsampled on the server to `points` (default 2000) with extremes kept;
 *   `fromStep`/`toStep` zoom in, `withTimes=true` adds epochs and times, `raw=true` answers
 *   every point.
 * Access follows the run: whoever may read the run reads its metrics, writers write them.
 */
import { EventEmitter } from 'node:events';
import { eq, LarderError } from '@larder/protocol';
import type { Actor } from '../../auth/actor.js';
import { actorOf } from '../../auth/actor.js';
import { folderPolicy } from '../../auth/folder-policy.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import type { AppendBatch, MetricStore, SeriesSummary } from '../../stores/metric-store.js';
import type { DocumentParams } from '../documents/document-service.js';
import { readableRun, writableRun } from '../runs/run-through.js';
import { RUNS_COLLECTION } from '../runs/runs-service.js';
import { minMaxIndexes, pick } from './downsample.js';
import { readDownsampled } from './downsampled-read.js';
import { normaliseType, parseMetricBatch } from './metric-batch.js';

const DEFAULT_POINTS = 2000;
const MAX_POINTS = 100_000;

/** The run fields an event carries so each connection's permission check can run on it. */
const ACCESS_FIELDS = ['userId', 'public', 'access'] as const;

export class MetricsService extends EventEmitter {
  readonly policy = folderPolicy;
  readonly events = ['points'];

  constructor(
    private readonly store: DocumentStore,
    private readonly metrics: MetricStore,
    private readonly authEnabled: boolean,
  ) {
    super();
  }

  private actor(params: DocumentParams | undefined): Actor {
    const actor = actorOf(params ?? {}, this.authEnabled);
    if (actor.kind === 'anonymous') throw new LarderError('NotAuthenticated', 'Sign in to read or write metrics');
    return actor;
  }

  async create(data: unknown, params?: DocumentParams) {
    const actor = this.actor(params);
    const batch = parseMetricBatch(data);
    const run = await writableRun(
      this.store,
      this.policy,
      actor,
      batch.run,
      `You may read but not log to run ${batch.run}`,
    );
    const summaries = await this.appendToRun(
      run,
      batch.series.map((series) => ({
        key: { run: run._id, type: series.type, name: series.name },
        offset: series.offset,
        points: series.points,
      })),
    );
    return { run: run._id, series: summaries.map(publicSummary) };
  }

  /**
   * Appends points to a run the caller may write (checked by the caller), keeps its metric
   * summaries and sends the `points` event: the one path every face's metrics take.
   */
  async appendToRun(run: StoredDocument, batches: readonly AppendBatch[]): Promise<SeriesSummary[]> {
    const summaries = await this.metrics.append(batches);
    await this.recordSummaries(run._id, summaries);
    const access = Object.fromEntries(
      ACCESS_FIELDS.filter((field) => run[field] !== undefined).map((field) => [field, run[field]]),
    );
    this.emit('points', {
      run: run._id,
      ...access,
      // Points are placed by index (`offset` onwards): a chart that already holds some of
      // them (a resent batch) keeps its own.
      series: batches.map((batch, index) => {
        const count = (summaries[index] as SeriesSummary).count;
        const offset = batch.offset === 'end' ? count - batch.points.steps.length : batch.offset;
        return lazyPoints({ type: batch.key.type, name: batch.key.name, count, offset }, batch.points);
      }),
    });
    return summaries;
  }

  /** Writes the summaries into the run record, never replacing a newer one with an older. */
  private async recordSummaries(runId: string, summaries: readonly SeriesSummary[]): Promise<void> {
    await this.store.modify(RUNS_COLLECTION, eq(['_id'], runId), (record) => {
      const metrics = structuredClone((record.metrics ?? {}) as Record<string, Record<string, { count?: number }>>);
      for (const summary of summaries) {
        const byName = metrics[summary.type] ?? {};
        if ((byName[summary.name]?.count ?? -1) <= summary.count) byName[summary.name] = runSummary(summary);
        metrics[summary.type] = byName;
      }
      return { ...record, metrics: metrics as unknown as StoredDocument['metrics'] };
    });
  }

  async find(params?: DocumentParams) {
    const actor = this.actor(params);
    const query = (params?.query ?? {}) as Record<string, unknown>;
    if (typeof query.run !== 'string') throw new LarderError('BadRequest', 'Ask for metrics with ?run=<run id>');
    const run = await readableRun(this.store, this.policy, actor, query.run);
    if (query.name === undefined) return (await this.metrics.list(run._id)).map(publicSummary);
    if (typeof query.type !== 'string' || typeof query.name !== 'string') {
      throw new LarderError('BadRequest', 'Ask for a series with ?run=<id>&type=<train|val|test|…>&name=<metric>');
    }
    const target = integerParam(query.points, DEFAULT_POINTS, 'points', 4, MAX_POINTS);
    const fromStep = numberParam(query.fromStep, 'fromStep');
    const toStep = numberParam(query.toStep, 'toStep');
    const withTimes = query.withTimes === true || query.withTimes === 'true';
    const key = { run: run._id, type: normaliseType(query.type), name: query.name };
    // `raw=true` answers every point (downloads); charts ask for a downsampled series.
    const raw = query.raw === true || query.raw === 'true';
    if (!raw && !withTimes) {
      // A long series is read from its envelopes, not point by point.
      return { ...key, ...(await readDownsampled(this.metrics, key, { fromStep, toStep }, target)) };
    }
    const columns = await this.metrics.read(key, {
      withTimes,
      ...(fromStep !== undefined ? { fromStep } : {}),
      ...(toStep !== undefined ? { toStep } : {}),
    });
    const indexes = raw
      ? Uint32Array.from({ length: columns.steps.length }, (_, index) => index)
      : minMaxIndexes(columns.values, target);
    const nullable = (values: number[]) => values.map((value) => (Number.isNaN(value) ? null : value));
    return {
      ...key,
      count: columns.steps.length,
      downsampled: indexes.length < columns.steps.length,
      steps: pick(columns.steps, indexes),
      values: nullable(pick(columns.values, indexes)),
      ...(withTimes ? { epochs: nullable(pick(columns.epochs, indexes)), times: pick(columns.times, indexes) } : {}),
    };
  }
}

function runSummary(summary: SeriesSummary) {
  return {
    last: summary.last,
    min: summary.min,
    max: summary.max,
    count: summary.count,
    step: summary.lastStep,
    epoch: summary.lastEpoch,
    time: summary.lastTime,
  };
}

function publicSummary(summary: SeriesSummary) {
  return { type: summary.type, name: summary.name, ...runSummary(summary), firstStep: summary.firstStep };
}

function integerParam(value: unknown, fallback: number, name: string, min: number, max: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new LarderError('BadRequest', `${name} must be a whole number from ${min} to ${max}`);
  }
  return number;
}

function numberParam(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number)) throw new LarderError('BadRequest', `${name} must be a number`);
  return number;
}

/**
 * An event's `steps` and `values` as JSON-ready arrays, made when first read (once, however
 * many sockets it goes to), so an event no connection receives costs nothing per point.
 */
function lazyPoints<T extends object>(head: T, points: { steps: Float64Array; values: Float64Array }) {
  let steps: number[] | undefined;
  let values: (number | null)[] | undefined;
  // Accessors, not values: spreading or copying this object would make the arrays at once.
  return Object.defineProperties(head, {
    steps: {
      enumerable: true,
      get: () => {
        steps ??= Array.from(points.steps);
        return steps;
      },
    },
    values: {
      enumerable: true,
      get: () => {
        values ??= nullableArray(points.values);
        return values;
      },
    },
  }) as T & { readonly steps: number[]; readonly values: (number | null)[] };
}

/** A column as JSON-ready numbers, NaN as null (a plain loop: a mapping callback is slow). */
function nullableArray(column: Float64Array): (number | null)[] {
  const out = new Array<number | null>(column.length);
  for (let index = 0; index < column.length; index += 1) {
    const value = column[index] as number;
    out[index] = Number.isNaN(value) ? null : value;
  }
  return out;
}

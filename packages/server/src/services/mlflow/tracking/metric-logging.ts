/**
 * MLflow metric points into Larder's metric store. MLflow's client sends no offsets, and two
 * `log_metric` calls on one series may run at once, so points are appended at the series'
 * end inside the store's own transaction (`offset: 'end'`), never by counting first. Then,
 * as the metrics service does, the run's `metrics.<type>.<name>` summaries are updated
 * (never replaced by an older one) and a `points` event goes out for live charts.
 */
import { and, eq } from '@larder/protocol';
import type { AccessPolicy } from '../../../auth/access-policy.js';
import type { StoredDocument } from '../../../stores/document-store.js';
import type { AppendBatch, SeriesSummary } from '../../../stores/metric-store.js';
import { RUNS_COLLECTION } from '../../runs/runs-service.js';
import type { EndpointDeps, MlflowCall } from '../mlflow-endpoints.js';
import { MlflowError } from '../mlflow-errors.js';
import { seriesOfMetricKey } from './metric-keys.js';
import type { RunRecord } from './run-records.js';

export interface MetricPoint {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

const ACCESS_FIELDS = ['userId', 'public', 'access'] as const;

export class MetricLogging {
  constructor(private readonly deps: EndpointDeps) {}

  /** Refuses a run the caller may read but not write. */
  async assertWritable(call: MlflowCall, run: RunRecord): Promise<void> {
    const policy = (this.deps.app.service('runs') as unknown as { policy: AccessPolicy }).policy;
    const writable = await this.deps.store.count(
      RUNS_COLLECTION,
      and(eq(['_id'], run._id), policy.writeFilter(call.actor)),
    );
    if (writable === 0) throw new MlflowError('PERMISSION_DENIED', `You may read but not log to run ${run._id}`);
  }

  async log(call: MlflowCall, run: RunRecord, points: readonly MetricPoint[]): Promise<void> {
    if (points.length === 0) return;
    await this.assertWritable(call, run);
    const bySeries = new Map<string, { type: string; name: string; points: MetricPoint[] }>();
    for (const point of points) {
      const { type, name } = seriesOfMetricKey(point.key);
      const id = `${type}\u0000${name}`;
      const entry = bySeries.get(id) ?? { type, name, points: [] };
      entry.points.push(point);
      bySeries.set(id, entry);
    }
    const batches: AppendBatch[] = [...bySeries.values()].map((series) => ({
      key: { run: run._id, type: series.type, name: series.name },
      offset: 'end',
      points: {
        steps: Float64Array.from(series.points, (point) => point.step),
        values: Float64Array.from(series.points, (point) => point.value),
        epochs: new Float64Array(series.points.length).fill(Number.NaN),
        times: Float64Array.from(series.points, (point) => point.timestamp),
      },
    }));
    const summaries = await this.deps.metrics.append(batches);
    await this.recordSummaries(run._id, summaries);
    const access = Object.fromEntries(
      ACCESS_FIELDS.filter((field) => run[field] !== undefined).map((field) => [field, run[field]]),
    );
    this.deps.app.service('metrics').emit('points', {
      run: run._id,
      ...access,
      series: batches.map((batch, index) => {
        const count = (summaries[index] as SeriesSummary).count;
        return {
          type: batch.key.type,
          name: batch.key.name,
          count,
          offset: count - batch.points.steps.length,
          steps: Array.from(batch.points.steps),
          values: Array.from(batch.points.values, (value) => (Number.isNaN(value) ? null : value)),
        };
      }),
    });
  }

  private async recordSummaries(runId: string, summaries: readonly SeriesSummary[]): Promise<void> {
    await this.deps.store.modify(RUNS_COLLECTION, eq(['_id'], runId), (record) => {
      const metrics = structuredClone((record.metrics ?? {}) as Record<string, Record<string, { count?: number }>>);
      for (const summary of summaries) {
        const byName = metrics[summary.type] ?? {};
        if ((byName[summary.name]?.count ?? -1) <= summary.count) {
          byName[summary.name] = {
            last: summary.last,
            min: summary.min,
            max: summary.max,
            count: summary.count,
            step: summary.lastStep,
            epoch: summary.lastEpoch,
            time: summary.lastTime,
          } as { count: number };
        }
        metrics[summary.type] = byName;
      }
      return { ...record, metrics: metrics as unknown as StoredDocument['metrics'] };
    });
  }
}

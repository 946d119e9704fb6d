/**
 * MLflow metric points into Larder's metric store. MLflow's client sends no offsets, and two
 * `log_metric` calls on one series may run at once, so points are appended at the series'
 * end inside the store's own transaction (`offset: 'end'`), never by counting first, through
 * the metrics service's own path (run summaries kept, a `points` event for live charts).
 */
import { and, eq } from '@larder/protocol';
import type { AccessPolicy } from '../../../auth/access-policy.js';
import type { AppendBatch } from '../../../stores/metric-store.js';
import type { MetricsService } from '../../metrics/metrics-service.js';
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
    await (this.deps.app.service('metrics') as unknown as MetricsService).appendToRun(run, batches);
  }
}

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
import { ArtifactFiles } from '../artifacts/artifact-files.js';
import { ArtifactOwners } from '../artifacts/artifact-owners.js';
import type { EndpointDeps, MlflowCall } from '../mlflow-endpoints.js';
import { MlflowError } from '../mlflow-errors.js';
import { LoggedModels } from '../registry/logged-models.js';
import { seriesOfMetricKey } from './metric-keys.js';
import type { RunRecord } from './run-records.js';

export interface MetricPoint {
  key: string;
  value: number;
  timestamp: number;
  step: number;
  /** MLflow 3: the logged model the metric is also about, and the dataset it was measured on. */
  modelId?: string;
  datasetName?: string;
  datasetDigest?: string;
}

export class MetricLogging {
  private readonly owners: ArtifactOwners;
  private readonly models: LoggedModels;

  constructor(private readonly deps: EndpointDeps) {
    this.owners = new ArtifactOwners(deps.store);
    this.models = new LoggedModels(deps.store, this.owners, new ArtifactFiles(deps.store, deps.blobs));
  }

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
    const byModel = await this.modelPoints(call, points);
    await (this.deps.app.service('metrics') as unknown as MetricsService).appendToRun(run, batches);
    // Points naming a logged model are kept on that model too (its latest per key and dataset).
    for (const [modelId, modelPoints] of byModel) {
      await this.models.recordMetrics(modelId, call.actor, run._id, modelPoints);
    }
  }

  /** The logged models points name, grouped; each must be writable by the caller before anything is stored. */
  private async modelPoints(call: MlflowCall, points: readonly MetricPoint[]): Promise<Map<string, MetricPoint[]>> {
    const byModel = new Map<string, MetricPoint[]>();
    for (const point of points) {
      if (!point.modelId) continue;
      const listed = byModel.get(point.modelId);
      if (listed) listed.push(point);
      else byModel.set(point.modelId, [point]);
    }
    for (const modelId of byModel.keys()) await this.owners.loggedModel(modelId, call.actor, 'write');
    return byModel;
  }
}

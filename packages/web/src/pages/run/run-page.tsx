/**
 * One run: its live status, metric charts by type, hparams, platform and git, files and
 * artifacts, data logs and lineage.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api } from '../../api/api-client.js';
import { subscribe } from '../../api/realtime.js';
import { MetricPanels } from '../../charts/metric-panels.js';
import { formatDate, formatValue } from '../../components/format.js';
import { JsonView } from '../../components/json-view.js';
import { Loading, Problem } from '../../components/problem.js';
import { useLoad } from '../../components/use-load.js';
import { Link } from '../../router/router.js';
import { StatusBadge } from '../runs/runs-page.js';
import { ConsolePanel } from './console-panel.js';
import { type DataLog, DataLogView } from './data-log-view.js';
import { LineageGraph } from './lineage-graph.js';
import { RunMedia } from './media/run-media.js';
import { RunArtifacts, RunFiles } from './run-artifacts.js';
import { assetsOf, checkpointsOf, MarcelleAsset, RunOutputs } from './run-outputs.js';
import { SYSTEM_TYPE } from './system-metric-charts.js';
import { SystemMetricsPanel } from './system-metrics-panel.js';

export interface Run {
  _id: string;
  name: string;
  status?: string;
  folder?: string;
  description?: string;
  labels?: string[];
  createdAt?: string;
  startTime?: string;
  endTime?: string | null;
  hparams?: Record<string, unknown>;
  platform?: unknown;
  git?: unknown;
  /** A deleted file is kept as `null`. */
  files?: Record<string, { sha256: string; size: number; filename?: string } | null>;
  /** Marcelle runs: the model documents and assets they list (written by Marcelle's clients). */
  checkpoints?: unknown;
  assets?: unknown;
  dataLogs?: Record<string, DataLog | null>;
  associations?: { inputs?: { kind: string; id: string }[]; outputs?: { kind: string; id: string }[] };
}

/** Hparams flattened to dot paths, for tables. */
export function flatHparams(hparams: Record<string, unknown> | undefined, prefix = ''): [string, unknown][] {
  return Object.entries(hparams ?? {}).flatMap(([key, value]) =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? flatHparams(value as Record<string, unknown>, `${prefix}${key}.`)
      : [[`${prefix}${key}`, value] as [string, unknown]],
  );
}

export function RunPage({ id }: { id: string }) {
  const loaded = useLoad((signal) => api.get<Run>('runs', id, signal), [id]);
  const [live, setLive] = useState<Run | null>(null);
  useEffect(() => {
    setLive(null);
    const handler = (record: Run) => {
      if (record._id === id) setLive(record);
    };
    const subscriptions = [subscribe<Run>('runs', 'patched', handler), subscribe<Run>('runs', 'updated', handler)];
    return () => {
      for (const subscription of subscriptions) subscription.stop();
    };
  }, [id]);
  const run = live ?? loaded.value;
  const runs = useMemo(() => (run ? [{ id: run._id, name: run.name }] : []), [run?._id, run?.name]);

  if (loaded.state === 'failed') return <Problem error={loaded.error} what="run" />;
  if (!run) return <Loading what="run" />;
  const ofKind = (list: { kind: string; id: string }[] | undefined, kind: string) =>
    (list ?? []).filter((ref) => ref.kind === kind).map((ref) => ref.id);
  const artifactInputs = ofKind(run.associations?.inputs, 'artifact');
  const artifactOutputs = ofKind(run.associations?.outputs, 'artifact');
  const marcelleAssets = assetsOf(run.assets);
  const dataLogs = Object.entries(run.dataLogs ?? {}).filter((entry): entry is [string, DataLog] => entry[1] !== null);

  return (
    <article class="run-page">
      <header class="run-header">
        <p class="crumbs">
          <Link href="/runs">Runs</Link> / {run.folder}
        </p>
        <h1>
          {run.name} <StatusBadge status={run.status} />
        </h1>
        <p class="muted">
          Created {formatDate(run.createdAt)}
          {run.endTime ? ` · ended ${formatDate(run.endTime)}` : ''}
          {(run.labels ?? []).map((label) => (
            <span key={label} class="tag">
              {label}
            </span>
          ))}
        </p>
        {run.description && <p>{run.description}</p>}
      </header>

      <MetricPanels runs={runs} exceptTypes={[SYSTEM_TYPE]} />

      <SystemMetricsPanel runId={run._id} />

      <RunMedia runId={run._id} />

      <div class="run-details">
        <section>
          <h2>Hparams</h2>
          <table class="data">
            <tbody>
              {flatHparams(run.hparams).map(([key, value]) => (
                <tr key={key}>
                  <th>{key}</th>
                  <td>{formatValue(value)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {flatHparams(run.hparams).length === 0 && <p class="muted">No hparams.</p>}
        </section>
        <section>
          <h2>Platform</h2>
          <JsonView value={run.platform} />
          <h2>Git</h2>
          <JsonView value={run.git} />
        </section>
        <section>
          <h2>Files</h2>
          <RunFiles
            runId={run._id}
            files={run.files ?? {}}
            extra={
              marcelleAssets.length > 0
                ? marcelleAssets.map((asset) => (
                    <MarcelleAsset key={asset.id ?? asset.url ?? asset.filename} asset={asset} />
                  ))
                : undefined
            }
          />
          <h2>Artifacts</h2>
          <RunArtifacts inputs={artifactInputs} outputs={artifactOutputs} />
          <RunOutputs
            runId={run._id}
            checkpoints={checkpointsOf(run.checkpoints)}
            outputVersions={ofKind(run.associations?.outputs, 'model-version')}
            empty={artifactInputs.length + artifactOutputs.length === 0}
          />
        </section>
      </div>

      {dataLogs.length > 0 && (
        <section>
          <h2>Data logs</h2>
          <div class="data-logs">
            {dataLogs.map(([name, log]) => (
              <figure key={name} class="data-log">
                <figcaption>
                  {name} <span class="muted">{log.type}</span>
                </figcaption>
                <DataLogView runId={run._id} name={name} log={log} />
              </figure>
            ))}
          </div>
        </section>
      )}

      <ConsolePanel runId={run._id} />

      <section>
        <h2>Lineage</h2>
        <LineageGraph runId={run._id} runName={run.name} />
      </section>
    </article>
  );
}

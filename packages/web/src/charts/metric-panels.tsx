/**
 * The metric charts of one run or of several overlaid: one chart per metric, grouped by type
 * (train, val, test, then custom types), with smoothing, a log scale and a zoom shared by
 * every chart (a zoom re-reads the range from the server in detail). Charts follow training
 * live.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { colorFor } from './chart-colors.js';
import type { ChartOptions, ChartSeries } from './chart-series.js';
import { LineChart, loadChartModule } from './line-chart.js';
import { useLiveMetrics } from './live-metrics.js';

const TYPE_ORDER = ['train', 'val', 'test'];
const TYPE_TITLES: Record<string, string> = { train: 'Training', val: 'Validation', test: 'Test' };

function typeRank(type: string): number {
  const index = TYPE_ORDER.indexOf(type);
  return index === -1 ? TYPE_ORDER.length : index;
}

export interface MetricPanelsProps {
  runs: readonly { id: string; name: string }[];
  /** Points per series asked of the server. */
  points?: number;
  /** Metric types charted elsewhere on the page (the run page's `system` panel). */
  exceptTypes?: readonly string[];
}

export function MetricPanels({ runs, points = 1000, exceptTypes }: MetricPanelsProps) {
  const [smoothing, setSmoothing] = useState(0);
  const [logY, setLogY] = useState(false);
  const [zoom, setZoom] = useState<[number, number] | null>(null);
  const ids = useMemo(() => runs.map((run) => run.id), [runs]);
  const exceptKey = exceptTypes?.join('\u0000') ?? '';
  const accept = useMemo(() => (type: string) => !exceptTypes?.includes(type), [exceptKey]);
  const live = useLiveMetrics(ids, points, zoom, accept);
  const options = useMemo<ChartOptions>(() => ({ smoothing, logY }), [smoothing, logY]);
  // The chart code downloads while the series are read, not after.
  useEffect(() => void loadChartModule(), []);

  // One chart per (type, name); one line per run, coloured by the run's position.
  const groups = useMemo(() => {
    const byType = new Map<string, Map<string, ChartSeries[]>>();
    const names = new Map(runs.map((run, index) => [run.id, { name: run.name, index }]));
    for (const series of live.series.values()) {
      const run = names.get(series.run);
      if (!run) continue;
      const charts = byType.get(series.type) ?? new Map<string, ChartSeries[]>();
      byType.set(series.type, charts);
      const lines = charts.get(series.name) ?? [];
      charts.set(series.name, lines);
      lines.push({
        label: runs.length > 1 ? run.name : series.name,
        color: colorFor(run.index),
        steps: series.steps,
        values: series.values,
      });
    }
    return [...byType.entries()]
      .sort(([a], [b]) => typeRank(a) - typeRank(b) || a.localeCompare(b))
      .map(([type, charts]) => ({ type, charts: [...charts.entries()].sort(([a], [b]) => a.localeCompare(b)) }));
  }, [live.series, live.version, runs]);

  return (
    <section class="metric-panels" aria-label="Metrics">
      <div class="toolbar chart-controls">
        <label>
          Smoothing
          <input
            type="range"
            min="0"
            max="0.99"
            step="0.01"
            value={smoothing}
            aria-label="Smoothing"
            onInput={(event) => setSmoothing(Number(event.currentTarget.value))}
          />
          <output>{smoothing.toFixed(2)}</output>
        </label>
        <label>
          <input type="checkbox" checked={logY} onChange={(event) => setLogY(event.currentTarget.checked)} /> Log scale
        </label>
        <button type="button" disabled={zoom === null} onClick={() => setZoom(null)}>
          Reset zoom
        </button>
        <span class="muted">Drag across a chart to zoom; double-click to zoom out.</span>
      </div>
      {live.error && (
        <p class="problem" role="alert">
          Could not load the metrics: {live.error.message}
        </p>
      )}
      {!live.loading && groups.length === 0 && <p class="muted">No metrics logged yet.</p>}
      {groups.map((group) => (
        <div key={group.type} class="metric-group">
          <h3>{TYPE_TITLES[group.type] ?? group.type}</h3>
          <div class="chart-grid">
            {group.charts.map(([name, series]) => (
              <LineChart
                key={`${group.type}/${name}`}
                title={`${group.type}/${name}`}
                series={series}
                options={options}
                version={live.version}
                zoom={zoom}
                onZoom={setZoom}
              />
            ))}
          </div>
        </div>
      ))}
    </section>
  );
}

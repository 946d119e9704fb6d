/**
 * The run's `system` metrics (recorded by the SDK while the run was open): CPU, memory,
 * disk, network and, per GPU, utilisation, memory, temperature and power, one chart per
 * quantity with a line per series (a line per GPU), over seconds since the run started.
 * Charts follow the run live; nothing is shown for a run without system metrics.
 */
import { useMemo, useState } from 'preact/hooks';
import { colorFor } from '../../charts/chart-colors.js';
import type { ChartOptions, ChartSeries } from '../../charts/chart-series.js';
import { LineChart } from '../../charts/line-chart.js';
import { useLiveMetrics } from '../../charts/live-metrics.js';
import { chartRank, placeSystemSeries, SYSTEM_TYPE } from './system-metric-charts.js';

const OPTIONS: ChartOptions = { smoothing: 0, logY: false };

export function SystemMetricsPanel({ runId }: { runId: string }) {
  const [zoom, setZoom] = useState<[number, number] | null>(null);
  const runs = useMemo(() => [runId], [runId]);
  const onlySystem = useMemo(() => (type: string) => type === SYSTEM_TYPE, []);
  const live = useLiveMetrics(runs, 1000, zoom, onlySystem);

  const charts = useMemo(() => {
    const byChart = new Map<string, ChartSeries[]>();
    const series = [...live.series.values()].sort((a, b) => a.name.localeCompare(b.name));
    for (const each of series) {
      const { chart, label } = placeSystemSeries(each.name);
      const lines = byChart.get(chart) ?? [];
      byChart.set(chart, lines);
      lines.push({ label, color: colorFor(lines.length), steps: each.steps, values: each.values });
    }
    return [...byChart.entries()].sort(([a], [b]) => chartRank(a) - chartRank(b) || a.localeCompare(b));
  }, [live.series, live.version]);

  if (live.error) {
    return (
      <p class="problem" role="alert">
        Could not load the system metrics: {live.error.message}
      </p>
    );
  }
  if (charts.length === 0) return null;
  return (
    <section class="system-metrics" aria-label="System metrics">
      <h2>System</h2>
      <p class="muted">
        Sampled by the SDK while the run was open; the horizontal axis is seconds since the run started.
        {zoom && (
          <button type="button" onClick={() => setZoom(null)}>
            Reset zoom
          </button>
        )}
      </p>
      <div class="chart-grid">
        {charts.map(([title, series]) => (
          <LineChart
            key={title}
            title={title}
            series={series}
            options={OPTIONS}
            version={live.version}
            zoom={zoom}
            onZoom={setZoom}
            height={180}
          />
        ))}
      </div>
    </section>
  );
}

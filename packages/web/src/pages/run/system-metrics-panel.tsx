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

export const SYSTEM_TYPE = 'system';

/** Which chart a series goes to, and its label there. */
interface Placement {
  chart: string;
  label: string;
}

const FIXED: Record<string, Placement> = {
  cpu_percent: { chart: 'CPU (%)', label: 'machine' },
  process_cpu_percent: { chart: 'CPU (%)', label: 'this process (% of one core)' },
  memory_used_mib: { chart: 'Memory (MiB)', label: 'machine, used' },
  process_rss_mib: { chart: 'Memory (MiB)', label: 'this process (RSS)' },
  memory_percent: { chart: 'Memory (%)', label: 'machine, used' },
  disk_read_mib_per_s: { chart: 'Disk (MiB/s)', label: 'read' },
  disk_write_mib_per_s: { chart: 'Disk (MiB/s)', label: 'write' },
  network_received_mib_per_s: { chart: 'Network (MiB/s)', label: 'received' },
  network_sent_mib_per_s: { chart: 'Network (MiB/s)', label: 'sent' },
};

const GPU_CHARTS: Record<string, string> = {
  utilization_percent: 'GPU utilisation (%)',
  memory_used_mib: 'GPU memory (MiB)',
  memory_percent: 'GPU memory (%)',
  temperature_c: 'GPU temperature (°C)',
  power_w: 'GPU power (W)',
};

const CHART_ORDER = [
  'CPU (%)',
  'Memory (MiB)',
  'Memory (%)',
  'Disk (MiB/s)',
  'Network (MiB/s)',
  ...Object.values(GPU_CHARTS),
];

/** Where a system series is charted: a known quantity, a GPU's (`gpu<i>_<quantity>`), or its own chart. */
export function placeSystemSeries(name: string): Placement {
  const fixed = FIXED[name];
  if (fixed) return fixed;
  const gpu = /^gpu(\d+)_(.+)$/.exec(name);
  const chart = gpu ? GPU_CHARTS[gpu[2] as string] : undefined;
  if (gpu && chart) return { chart, label: `GPU ${gpu[1]}` };
  return { chart: name, label: name };
}

const OPTIONS: ChartOptions = { smoothing: 0, logY: false };
const rank = (chart: string) => (CHART_ORDER.includes(chart) ? CHART_ORDER.indexOf(chart) : CHART_ORDER.length);

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
    return [...byChart.entries()].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
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

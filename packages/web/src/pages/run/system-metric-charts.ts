/**
 * Which chart of the run page's system panel each `system` series goes to, and its label
 * there: the machine's quantities in a fixed order, one chart per GPU quantity with a line
 * per GPU (`gpu<i>_<quantity>`), and any other series in a chart of its own.
 */

export const SYSTEM_TYPE = 'system';

export interface Placement {
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

/** Where a chart comes in the panel: the known ones in order, then the rest. */
export function chartRank(chart: string): number {
  return CHART_ORDER.includes(chart) ? CHART_ORDER.indexOf(chart) : CHART_ORDER.length;
}

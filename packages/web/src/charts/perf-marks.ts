/**
 * Marks on the page's performance timeline, read by the benchmark (`bench/web-bench.mjs`)
 * and visible in the browser's profiler: when points arrived, when a chart finished drawing,
 * when the runs table first showed rows.
 */
export const POINTS_ARRIVED = 'larder:points-arrived';
export const CHART_DRAWN = 'larder:chart-drawn';
export const TABLE_RENDERED = 'larder:table-rendered';

export function mark(name: string, detail?: Record<string, unknown>): void {
  performance.mark(name, detail ? { detail } : undefined);
}

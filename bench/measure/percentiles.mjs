/** Latency summaries: nearest-rank percentiles over a list of milliseconds. */

/** @param {number[]} sorted ascending @param {number} p in (0, 100] */
function nearestRank(sorted, p) {
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

/**
 * @param {number[]} samples milliseconds
 * @example summarizeLatencies([3, 1, 2]) // { count: 3, p50: 2, p95: 3, p99: 3, mean: 2, max: 3 }
 */
export function summarizeLatencies(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, x) => sum + x, 0) / (sorted.length || 1);
  return {
    count: sorted.length,
    p50: round(nearestRank(sorted, 50)),
    p95: round(nearestRank(sorted, 95)),
    p99: round(nearestRank(sorted, 99)),
    mean: round(mean),
    max: round(sorted.at(-1) ?? Number.NaN),
  };
}

/** Rounds to 2 decimals, the precision the report shows. */
export function round(value, decimals = 2) {
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale;
}

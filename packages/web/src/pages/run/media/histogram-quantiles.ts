/**
 * Quantiles of a logged histogram (equal-width buckets of `[min, max]` and their counts),
 * read off its cumulative counts with values spread evenly inside each bucket, as
 * TensorBoard's distributions do. The chart shades the bands between matching quantiles
 * (the normal distribution's 0, ±1, ±2, ±3 σ and the median) at every step.
 */
export interface HistogramRecord {
  _id: string;
  name: string;
  step: number;
  min: number;
  max: number;
  counts: number[];
  count: number;
}

/** Percentiles at 0, ±3σ… the median … 100 (TensorBoard's choice). */
export const BAND_PERCENTILES = [0, 6.68, 15.87, 30.85, 50, 69.15, 84.13, 93.32, 100];

/** The value below which `percent` % of the histogram's values lie. */
export function quantile(
  histogram: Pick<HistogramRecord, 'min' | 'max' | 'counts' | 'count'>,
  percent: number,
): number {
  const { min, max, counts, count } = histogram;
  if (count === 0 || max === min) return min;
  const width = (max - min) / counts.length;
  const target = (percent / 100) * count;
  let seen = 0;
  for (let bucket = 0; bucket < counts.length; bucket++) {
    const inBucket = counts[bucket] ?? 0;
    if (inBucket > 0 && seen + inBucket >= target) {
      return min + width * (bucket + (target - seen) / inBucket);
    }
    seen += inBucket;
  }
  return max;
}

/** Per step (in order), the values at each of `percentiles`. */
export function quantileBands(
  histograms: readonly HistogramRecord[],
  percentiles: readonly number[] = BAND_PERCENTILES,
): { steps: number[]; values: number[][] } {
  const sorted = [...histograms].sort((a, b) => a.step - b.step);
  return {
    steps: sorted.map((each) => each.step),
    values: percentiles.map((percent) => sorted.map((each) => quantile(each, percent))),
  };
}

/**
 * The histogram of a tensor at a step, computed in the SDK so the wire carries the bins,
 * never the tensor: `bins` equal-width buckets from the smallest to the largest finite value
 * (the last bucket includes the maximum), their counts, and the moments a chart's tooltip
 * wants. NaN and ±Infinity are counted apart, never binned.
 */
import { LarderError } from '@larder/protocol';

/** What `run.logHistogram` accepts: any array-like of numbers (a typed array, a tensor's `dataSync()`). */
export type NumericValues = ArrayLike<number> | ArrayLike<bigint>;

export interface Histogram {
  /** Smallest and largest finite value (0 and 0 when there is none). */
  min: number;
  max: number;
  /** One count per equal-width bucket of `[min, max]`. */
  counts: number[];
  /** Finite values binned. */
  count: number;
  sum: number;
  sumSquares: number;
  /** NaN and ±Infinity seen (not binned). */
  nonFinite: number;
}

export const DEFAULT_BINS = 64;
export const MAX_BINS = 1024;

/**
 * @example
 * computeHistogram(new Float32Array([0, 0.5, 1]), 2); // { min: 0, max: 1, counts: [1, 2], … }
 */
export function computeHistogram(values: NumericValues, bins = DEFAULT_BINS): Histogram {
  if (!Number.isInteger(bins) || bins < 1 || bins > MAX_BINS) {
    throw new LarderError('BadRequest', `A histogram has 1 to ${MAX_BINS} bins, not ${String(bins)}`);
  }
  if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
    throw new LarderError('BadRequest', 'logHistogram needs an array or typed array of numbers');
  }
  const length = values.length;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let count = 0;
  let sum = 0;
  let sumSquares = 0;
  let nonFinite = 0;
  for (let index = 0; index < length; index++) {
    const value = Number(values[index]);
    if (!Number.isFinite(value)) {
      if (typeof values[index] !== 'number' && typeof values[index] !== 'bigint') {
        throw new LarderError('BadRequest', `logHistogram: element ${index} is not a number`);
      }
      nonFinite++;
      continue;
    }
    if (value < min) min = value;
    if (value > max) max = value;
    count++;
    sum += value;
    sumSquares += value * value;
  }
  const counts = new Array<number>(bins).fill(0);
  if (count === 0) return { min: 0, max: 0, counts, count, sum, sumSquares, nonFinite };
  const width = (max - min) / bins;
  for (let index = 0; index < length; index++) {
    const value = Number(values[index]);
    if (!Number.isFinite(value)) continue;
    // All values equal (width 0) land in the first bucket; the maximum in the last.
    const bucket = width === 0 ? 0 : Math.min(bins - 1, Math.floor((value - min) / width));
    counts[bucket] = (counts[bucket] as number) + 1;
  }
  return { min, max, counts, count, sum, sumSquares, nonFinite };
}

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
  // Typed arrays of numbers read as one monomorphic loop; anything else is turned into one.
  const numbers = isNumberArray(values) ? values : toFloat64(values);
  const length = numbers.length;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let count = 0;
  let sum = 0;
  let sumSquares = 0;
  for (let index = 0; index < length; index++) {
    const value = numbers[index] as number;
    if (value - value !== 0) continue; // NaN or ±Infinity
    if (value < min) min = value;
    if (value > max) max = value;
    count++;
    sum += value;
    sumSquares += value * value;
  }
  const nonFinite = length - count;
  const bucketCounts = new Float64Array(bins);
  if (count > 0) {
    const scale = max === min ? 0 : bins / (max - min);
    for (let index = 0; index < length; index++) {
      const value = numbers[index] as number;
      if (value - value !== 0) continue;
      // All values equal (scale 0) land in the first bucket; the maximum in the last.
      const bucket = Math.floor((value - min) * scale);
      const at = bucket < bins ? bucket : bins - 1;
      bucketCounts[at] = (bucketCounts[at] as number) + 1;
    }
  }
  const counts = Array.from(bucketCounts);
  if (count === 0) return { min: 0, max: 0, counts, count, sum, sumSquares, nonFinite };
  return { min, max, counts, count, sum, sumSquares, nonFinite };
}

type NumberArray =
  | Float64Array
  | Float32Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint32Array
  | Uint16Array
  | Uint8Array
  | Uint8ClampedArray;

function isNumberArray(values: NumericValues): values is NumberArray {
  return ArrayBuffer.isView(values) && !(values instanceof BigInt64Array) && !(values instanceof BigUint64Array);
}

function toFloat64(values: ArrayLike<number> | ArrayLike<bigint>): Float64Array {
  const out = new Float64Array(values.length);
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    if (typeof value !== 'number' && typeof value !== 'bigint') {
      throw new LarderError('BadRequest', `logHistogram: element ${index} is not a number`);
    }
    out[index] = Number(value);
  }
  return out;
}

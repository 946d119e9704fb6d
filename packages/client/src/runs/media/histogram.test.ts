import { describe, expect, it } from 'vitest';
import { computeHistogram } from './histogram.js';

describe('computeHistogram', () => {
  it('bins equal-width buckets from min to max, the maximum in the last one', () => {
    const histogram = computeHistogram([0, 1, 2, 3, 4, 5, 6, 7, 8, 10], 5);
    expect(histogram).toMatchObject({ min: 0, max: 10, counts: [2, 2, 2, 2, 2], count: 10, nonFinite: 0 });
    expect(histogram.sum).toBe(46);
  });

  it('reads typed arrays and bigints, and counts NaN and infinities apart', () => {
    expect(computeHistogram(new Float32Array([-1, 1, Number.NaN, Number.POSITIVE_INFINITY]), 2)).toMatchObject({
      min: -1,
      max: 1,
      counts: [1, 1],
      count: 2,
      nonFinite: 2,
    });
    expect(computeHistogram(new BigInt64Array([1n, 2n, 3n]), 2).counts).toEqual([1, 2]);
  });

  it('puts equal values in the first bucket and an empty tensor nowhere', () => {
    expect(computeHistogram([3, 3, 3], 4)).toMatchObject({ min: 3, max: 3, counts: [3, 0, 0, 0] });
    expect(computeHistogram([], 4)).toMatchObject({ min: 0, max: 0, counts: [0, 0, 0, 0], count: 0 });
  });

  it('agrees with counting each bucket directly on random data', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const values = Array.from({ length: 10_000 }, () => random() * 4 - 2);
    const { min, max, counts } = computeHistogram(values, 64);
    const width = (max - min) / 64;
    const expected = counts.map(
      (_, bucket) =>
        values.filter((value) => {
          const low = min + bucket * width;
          return bucket === 63 ? value >= low : value >= low && value < min + (bucket + 1) * width;
        }).length,
    );
    // Floating rounding at bucket edges may move a value by one bucket, never lose one.
    expect(counts.reduce((a, b) => a + b, 0)).toBe(10_000);
    const moved = counts.reduce((sum, count, index) => sum + Math.abs(count - (expected[index] ?? 0)), 0);
    expect(moved).toBeLessThanOrEqual(4);
  });

  it('refuses bad bins and non-numbers with a sentence', () => {
    expect(() => computeHistogram([1], 0)).toThrow(/1 to 1024 bins/);
    expect(() => computeHistogram(['a'] as unknown as number[], 4)).toThrow(/element 0 is not a number/);
    expect(() => computeHistogram(5 as unknown as number[], 4)).toThrow(/array or typed array/);
  });
});

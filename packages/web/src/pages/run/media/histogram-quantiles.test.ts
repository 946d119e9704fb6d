import { describe, expect, it } from 'vitest';
import { quantile, quantileBands } from './histogram-quantiles.js';

describe('quantile', () => {
  const flat = { min: 0, max: 10, counts: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1], count: 10 };

  it('reads values off the cumulative counts, spread evenly in each bucket', () => {
    expect(quantile(flat, 0)).toBe(0);
    expect(quantile(flat, 50)).toBeCloseTo(5);
    expect(quantile(flat, 100)).toBe(10);
    expect(quantile(flat, 15)).toBeCloseTo(1.5);
  });

  it('skips empty buckets and keeps a spike where it is', () => {
    const spike = { min: -1, max: 1, counts: [0, 0, 8, 0], count: 8 };
    expect(quantile(spike, 0)).toBeCloseTo(0);
    expect(quantile(spike, 50)).toBeCloseTo(0.25);
    expect(quantile(spike, 100)).toBeCloseTo(0.5);
  });

  it('answers the single value of an empty or constant tensor', () => {
    expect(quantile({ min: 3, max: 3, counts: [5], count: 5 }, 90)).toBe(3);
    expect(quantile({ min: 0, max: 0, counts: [0, 0], count: 0 }, 50)).toBe(0);
  });
});

describe('quantileBands', () => {
  it('orders steps and gives one row per percentile', () => {
    const record = (step: number, shift: number) => ({
      _id: String(step),
      name: 'w',
      step,
      min: shift,
      max: shift + 2,
      counts: [1, 1],
      count: 2,
    });
    const bands = quantileBands([record(2, 10), record(1, 0)], [0, 50, 100]);
    expect(bands.steps).toEqual([1, 2]);
    expect(bands.values).toEqual([
      [0, 10],
      [1, 11],
      [2, 12],
    ]);
  });
});

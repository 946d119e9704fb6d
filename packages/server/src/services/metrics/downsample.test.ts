import { describe, expect, it } from 'vitest';
import { minMaxIndexes, pick } from './downsample.js';

describe('minMaxIndexes', () => {
  it('keeps every point of a short series', () => {
    expect(Array.from(minMaxIndexes(Float64Array.from([3, 1, 2]), 10))).toEqual([0, 1, 2]);
  });

  it('answers at most the target, ascending, with the first and last points', () => {
    const values = Float64Array.from({ length: 1_000_000 }, (_, index) => Math.sin(index / 1000));
    const picked = minMaxIndexes(values, 2000);
    expect(picked.length).toBeLessThanOrEqual(2000);
    expect(picked.length).toBeGreaterThan(1900);
    expect(picked[0]).toBe(0);
    expect(picked.at(-1)).toBe(999_999);
    for (let index = 1; index < picked.length; index += 1) {
      expect(picked[index] as number).toBeGreaterThan(picked[index - 1] as number);
    }
  });

  it('keeps a one-point spike and a one-point dip visible', () => {
    const values = new Float64Array(1_000_000).fill(1);
    values[123_457] = 1000;
    values[876_543] = -1000;
    const kept = pick(values, minMaxIndexes(values, 500));
    expect(Math.max(...kept)).toBe(1000);
    expect(Math.min(...kept)).toBe(-1000);
  });

  it('skips NaN values when choosing extremes', () => {
    const values = Float64Array.from({ length: 100 }, (_, index) => (index % 2 ? Number.NaN : index));
    const kept = pick(values, minMaxIndexes(values, 10));
    expect(kept.filter(Number.isNaN).length).toBeLessThanOrEqual(1);
    expect(kept).toContain(98);
  });
});

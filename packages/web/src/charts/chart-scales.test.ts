import { describe, expect, it } from 'vitest';
import { formatStep, logRange } from './chart-scales.js';

describe('formatStep', () => {
  it('shortens large round steps and writes out the ones the short form would round', () => {
    expect(formatStep(950)).toBe('950');
    expect(formatStep(7500)).toBe('7500');
    expect(formatStep(12_500)).toBe('12.5K');
    expect(formatStep(1_200_000)).toBe('1.2M');
    expect(formatStep(100_005)).toBe('100005');
    expect(formatStep(2.5)).toBe('2.5');
  });
});

describe('logRange', () => {
  it('widens to the nearest 1, 2 or 5 of a decade', () => {
    expect(logRange(0.11, 2.1)).toEqual([0.1, 5]);
    expect(logRange(0.2, 2)).toEqual([0.2, 2]);
    expect(logRange(3e-5, 0.7)).toEqual([2e-5, 1]);
    expect(logRange(null, null)).toEqual([1, 10]);
  });
});

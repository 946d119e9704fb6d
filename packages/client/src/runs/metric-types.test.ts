import { describe, expect, it } from 'vitest';
import { normalizeMetricType } from './metric-types.js';

describe('normalizeMetricType', () => {
  it.each([
    ['train', 'train'],
    ['training', 'train'],
    ['val', 'val'],
    ['validate', 'val'],
    ['validation', 'val'],
    ['Validation', 'val'],
    ['test', 'test'],
    ['testing', 'test'],
    ['eval', 'test'],
    ['evaluate', 'test'],
    ['evaluation', 'test'],
  ])('maps %s to %s', (given, expected) => {
    expect(normalizeMetricType(given)).toBe(expected);
  });

  it('keeps any other string as a custom type', () => {
    expect(normalizeMetricType('lr-schedule')).toBe('lr-schedule');
  });

  it('refuses an empty type', () => {
    expect(() => normalizeMetricType(' ')).toThrow(/non-empty string/);
  });
});

import { describe, expect, it } from 'vitest';
import { nearestName } from './nearest-name.js';

describe('nearestName', () => {
  it('finds the service a typo meant: swapped, missing or extra letters', () => {
    const known = ['experiments', 'runs', 'tfjs-models', 'assets'];
    expect(nearestName('experimnets', known)).toBe('experiments');
    expect(nearestName('experiment', known)).toBe('experiments');
    expect(nearestName('rusn', known)).toBe('runs');
    expect(nearestName('tfjs-model', known)).toBe('tfjs-models');
  });

  it('suggests nothing for a name far from every known one', () => {
    expect(nearestName('checkpoints', ['experiments', 'runs'])).toBeUndefined();
    expect(nearestName('x', [])).toBeUndefined();
  });
});

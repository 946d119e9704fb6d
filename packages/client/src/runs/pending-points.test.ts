import { describe, expect, it } from 'vitest';
import type { MetricChunk } from './metric-chunk.js';
import { PendingPoints } from './pending-points.js';

const chunk = (offset: number, count: number, epochs = false): MetricChunk => {
  const steps = Array.from({ length: count }, (_, index) => offset + index);
  return {
    type: 'train',
    name: 'loss',
    offset,
    steps,
    values: steps.map((step) => step / 2),
    epochs: epochs ? steps.map((step) => step % 3) : null,
    times: steps,
  };
};

describe('PendingPoints', () => {
  it('takes batches across chunks, skips what it holds, and forgets what the server acknowledged', () => {
    const pending = new PendingPoints('train', 'loss', 2);
    expect(pending.add(chunk(0, 5))).toBe(3); // points 0-1 are on the server already
    expect(pending.add(chunk(3, 4, true))).toBe(2); // 3-4 held: 5-6 added
    expect(pending.add(chunk(7, 3))).toBe(3);
    expect(pending.length).toBe(8);
    const batch = pending.take(6);
    expect(batch).toEqual({
      offset: 2,
      steps: [2, 3, 4, 5, 6, 7],
      values: [1, 1.5, 2, 2.5, 3, 3.5],
      epochs: [null, null, null, 2, 0, null],
      times: [2, 3, 4, 5, 6, 7],
    });
    // The server kept only part of it.
    expect(pending.acknowledge(5)).toBe(3);
    expect(pending.take(100)).toMatchObject({ offset: 5, steps: [5, 6, 7, 8, 9], epochs: [2, 0, null, null, null] });
    expect(pending.acknowledge(10)).toBe(5);
    expect(pending.length).toBe(0);
    expect(pending.take(10).steps).toEqual([]);
    expect(pending.add(chunk(10, 1)).valueOf()).toBe(1);
    expect(pending.take(10)).toEqual({ offset: 10, steps: [10], values: [5], epochs: null, times: [10] });
  });
});

import { describe, expect, it } from 'vitest';
import { type MetricChunk, nullableNumbers } from './metric-chunk.js';
import { type PendingBatch, PendingPoints } from './pending-points.js';

const chunk = (offset: number, count: number, epochs = false): MetricChunk => {
  const steps = Array.from({ length: count }, (_, index) => offset + index);
  return {
    type: 'train',
    name: 'loss',
    offset,
    steps: Float64Array.from(steps),
    values: Float64Array.from(steps, (step) => step / 2),
    epochs: epochs ? Float64Array.from(steps, (step) => step % 3) : null,
    times: Float64Array.from(steps),
  };
};

/** A batch with plain arrays (NaN as null), for comparing. */
const plain = (batch: PendingBatch) => ({
  offset: batch.offset,
  steps: Array.from(batch.steps),
  values: nullableNumbers(batch.values),
  epochs: batch.epochs ? nullableNumbers(batch.epochs) : null,
  times: Array.from(batch.times),
});

describe('PendingPoints', () => {
  it('takes batches across chunks, skips what it holds, and forgets what the server acknowledged', () => {
    const pending = new PendingPoints('train', 'loss', 2);
    expect(pending.add(chunk(0, 5))).toBe(3); // points 0-1 are on the server already
    expect(pending.add(chunk(3, 4, true))).toBe(2); // 3-4 held: 5-6 added
    expect(pending.add(chunk(7, 3))).toBe(3);
    expect(pending.length).toBe(8);
    const batch = pending.take(6);
    expect(plain(batch)).toEqual({
      offset: 2,
      steps: [2, 3, 4, 5, 6, 7],
      values: [1, 1.5, 2, 2.5, 3, 3.5],
      epochs: [null, null, null, 2, 0, null],
      times: [2, 3, 4, 5, 6, 7],
    });
    // The server kept only part of it.
    expect(pending.acknowledge(5)).toBe(3);
    expect(plain(pending.take(100))).toMatchObject({
      offset: 5,
      steps: [5, 6, 7, 8, 9],
      epochs: [2, 0, null, null, null],
    });
    expect(pending.acknowledge(10)).toBe(5);
    expect(pending.length).toBe(0);
    expect(pending.take(10).steps).toHaveLength(0);
    expect(pending.add(chunk(10, 1)).valueOf()).toBe(1);
    expect(plain(pending.take(10))).toEqual({ offset: 10, steps: [10], values: [5], epochs: null, times: [10] });
  });

  it('hands out a view of a chunk, not a copy, when one chunk holds the batch', () => {
    const pending = new PendingPoints('train', 'loss', 0);
    const whole = chunk(0, 10);
    pending.add(whole);
    const batch = pending.take(4);
    expect(batch.steps.buffer).toBe(whole.steps.buffer);
    expect(Array.from(batch.steps)).toEqual([0, 1, 2, 3]);
  });

  it('takes chunks that lie side by side in one block of memory as one view, and copies those that do not', () => {
    const block = chunk(0, 12, true);
    const slice = (from: number, to: number): MetricChunk => ({
      ...block,
      offset: from,
      steps: block.steps.subarray(from, to),
      values: block.values.subarray(from, to),
      epochs: block.epochs?.subarray(from, to) ?? null,
      times: block.times.subarray(from, to),
    });
    const pending = new PendingPoints('train', 'loss', 0);
    pending.add(slice(0, 4));
    pending.add(slice(4, 9));
    pending.add(chunk(9, 3, true)); // from another block
    const adjoining = pending.take(9);
    expect(adjoining.steps.buffer).toBe(block.steps.buffer);
    expect(adjoining.epochs?.buffer).toBe(block.epochs?.buffer);
    expect(plain(adjoining)).toEqual(plain(slice(0, 9)));
    const across = pending.take(12);
    expect(across.steps.buffer).not.toBe(block.steps.buffer);
    expect(plain(across).steps).toEqual(Array.from({ length: 12 }, (_, index) => index));
    expect(plain(across).epochs).toEqual(Array.from({ length: 12 }, (_, index) => index % 3));
  });
});

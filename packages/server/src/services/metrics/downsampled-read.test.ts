import { describe, expect, it } from 'vitest';
import { SPAN_CHUNKS } from '../../stores/chunk-envelope.js';
import { CHUNK_POINTS } from '../../stores/metric-store.js';
import { minMaxIndexes, pick } from './downsample.js';
import { readDownsampled } from './downsampled-read.js';
import { series, sourceOf } from './test-support/series-fixture.js';

const key = { run: 'r', type: 'train', name: 'loss' };
const finite = (values: (number | null)[]) => values.filter((value) => value !== null) as number[];

describe('reading a long series downsampled', () => {
  const data = series(400);

  it('answers the whole series from its spans alone when each bucket is wider than a span', async () => {
    const { source, asked } = sourceOf(data);
    // 19 buckets of 86,000 points: spans (32,768 points) fit.
    const result = await readDownsampled(source, key, {}, 40);
    expect(asked).toEqual({ chunkEnvelopes: [], segments: [], points: [] });
    expect(result.count).toBe(data.steps.length);
    expect(result.steps.length).toBeLessThanOrEqual(40);
    expect(result.steps.length).toBeGreaterThan(36);
    expect(result.steps[0]).toBe(0);
    expect(result.steps.at(-1)).toBe(data.steps.at(-1));
    expect(Math.max(...finite(result.values))).toBe(50);
    expect(Math.min(...finite(result.values))).toBe(-50);
    for (let index = 1; index < result.steps.length; index += 1) {
      expect(result.steps[index] as number).toBeGreaterThan(result.steps[index - 1] as number);
    }
  });

  it('uses chunk envelopes when spans are wider than a bucket, and keeps close to the exact answer', async () => {
    const { source, asked } = sourceOf(data);
    const result = await readDownsampled(source, key, {}, 200);
    expect(asked.chunkEnvelopes).toHaveLength(400);
    expect(asked.points).toEqual([]);
    expect(result.steps.length).toBeLessThanOrEqual(200);
    const exact = pick(data.values, minMaxIndexes(data.values, 200)).filter(Number.isFinite);
    expect(Math.max(...finite(result.values))).toBe(Math.max(...exact));
    expect(result.steps.length).toBeGreaterThan(200 * 0.9);
  });

  it('reads only the chunks a zoom cuts through, and nothing outside it', async () => {
    const { source, asked } = sourceOf(data);
    const fromStep = 2 * CHUNK_POINTS * 100 + 777;
    const toStep = 2 * CHUNK_POINTS * 300 + 5;
    const result = await readDownsampled(source, key, { fromStep, toStep }, 200);
    expect(asked.points).toEqual([100, 300]);
    // Chunk envelopes of the two spans cut, then of the spans inside.
    expect(asked.chunkEnvelopes).toHaveLength(200 + SPAN_CHUNKS);
    const inRange = Array.from(data.steps).filter((step) => step >= fromStep && step <= toStep).length;
    expect(result.count).toBe(inRange);
    expect(result.steps[0]).toBe(fromStep + 1);
    expect(result.steps.at(-1)).toBe(toStep - 1);
    expect(Math.min(...result.steps)).toBeGreaterThanOrEqual(fromStep);
    expect(Math.max(...result.steps)).toBeLessThanOrEqual(toStep);
    expect(result.values).toContain(50);
  });

  it('uses segments when buckets are narrower than a chunk, reading no points inside the zoom', async () => {
    const { source, asked } = sourceOf(data);
    const fromStep = 2 * CHUNK_POINTS * 100;
    const toStep = 2 * CHUNK_POINTS * 150 - 2;
    const result = await readDownsampled(source, key, { fromStep, toStep }, 200);
    expect(asked.points).toEqual([]);
    expect([...asked.segments].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, index) => 100 + index));
    expect(result.count).toBe(50 * CHUNK_POINTS);
    expect(result.steps.length).toBeLessThanOrEqual(200);
    expect(result.steps.length).toBeGreaterThan(200 * 0.9);
    expect(result.steps[0]).toBe(fromStep);
    expect(result.steps.at(-1)).toBe(toStep);
  });

  it('answers a short range exactly from the chunks it touches', async () => {
    const { source, asked } = sourceOf(data);
    const toStep = 2 * CHUNK_POINTS * 3 - 1;
    const result = await readDownsampled(source, key, { fromStep: 10, toStep }, 200);
    expect([...asked.points].sort((a, b) => a - b)).toEqual([0, 1, 2]);
    const steps = data.steps.subarray(5, 3 * CHUNK_POINTS);
    const values = data.values.subarray(5, 3 * CHUNK_POINTS);
    const indexes = minMaxIndexes(values, 200);
    expect(result.steps).toEqual(pick(steps, indexes));
    expect(result.values).toEqual(pick(values, indexes));
  });

  it('reads the points of chunks that have no envelope, and of the spans they are in', async () => {
    const { source, asked } = sourceOf(data, 10);
    const result = await readDownsampled(source, key, {}, 40);
    expect(asked.points).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(result.count).toBe(data.steps.length);
    expect(result.steps[0]).toBe(0);
    expect(Math.max(...finite(result.values))).toBe(50);
  });
});

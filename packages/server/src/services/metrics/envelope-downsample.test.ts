import { describe, expect, it } from 'vitest';
import { envelopeOf, foldEnvelopes, segmentEnvelopes } from '../../stores/chunk-envelope.js';
import { CHUNK_POINTS, type PointColumns } from '../../stores/metric-store.js';
import { minMaxIndexes, pick } from './downsample.js';
import { downsampleFromEnvelopes, planEnvelopeRead } from './envelope-downsample.js';

/** A series of `chunks` full chunks with a noisy curve, one spike up and one down. */
function series(chunks: number) {
  const total = chunks * CHUNK_POINTS;
  const steps = new Float64Array(total);
  const values = new Float64Array(total);
  let seed = 7;
  for (let index = 0; index < total; index += 1) {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    steps[index] = index * 2;
    values[index] = Math.sin(index / 5000) + seed / 2 ** 33;
  }
  values[Math.floor(total * 0.37)] = 50;
  values[Math.floor(total * 0.81)] = -50;
  values[Math.floor(total * 0.5)] = Number.NaN;
  const parts: { seq: number; columns: PointColumns }[] = [];
  for (let seq = 0; seq < chunks; seq += 1) {
    const slice = (column: Float64Array) => column.subarray(seq * CHUNK_POINTS, (seq + 1) * CHUNK_POINTS);
    parts.push({
      seq,
      columns: { steps: slice(steps), values: slice(values), epochs: new Float64Array(0), times: new Float64Array(0) },
    });
  }
  const envelopes = parts.map((part) => envelopeOf(part.seq, part.columns));
  const segments = parts.map((part) => segmentEnvelopes(part.seq, part.columns));
  return { steps, values, parts, envelopes, segments };
}

describe('downsampling from chunk envelopes', () => {
  const data = series(400);
  const target = 200;

  it('reads no chunk for the whole series and keeps its ends and extremes, in order, within the target', () => {
    const plan = planEnvelopeRead(400, data.envelopes, {}, target);
    expect(plan.read).toEqual([]);
    const result = downsampleFromEnvelopes(plan, [], {});
    expect(result.count).toBe(data.steps.length);
    expect(result.steps.length).toBeLessThanOrEqual(target);
    expect(result.steps[0]).toBe(0);
    expect(result.steps.at(-1)).toBe(data.steps.at(-1));
    expect(Math.max(...(result.values.filter((value) => value !== null) as number[]))).toBe(50);
    expect(Math.min(...(result.values.filter((value) => value !== null) as number[]))).toBe(-50);
    for (let index = 1; index < result.steps.length; index += 1) {
      expect(result.steps[index] as number).toBeGreaterThan(result.steps[index - 1] as number);
    }
    // Close to the exact, point-by-point answer: the same extremes, and a similar count.
    const exact = pick(data.values, minMaxIndexes(data.values, target)).filter(Number.isFinite);
    expect(Math.max(...exact)).toBe(50);
    expect(result.steps.length).toBeGreaterThan(target * 0.9);
  });

  it('reads only the chunks a zoom cuts through, and nothing outside it', () => {
    const fromStep = 2 * CHUNK_POINTS * 100 + 777;
    const toStep = 2 * CHUNK_POINTS * 300 + 5;
    const plan = planEnvelopeRead(400, data.envelopes, { fromStep, toStep }, target);
    expect(plan.read).toEqual([100, 300]);
    const read = data.parts.filter((part) => plan.read.includes(part.seq));
    const result = downsampleFromEnvelopes(plan, read, { fromStep, toStep });
    const inRange = Array.from(data.steps).filter((step) => step >= fromStep && step <= toStep).length;
    expect(result.count).toBe(inRange);
    expect(result.steps[0]).toBe(fromStep + 1);
    expect(result.steps.at(-1)).toBe(toStep - 1);
    for (const step of result.steps) {
      expect(step).toBeGreaterThanOrEqual(fromStep);
      expect(step).toBeLessThanOrEqual(toStep);
    }
    expect(result.values).toContain(50);
  });

  it('leaves short ranges to the exact path over the chunks they touch, and reads chunks that have no envelope', () => {
    const short = planEnvelopeRead(400, data.envelopes, { fromStep: 10, toStep: 2 * CHUNK_POINTS * 3 - 1 }, target);
    expect(short).toMatchObject({ mode: 'exact', inside: [], read: [0, 1, 2] });
    const partial = planEnvelopeRead(400, data.envelopes.slice(10), {}, target);
    expect(partial.mode).toBe('chunks');
    expect(partial.read).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('uses segments when buckets are narrower than two chunks, reading no points inside the zoom', () => {
    const fromStep = 2 * CHUNK_POINTS * 100;
    const toStep = 2 * CHUNK_POINTS * 150 - 2;
    const plan = planEnvelopeRead(400, data.envelopes, { fromStep, toStep }, target);
    expect(plan.mode).toBe('segments');
    expect(plan.read).toEqual([]);
    plan.inside = plan.inside.flatMap((envelope) => data.segments[envelope.seq] ?? []);
    const result = downsampleFromEnvelopes(plan, [], { fromStep, toStep });
    expect(result.count).toBe(50 * CHUNK_POINTS);
    expect(result.steps.length).toBeLessThanOrEqual(target);
    expect(result.steps.length).toBeGreaterThan(target * 0.9);
    expect(result.steps[0]).toBe(fromStep);
    expect(result.steps.at(-1)).toBe(toStep);
    // The segments' extremes are the chunk's: folding them gives the chunk's envelope.
    const folded = foldEnvelopes(data.segments[120] ?? []);
    expect(folded).toEqual(data.envelopes[120]);
  });
});

import { describe, expect, it } from 'vitest';
import { decodeMetricColumns, encodeMetricColumns } from './metric-columns.js';

describe('metric columns', () => {
  it('round-trips series with and without epochs and times', () => {
    const steps = Float64Array.from([0, 1, 2]);
    const values = Float64Array.from([0.5, Number.NaN, -1e300]);
    const body = encodeMetricColumns('run-1', [
      {
        type: 'train',
        name: 'loss',
        offset: 10,
        steps,
        values,
        epochs: Float64Array.from([0, 0, Number.NaN]),
        times: Float64Array.from([1, 2, 3]),
      },
      { type: 'val', name: 'accuracy', offset: 0, steps: Float64Array.from([7]), values: Float64Array.from([0.9]) },
    ]);
    expect(body.length % 8).toBe(0);
    const decoded = decodeMetricColumns(body);
    expect(decoded.run).toBe('run-1');
    const [loss, accuracy] = decoded.series;
    expect(loss).toMatchObject({ type: 'train', name: 'loss', offset: 10 });
    expect(Array.from(loss?.values ?? [])).toEqual([0.5, Number.NaN, -1e300]);
    expect(Array.from(loss?.epochs ?? [])).toEqual([0, 0, Number.NaN]);
    expect(Array.from(accuracy?.steps ?? [])).toEqual([7]);
    expect(accuracy?.epochs).toBeUndefined();
  });

  it('decodes a body that sits at an unaligned offset', () => {
    const body = encodeMetricColumns('r', [
      { type: 't', name: 'n', offset: 0, steps: Float64Array.from([1, 2]), values: Float64Array.from([3, 4]) },
    ]);
    const shifted = new Uint8Array(body.length + 3);
    shifted.set(body, 3);
    expect(Array.from(decodeMetricColumns(shifted.subarray(3)).series[0]?.values ?? [])).toEqual([3, 4]);
  });

  it('refuses malformed bodies with a clear error', () => {
    const good = encodeMetricColumns('r', [
      { type: 't', name: 'n', offset: 0, steps: Float64Array.from([1]), values: Float64Array.from([2]) },
    ]);
    expect(() => decodeMetricColumns(new Uint8Array([1, 2, 3]))).toThrow(/LMC1/);
    expect(() => decodeMetricColumns(good.subarray(0, good.length - 8))).toThrow(/shorter/);
    const longer = new Uint8Array(good.length + 8);
    longer.set(good);
    expect(() => decodeMetricColumns(longer)).toThrow(/after the last column/);
    const lying = good.slice();
    new DataView(lying.buffer).setUint32(4, 1 << 30, true);
    expect(() => decodeMetricColumns(lying)).toThrow(/header length/);
  });
});

import { describe, expect, it } from 'vitest';
import { AlignedSeries } from './aligned-series.js';
import { smooth } from './chart-scales.js';

const asIs = (values: readonly (number | null)[]) => values.slice();

describe('AlignedSeries', () => {
  it('puts lines with different steps on their union, undefined where a line has no point', () => {
    const table = new AlignedSeries(asIs);
    expect(
      table.update([
        { steps: [0, 2, 4], values: [1, null, 3] },
        { steps: [1, 2], values: [10, 20] },
      ]),
    ).toBe('rebuilt');
    expect(table.steps).toEqual([0, 1, 2, 4]);
    expect(table.columns).toEqual([
      [1, undefined, null, 3],
      [undefined, 10, 20, undefined],
    ]);
    expect(table.pointCount).toBe(5);
  });

  it('appends points that arrive past the last step without rebuilding, and keeps smoothing going', () => {
    const table = new AlignedSeries((values) => smooth(values, 0.5));
    const grown = { steps: [0, 1], values: [2, 4] };
    const still = { steps: [0, 1], values: [5, 5] };
    table.update([grown, still]);
    const column = table.columns[0];
    grown.steps.push(2, 3);
    grown.values.push(6, 8);
    expect(table.update([grown, still])).toBe('appended');
    expect(table.columns[0]).toBe(column);
    expect(table.steps).toEqual([0, 1, 2, 3]);
    expect(table.columns[0]).toEqual(smooth([2, 4, 6, 8], 0.5));
    expect(table.columns[1]).toEqual([5, 5, undefined, undefined]);
    expect(table.update([grown, still])).toBe('unchanged');
  });

  it('rebuilds when new points fall before the last shared step or the lines are new', () => {
    const table = new AlignedSeries(asIs);
    const behind = { steps: [0, 1], values: [1, 1] };
    const ahead = { steps: [0, 5], values: [2, 2] };
    table.update([behind, ahead]);
    behind.steps.push(3);
    behind.values.push(1);
    expect(table.update([behind, ahead])).toBe('rebuilt');
    expect(table.steps).toEqual([0, 1, 3, 5]);
    expect(table.update([{ steps: [7], values: [1] }, ahead])).toBe('rebuilt');
    expect(table.steps).toEqual([0, 5, 7]);
  });
});

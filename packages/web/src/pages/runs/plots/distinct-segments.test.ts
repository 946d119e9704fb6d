import { describe, expect, it } from 'vitest';
import { type ColourSegments, distinctSegments } from './distinct-segments.js';
import type { LineLayout } from './parallel-lines.js';

/** A layout of `rows[run][axis]` positions (NaN: no value) on axes at x = 0, 100, 200… */
const layoutOf = (rows: number[][]): LineLayout => {
  const count = rows.length;
  const axes = rows[0]?.length ?? 0;
  const ys = new Float32Array(axes * count);
  rows.forEach((row, at) => {
    row.forEach((y, axis) => {
      ys[axis * count + at] = y;
    });
  });
  return {
    xs: new Float32Array(Array.from({ length: axes }, (_, axis) => axis * 100)),
    ys,
    bucket: new Uint8Array(count),
    count,
    axes,
  };
};

/** Each segment as `[x0, y0, x1, y1, runs along it]`. */
const quadruples = ({ segments, runs }: ColourSegments) =>
  Array.from(runs, (along, at) => [...segments.subarray(at * 4, at * 4 + 4), along]);

describe('distinct segments of parallel coordinates', () => {
  it('draws a segment shared by many runs once, counting them, and every other segment', () => {
    const layout = layoutOf([
      [10, 20, 30],
      [10, 20, 40],
      [10, 20, 30],
      [15, 20, 30],
    ]);
    const [segments] = distinctSegments(layout, 1, () => 0);
    expect(quadruples(segments as ColourSegments)).toEqual([
      [0, 10, 100, 20, 3],
      [0, 15, 100, 20, 1],
      [100, 20, 200, 30, 3],
      [100, 20, 200, 40, 1],
    ]);
  });

  it('keeps colours apart, leaves out runs without one, and breaks a line where a run has no value', () => {
    const layout = layoutOf([
      [10, 20, 30],
      [10, 20, 30],
      [10, Number.NaN, 30],
      [50, 60, 70],
    ]);
    const colourOf = (row: number) => [0, 1, 0, -1][row] as number;
    const [first, second] = distinctSegments(layout, 2, colourOf);
    // The third run, without a value on the middle axis, adds nothing to the first colour.
    expect(quadruples(first as ColourSegments)).toEqual([
      [0, 10, 100, 20, 1],
      [100, 20, 200, 30, 1],
    ]);
    expect(quadruples(second as ColourSegments)).toEqual([
      [0, 10, 100, 20, 1],
      [100, 20, 200, 30, 1],
    ]);
  });

  it('tells apart positions a fraction of a pixel apart', () => {
    const layout = layoutOf([
      [10, 20],
      [10.25, 20],
    ]);
    const [segments] = distinctSegments(layout, 1, () => 0);
    expect(segments?.runs.length).toBe(2);
  });
});

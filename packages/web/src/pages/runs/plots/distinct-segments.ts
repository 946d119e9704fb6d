/**
 * The segments between neighbouring axes that parallel coordinates actually show: runs that
 * share values on two neighbouring axes (an hparam grid: a few learning rates, a few batch
 * sizes) share the segment between them, so 10,000 runs are often a few hundred distinct
 * segments. Each is drawn once, as opaque as the runs along it drawn one over another
 * would make it, so the browser's raster (most of the first drawing's time at 10,000 runs,
 * where it was paid for every run) only covers the distinct segments.
 */
import type { LineLayout } from './parallel-lines.js';

/** Positions are compared at 1/16 of a CSS pixel, far below what a 1 px line shows. */
const STEPS_PER_PIXEL = 16;
/** Above any position on the plot times STEPS_PER_PIXEL (a 4096 px tall plot). */
const POSITIONS = 65_536;

/** The distinct segments of one colour and how many runs share each. */
export interface ColourSegments {
  /** `x0, y0, x1, y1` quadruples in CSS pixels. */
  segments: Float32Array;
  /** `runs[i]`: how many runs share segment i. */
  runs: Uint32Array;
}

/**
 * For each colour, the distinct segments of the runs `colourOf` gives a colour (a number
 * below `colours`; -1 leaves a run out), with how many runs share each. A run without a
 * value on an axis has no segment on either side of it.
 *
 * @example
 * const [grey] = distinctSegments(layout, 1, () => 0);
 * // grey.segments[0..3]: the first segment; grey.runs[0]: the runs drawn along it
 */
export function distinctSegments(
  layout: LineLayout,
  colours: number,
  colourOf: (row: number) => number,
): ColourSegments[] {
  const { count, xs, ys } = layout;
  const colour = new Int16Array(count);
  for (let row = 0; row < count; row++) colour[row] = colourOf(row);
  const found = new Map<number, number>();
  const segments: number[][] = Array.from({ length: colours }, () => []);
  const runs: number[][] = Array.from({ length: colours }, () => []);
  for (let gap = 0; gap + 1 < layout.axes; gap++) {
    found.clear();
    const x0 = xs[gap] as number;
    const x1 = xs[gap + 1] as number;
    for (let row = 0; row < count; row++) {
      const shade = colour[row] as number;
      if (shade < 0) continue;
      const y0 = ys[gap * count + row] as number;
      const y1 = ys[(gap + 1) * count + row] as number;
      if (Number.isNaN(y0) || Number.isNaN(y1)) continue;
      const key = (shade * POSITIONS + Math.round(y0 * STEPS_PER_PIXEL)) * POSITIONS + Math.round(y1 * STEPS_PER_PIXEL);
      const shared = runs[shade] as number[];
      const at = found.get(key);
      if (at !== undefined) {
        shared[at] = (shared[at] as number) + 1;
        continue;
      }
      found.set(key, shared.length);
      shared.push(1);
      (segments[shade] as number[]).push(x0, y0, x1, y1);
    }
  }
  return segments.map((each, shade) => ({
    segments: new Float32Array(each),
    runs: new Uint32Array(runs[shade] as number[]),
  }));
}

/**
 * Drawing parallel coordinates on a canvas: every run a line across the axes, coloured by
 * its value on the last well-filled axis, one path per colour of the distinct segments
 * (`distinct-segments.ts`) so 10,000 runs are a handful of strokes. Positions are computed
 * once per layout (`lineLayout`); brushing only redraws the highlighted runs over a cached
 * layer of all of them in grey.
 */
import { type ColourSegments, distinctSegments } from './distinct-segments.js';
import { axisPosition, type PlotAxis } from './run-columns.js';

/** Colours from low to high on the last axis (a perceptually even blue-to-amber ramp). */
export const RAMP = ['#3b4cc0', '#4f79d8', '#6aa4e0', '#8dc5d6', '#c7d38f', '#e8b35a', '#e07b39', '#c4402b'];
/** Runs without a value on the colouring axis. */
const NO_VALUE = '#8a93a3';
const COLORS = [...RAMP, NO_VALUE];
const MUTED = 'rgb(140, 148, 160)';
const MUTED_ALPHA = 0.18;

export interface Frame {
  width: number;
  height: number;
  top: number;
  bottom: number;
  left: number;
  right: number;
}

export interface LineLayout {
  xs: Float32Array;
  /** `ys[axis * count + row]` in CSS pixels; NaN where the run has no value. */
  ys: Float32Array;
  /** The colour of each run: its position on the colouring axis, `RAMP.length` when it has no value there. */
  bucket: Uint8Array;
  count: number;
  axes: number;
}

export function axisX(frame: Frame, index: number, axes: number): number {
  const span = frame.width - frame.left - frame.right;
  return axes <= 1 ? frame.left + span / 2 : frame.left + (index * span) / (axes - 1);
}

/** The last axis most runs have a value on (colouring by a sparse metric would grey out most lines). */
function colouringAxis(axes: readonly PlotAxis[], count: number): number {
  for (let at = axes.length - 1; at >= 0; at--) {
    let present = 0;
    for (const value of (axes[at] as PlotAxis).values) if (!Number.isNaN(value)) present++;
    if (present * 2 >= count) return at;
  }
  return axes.length - 1;
}

export function lineLayout(frame: Frame, axes: readonly PlotAxis[], count: number): LineLayout {
  const height = frame.height - frame.top - frame.bottom;
  const ys = new Float32Array(axes.length * count);
  const bucket = new Uint8Array(count).fill(RAMP.length);
  const colouring = colouringAxis(axes, count);
  axes.forEach((axis, at) => {
    const { values } = axis;
    for (let row = 0; row < count; row++) {
      const value = values[row] as number;
      if (Number.isNaN(value)) {
        ys[at * count + row] = Number.NaN;
        continue;
      }
      const t = axisPosition(axis, value);
      ys[at * count + row] = frame.top + (1 - t) * height;
      if (at === colouring) bucket[row] = Math.min(RAMP.length - 1, Math.floor(t * RAMP.length));
    }
  });
  const xs = new Float32Array(axes.map((_, index) => axisX(frame, index, axes.length)));
  return { xs, ys, bucket, count, axes: axes.length };
}

/** Sizes a canvas for the device's pixels and answers its context in CSS pixels. */
export function prepareCanvas(canvas: HTMLCanvasElement, frame: Frame): CanvasRenderingContext2D | null {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.round(frame.width * ratio);
  const height = Math.round(frame.height * ratio);
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const context = canvas.getContext('2d');
  if (!context) return null;
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, frame.width, frame.height);
  return context;
}

/**
 * Segments of one colour, each as opaque as its runs drawn `alpha` over one another would be
 * (1 - (1 - alpha)^runs): one path per number of runs, up to where that is all but opaque.
 */
function strokeSegments(context: CanvasRenderingContext2D, drawn: ColourSegments, color: string, alpha: number) {
  const { segments, runs } = drawn;
  const opaque = Math.max(1, Math.ceil(Math.log(0.01) / Math.log(1 - alpha)));
  context.strokeStyle = color;
  for (let shared = 1; shared <= opaque; shared++) {
    context.beginPath();
    let any = false;
    for (let at = 0; at < runs.length; at++) {
      const along = runs[at] as number;
      if (along !== shared && !(shared === opaque && along > opaque)) continue;
      any = true;
      context.moveTo(segments[at * 4] as number, segments[at * 4 + 1] as number);
      context.lineTo(segments[at * 4 + 2] as number, segments[at * 4 + 3] as number);
    }
    if (!any) continue;
    context.globalAlpha = 1 - (1 - alpha) ** shared;
    context.stroke();
  }
  context.globalAlpha = 1;
}

/** Every run in grey: the layer under a brushed selection. */
export function drawMuted(context: CanvasRenderingContext2D, layout: LineLayout): void {
  const [grey] = distinctSegments(layout, 1, () => 0);
  context.lineWidth = 1;
  strokeSegments(context, grey as ColourSegments, MUTED, MUTED_ALPHA);
}

/** The selected runs (all when `selected` is null), in their colours; answers how many. */
export function drawSelected(
  context: CanvasRenderingContext2D,
  layout: LineLayout,
  selected: Uint8Array | null,
): number {
  let drawn = 0;
  const byColour = distinctSegments(layout, COLORS.length, (row) => {
    if (selected && selected[row] === 0) return -1;
    drawn++;
    return layout.bucket[row] as number;
  });
  const alpha = layout.count > 2000 ? 0.25 : layout.count > 200 ? 0.5 : 0.85;
  context.lineWidth = 1;
  for (const [color, segments] of byColour.entries()) strokeSegments(context, segments, COLORS[color] as string, alpha);
  return drawn;
}

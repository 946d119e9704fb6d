/**
 * A line chart drawn by uPlot, made for many long series: lines with steps of their own are
 * put on one step axis (`aligned-series.ts`), and uPlot strokes at most a few points per
 * pixel column. Points that arrive are appended and handed to `setData`; only a change of
 * lines (added, renamed) or of the log scale builds a new plot. Drag across to zoom on
 * steps, double-click to zoom out; the owner hears of both and re-reads the range.
 *
 * @example
 * const chart = new UPlotChart(element, { onZoom: (range) => refetch(range) });
 * chart.update([{ label: 'loss', color: '#36c', steps, values }], { logY: false, smoothing: 0.6 });
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { AlignedSeries, type DisplayValues } from './aligned-series.js';
import { axisColors } from './chart-colors.js';
import { formatStep, formatTick, logRange, lowerBound, smooth } from './chart-scales.js';
import type { ChartOptions, ChartSeries } from './chart-series.js';
import { ChartTooltip, type TooltipRow } from './chart-tooltip.js';
import { CHART_DRAWN, mark } from './perf-marks.js';

export type StepRange = [number, number];

const AXIS_FONT = '11px system-ui, sans-serif';
const TICK_SIZE = 4;
const TICK_GAP = 4;
/** A drag shorter than this is a click, not a zoom. */
const SHORTEST_DRAG = 5;
/** Lines with at most this many points in view (or one per 12 px) show their points. */
const FEW_POINTS = 20;

export class UPlotChart {
  private plot: uPlot | null = null;
  private table = new AlignedSeries(displayValuesFor({ logY: false, smoothing: 0 }));
  private series: readonly ChartSeries[] = [];
  private options: ChartOptions = { logY: false, smoothing: 0 };
  private zoom: StepRange | null = null;
  /** When the work behind the next draw began (reported with the draw, for the benchmarks). */
  private started = 0;
  private readonly tooltip: ChartTooltip;
  private readonly resizeObserver: ResizeObserver;

  constructor(
    private readonly container: HTMLElement,
    private readonly handlers: { onZoom?: (range: StepRange | null) => void } = {},
  ) {
    container.classList.add('chart');
    this.tooltip = new ChartTooltip(container);
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(container);
    container.addEventListener('dblclick', this.zoomOut);
  }

  /** New lines, more points or other options. */
  update(series: readonly ChartSeries[], options: ChartOptions): void {
    this.started = performance.now();
    const sameLines = this.plot !== null && options.logY === this.options.logY && sameLegend(series, this.series);
    if (options.logY !== this.options.logY || options.smoothing !== this.options.smoothing) {
      this.table = new AlignedSeries(displayValuesFor(options));
    }
    this.series = series;
    this.options = options;
    const change = this.table.update(series);
    if (!sameLines) this.build();
    else if (change !== 'unchanged') this.plot?.setData(this.data());
  }

  /** Shows steps [from, to] (null: all of them). */
  setZoom(range: StepRange | null): void {
    if (range?.[0] === this.zoom?.[0] && range?.[1] === this.zoom?.[1]) return;
    this.zoom = range;
    const { steps } = this.table;
    if (!this.plot || steps.length === 0) return;
    this.started = performance.now();
    this.plot.setScale('x', { min: range?.[0] ?? (steps[0] as number), max: range?.[1] ?? (steps.at(-1) as number) });
  }

  destroy(): void {
    this.resizeObserver.disconnect();
    this.container.removeEventListener('dblclick', this.zoomOut);
    this.plot?.destroy();
    this.plot = null;
    this.tooltip.remove();
  }

  private data(): uPlot.AlignedData {
    return [this.table.steps, ...this.table.columns];
  }

  /** A new plot for the current lines and scale (uPlot fixes both when it is made). */
  private build(): void {
    this.plot?.destroy();
    const colors = axisColors(this.container);
    const axis: uPlot.Axis = {
      stroke: colors.text,
      font: AXIS_FONT,
      gap: TICK_GAP,
      grid: { stroke: colors.grid, width: 1 },
      ticks: { stroke: colors.grid, width: 1, size: TICK_SIZE },
    };
    const options: uPlot.Options = {
      width: Math.max(1, this.container.clientWidth),
      height: Math.max(1, this.container.clientHeight),
      // Room for the last x label and the top y label, no more (uPlot's own guess is wider).
      padding: [10, 16, 0, 0],
      legend: { show: false },
      cursor: {
        drag: { x: true, y: false, setScale: false, dist: SHORTEST_DRAG },
        // Double-click zooms out through the owner (see `zoomOut`), not inside uPlot alone.
        bind: { dblclick: () => null },
        points: { size: 6 },
      },
      scales: {
        x: { time: false, range: (_plot, min, max) => this.zoom ?? this.stepRange(min, max) },
        // Log: round out to the next 1-2-5 step, not to whole decades (which leaves bands empty).
        y: this.options.logY
          ? {
              distr: 3,
              log: 10,
              range: (_plot, min, max) => logRange(min, max),
            }
          : {},
      },
      axes: [
        { ...axis, space: 70, size: TICK_SIZE + TICK_GAP + 16, values: (_plot, splits) => splits.map(formatStep) },
        {
          ...axis,
          space: 28,
          grid: this.options.logY ? { ...axis.grid, filter: labelledOnly } : axis.grid,
          ticks: this.options.logY ? { ...axis.ticks, filter: labelledOnly } : axis.ticks,
          size: (_plot, values) => TICK_SIZE + TICK_GAP + 6 + widestLabel(values),
          // A log axis leaves some splits unlabelled (null).
          values: (_plot, splits) => splits.map((split) => (split === null ? '' : formatTick(split))),
        },
      ],
      series: [
        { label: 'step' },
        ...this.series.map(
          (line, index): uPlot.Series => ({
            label: line.label,
            stroke: line.color,
            width: 1.5,
            // A line of a few points (one alone draws no line at all) shows them as dots.
            points: { show: () => this.fewPoints(index), size: 6, fill: line.color },
          }),
        ),
      ],
      hooks: {
        draw: [() => this.drawn()],
        setSelect: [(plot) => this.selected(plot)],
        setCursor: [(plot) => this.showValues(plot)],
      },
    };
    this.plot = new uPlot(options, this.data(), this.container);
  }

  /** The steps the data spans; uPlot widens a single step to an arbitrary range of its own. */
  private stepRange(min: number | null, max: number | null): uPlot.Range.MinMax {
    const { steps } = this.table;
    return steps.length > 0 ? paddedRange(steps[0] as number, steps.at(-1) as number) : paddedRange(min, max);
  }

  /** Whether the line at `index` has few enough points in view to draw each as a dot. */
  private fewPoints(index: number): boolean {
    const steps = this.series[index]?.steps;
    if (!steps || !this.plot) return false;
    const scale = this.plot.scales.x ?? {};
    const first = lowerBound(steps, scale.min ?? Number.NEGATIVE_INFINITY);
    let last = lowerBound(steps, scale.max ?? Number.POSITIVE_INFINITY);
    if (scale.max !== undefined && steps[last] === scale.max) last += 1;
    return last - first <= Math.max(FEW_POINTS, this.plot.bbox.width / devicePixelRatio / 12);
  }

  private drawn(): void {
    mark(CHART_DRAWN, {
      ms: performance.now() - this.started,
      series: this.series.length,
      points: this.table.pointCount,
    });
  }

  private resize(): void {
    const width = this.container.clientWidth;
    const height = this.container.clientHeight;
    if (!this.plot || width === 0 || height === 0) return;
    if (width === this.plot.width && height === this.plot.height) return;
    this.started = performance.now();
    this.plot.setSize({ width, height });
  }

  /** The end of a drag: zoom on the steps selected, and tell the owner to re-read them. */
  private selected(plot: uPlot): void {
    const { left, width } = plot.select;
    plot.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    if (width < SHORTEST_DRAG) return;
    const range: StepRange = [plot.posToVal(left, 'x'), plot.posToVal(left + width, 'x')];
    this.setZoom(range);
    this.handlers.onZoom?.(range);
  }

  private readonly zoomOut = (): void => {
    this.setZoom(null);
    this.handlers.onZoom?.(null);
  };

  private showValues(plot: uPlot): void {
    const left = plot.cursor.left;
    if (left === undefined || left < 0 || this.series.length === 0) {
      this.tooltip.hide();
      return;
    }
    const step = plot.posToVal(left, 'x');
    const rows: TooltipRow[] = [];
    this.series.forEach((line, index) => {
      const at = nearestPoint(line.steps, step);
      const value = at === -1 ? null : this.table.display[index]?.[at];
      if (value !== null && value !== undefined) rows.push({ label: line.label, color: line.color, value });
    });
    const plotLeft = plot.over.offsetLeft;
    this.tooltip.show(step, rows, plotLeft + left, plot.over.offsetTop, this.container.clientWidth);
  }
}

/** The point of `steps` nearest to `step`, or -1 when `step` lies outside the line. */
function nearestPoint(steps: readonly number[], step: number): number {
  const after = lowerBound(steps, step);
  if (after === steps.length) return step === steps.at(-1) ? after - 1 : -1;
  if (after === 0) return step === steps[0] ? 0 : -1;
  const before = after - 1;
  return step - (steps[before] as number) <= (steps[after] as number) - step ? before : after;
}

/** Smoothing first, then a log scale's gaps where the value is not positive. */
function displayValuesFor(options: ChartOptions): DisplayValues {
  return (values) => {
    const smoothed = smooth(values, options.smoothing);
    return options.logY ? smoothed.map((value) => (value !== null && value > 0 ? value : null)) : smoothed;
  };
}

/**
 * On a log axis, grid lines and ticks only where the axis writes a value (uPlot splits each
 * decade in nine, a dense comb): the axis's own label filter, applied to the lines.
 */
function labelledOnly(plot: uPlot, splits: number[], axisIndex: number, space: number, step: number) {
  return plot.axes[axisIndex]?.filter?.(plot, splits, axisIndex, space, step) ?? splits;
}

function sameLegend(a: readonly ChartSeries[], b: readonly ChartSeries[]): boolean {
  return (
    a.length === b.length && a.every((line, index) => line.label === b[index]?.label && line.color === b[index]?.color)
  );
}

/** The x range of the data; a single step gets some room either side. */
function paddedRange(min: number | null, max: number | null): uPlot.Range.MinMax {
  if (min === null || max === null) return [0, 1];
  return min === max ? [min - 1, max + 1] : [min, max];
}

let measuring: CanvasRenderingContext2D | null = null;

/** Width in CSS pixels of the widest tick label, so the y axis never cuts one off. */
function widestLabel(values: readonly string[] | null): number {
  measuring ??= document.createElement('canvas').getContext('2d');
  if (!measuring || !values) return 40;
  measuring.font = AXIS_FONT;
  let widest = 0;
  for (const value of values) widest = Math.max(widest, measuring.measureText(value).width);
  return Math.ceil(widest);
}

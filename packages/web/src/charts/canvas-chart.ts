/**
 * A line chart drawn on one canvas, made for many long series: each series is reduced to
 * at most four points per pixel column (first, min, max, last) before it is stroked, so 50
 * series of thousands of points draw in a few milliseconds. Drag across to zoom on steps,
 * double-click to zoom out; the cursor shows each series' value at that step. Log scale on
 * values and smoothing (a debiased moving average) are options.
 *
 * @example
 * const chart = new CanvasChart(element, { onZoom: (range) => refetch(range) });
 * chart.update([{ label: 'loss', color: '#36c', steps, values }], { logY: false, smoothing: 0.6 });
 */

import { formatTick, logTicks, lowerBound, niceTicks, smooth } from './chart-scales.js';
import { CHART_DRAWN, mark } from './perf-marks.js';

export interface ChartSeries {
  label: string;
  color: string;
  steps: number[];
  values: (number | null)[];
}

export interface ChartOptions {
  logY: boolean;
  smoothing: number;
}

interface Prepared {
  series: ChartSeries;
  /** Values after smoothing, and log10 when the scale is logarithmic (NaN when not drawable). */
  ys: Float64Array;
}

const PAD = { left: 58, right: 14, top: 10, bottom: 26 };
const AXIS = '#8a93a3';
const GRID = 'rgba(138, 147, 163, 0.18)';

export class CanvasChart {
  private readonly canvas = document.createElement('canvas');
  private readonly context: CanvasRenderingContext2D;
  private readonly selection = document.createElement('div');
  private readonly tooltip = document.createElement('div');
  private readonly resizeObserver: ResizeObserver;
  private prepared: Prepared[] = [];
  private options: ChartOptions = { logY: false, smoothing: 0 };
  private zoom: [number, number] | null = null;
  private xs: [number, number] = [0, 1];
  private ys: [number, number] = [0, 1];
  private width = 0;
  private height = 0;
  private frame = 0;
  private dragFrom: number | null = null;
  /** How long the last draw took, in milliseconds (for the benchmarks). */
  lastDrawMs = 0;

  constructor(
    private readonly container: HTMLElement,
    private readonly handlers: { onZoom?: (range: [number, number] | null) => void } = {},
  ) {
    const context = this.canvas.getContext('2d');
    if (!context) throw new Error('This browser cannot draw on a canvas');
    this.context = context;
    container.classList.add('chart');
    this.selection.className = 'chart-selection';
    this.tooltip.className = 'chart-tooltip';
    container.append(this.canvas, this.selection, this.tooltip);
    this.resizeObserver = new ResizeObserver(() => this.schedule());
    this.resizeObserver.observe(container);
    this.canvas.addEventListener('mousedown', this.onDown);
    this.canvas.addEventListener('mousemove', this.onMove);
    this.canvas.addEventListener('mouseleave', this.onLeave);
    this.canvas.addEventListener('dblclick', this.onDoubleClick);
    window.addEventListener('mouseup', this.onUp);
  }

  /** New data or options: redrawn at the next frame. */
  update(series: readonly ChartSeries[], options: ChartOptions): void {
    this.options = options;
    this.prepared = series.map((each) => {
      const smoothed = smooth(each.values, options.smoothing);
      const ys = new Float64Array(smoothed.length);
      for (let index = 0; index < smoothed.length; index++) {
        const value = smoothed[index];
        ys[index] =
          value === null || value === undefined
            ? Number.NaN
            : options.logY
              ? value > 0
                ? Math.log10(value)
                : Number.NaN
              : value;
      }
      return { series: each, ys };
    });
    this.schedule();
  }

  /** Shows steps [from, to] (null: everything). */
  setZoom(range: [number, number] | null): void {
    this.zoom = range;
    this.schedule();
  }

  destroy(): void {
    cancelAnimationFrame(this.frame);
    this.resizeObserver.disconnect();
    window.removeEventListener('mouseup', this.onUp);
    this.canvas.remove();
    this.selection.remove();
    this.tooltip.remove();
  }

  private schedule(): void {
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame(() => this.draw());
  }

  /** Draws now (normally at the next frame). */
  draw(): void {
    const started = performance.now();
    const ratio = window.devicePixelRatio || 1;
    this.width = this.container.clientWidth;
    this.height = this.container.clientHeight;
    if (this.width === 0 || this.height === 0) return;
    if (
      this.canvas.width !== Math.round(this.width * ratio) ||
      this.canvas.height !== Math.round(this.height * ratio)
    ) {
      this.canvas.width = Math.round(this.width * ratio);
      this.canvas.height = Math.round(this.height * ratio);
      this.canvas.style.width = `${this.width}px`;
      this.canvas.style.height = `${this.height}px`;
    }
    const context = this.context;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, this.width, this.height);
    this.computeExtents();
    this.drawAxes();
    context.save();
    context.beginPath();
    context.rect(PAD.left, PAD.top, this.plotWidth(), this.plotHeight());
    context.clip();
    context.lineWidth = 1.5;
    context.lineJoin = 'round';
    for (const prepared of this.prepared) this.drawSeries(prepared);
    context.restore();
    this.lastDrawMs = performance.now() - started;
    let points = 0;
    for (const { ys } of this.prepared) points += ys.length;
    mark(CHART_DRAWN, { ms: this.lastDrawMs, series: this.prepared.length, points });
  }

  private plotWidth(): number {
    return Math.max(1, this.width - PAD.left - PAD.right);
  }

  private plotHeight(): number {
    return Math.max(1, this.height - PAD.top - PAD.bottom);
  }

  private computeExtents(): void {
    let xMin = Number.POSITIVE_INFINITY;
    let xMax = Number.NEGATIVE_INFINITY;
    for (const { series } of this.prepared) {
      if (series.steps.length === 0) continue;
      xMin = Math.min(xMin, series.steps[0] as number);
      xMax = Math.max(xMax, series.steps[series.steps.length - 1] as number);
    }
    if (this.zoom) [xMin, xMax] = this.zoom;
    if (!Number.isFinite(xMin)) [xMin, xMax] = [0, 1];
    if (xMax <= xMin) xMax = xMin + 1;
    let yMin = Number.POSITIVE_INFINITY;
    let yMax = Number.NEGATIVE_INFINITY;
    for (const { series, ys } of this.prepared) {
      const end = Math.min(ys.length, lowerBound(series.steps, xMax + 1e-9) + 1);
      for (let index = Math.max(0, lowerBound(series.steps, xMin) - 1); index < end; index++) {
        const y = ys[index] as number;
        if (y < yMin) yMin = y;
        if (y > yMax) yMax = y;
      }
    }
    if (!Number.isFinite(yMin)) [yMin, yMax] = [0, 1];
    if (yMax === yMin) [yMin, yMax] = [yMin - 0.5, yMax + 0.5];
    const margin = (yMax - yMin) * 0.04;
    this.xs = [xMin, xMax];
    this.ys = [yMin - margin, yMax + margin];
  }

  private xPixel(step: number): number {
    return PAD.left + ((step - this.xs[0]) / (this.xs[1] - this.xs[0])) * this.plotWidth();
  }

  private yPixel(y: number): number {
    return PAD.top + (1 - (y - this.ys[0]) / (this.ys[1] - this.ys[0])) * this.plotHeight();
  }

  private stepAt(pixel: number): number {
    return this.xs[0] + ((pixel - PAD.left) / this.plotWidth()) * (this.xs[1] - this.xs[0]);
  }

  private drawAxes(): void {
    const context = this.context;
    context.font = '11px system-ui, sans-serif';
    context.fillStyle = AXIS;
    context.strokeStyle = GRID;
    context.lineWidth = 1;
    const yTicks = this.options.logY
      ? logTicks(this.ys[0], this.ys[1], 5)
      : niceTicks(this.ys[0], this.ys[1], Math.max(2, Math.floor(this.plotHeight() / 40)));
    context.textAlign = 'right';
    context.textBaseline = 'middle';
    for (const tick of yTicks) {
      const y = Math.round(this.yPixel(tick)) + 0.5;
      context.beginPath();
      context.moveTo(PAD.left, y);
      context.lineTo(this.width - PAD.right, y);
      context.stroke();
      context.fillText(this.options.logY ? formatTick(10 ** tick) : formatTick(tick), PAD.left - 6, y);
    }
    const xTicks = niceTicks(this.xs[0], this.xs[1], Math.max(2, Math.floor(this.plotWidth() / 90)));
    context.textAlign = 'center';
    context.textBaseline = 'top';
    for (const tick of xTicks) {
      const x = Math.round(this.xPixel(tick)) + 0.5;
      context.beginPath();
      context.moveTo(x, PAD.top);
      context.lineTo(x, this.height - PAD.bottom);
      context.stroke();
      context.fillText(formatTick(tick), x, this.height - PAD.bottom + 6);
    }
  }

  /** Strokes one series, at most four points per pixel column. */
  private drawSeries({ series, ys }: Prepared): void {
    const context = this.context;
    const { steps } = series;
    const first = Math.max(0, lowerBound(steps, this.xs[0]) - 1);
    const last = Math.min(steps.length - 1, lowerBound(steps, this.xs[1]));
    context.strokeStyle = series.color;
    context.beginPath();
    let pen = false;
    let column = Number.NaN;
    let low = 0;
    let high = 0;
    let exit = 0;
    const flush = () => {
      if (Number.isNaN(column)) return;
      context.lineTo(column, low);
      context.lineTo(column, high);
      context.lineTo(column, exit);
    };
    for (let index = first; index <= last; index++) {
      const y = ys[index] as number;
      if (Number.isNaN(y)) {
        flush();
        column = Number.NaN;
        pen = false;
        continue;
      }
      const px = Math.round(this.xPixel(steps[index] as number));
      const py = this.yPixel(y);
      if (!pen) {
        context.moveTo(px, py);
        pen = true;
        column = px;
        low = high = exit = py;
      } else if (px === column) {
        if (py < low) low = py;
        if (py > high) high = py;
        exit = py;
      } else {
        flush();
        context.lineTo(px, py);
        column = px;
        low = high = exit = py;
      }
    }
    flush();
    context.stroke();
  }

  private readonly onDown = (event: MouseEvent) => {
    if (event.button !== 0) return;
    this.dragFrom = event.offsetX;
  };

  private readonly onMove = (event: MouseEvent) => {
    const x = event.offsetX;
    if (this.dragFrom !== null) {
      const left = Math.min(this.dragFrom, x);
      Object.assign(this.selection.style, {
        display: 'block',
        left: `${left}px`,
        width: `${Math.abs(x - this.dragFrom)}px`,
        top: `${PAD.top}px`,
        height: `${this.plotHeight()}px`,
      });
    }
    this.showValues(x);
  };

  private readonly onUp = (event: MouseEvent) => {
    if (this.dragFrom === null) return;
    const from = this.dragFrom;
    this.dragFrom = null;
    this.selection.style.display = 'none';
    const rect = this.canvas.getBoundingClientRect();
    const to = event.clientX - rect.left;
    if (Math.abs(to - from) < 5) return;
    const range: [number, number] = [this.stepAt(Math.min(from, to)), this.stepAt(Math.max(from, to))];
    this.setZoom(range);
    this.handlers.onZoom?.(range);
  };

  private readonly onDoubleClick = () => {
    this.setZoom(null);
    this.handlers.onZoom?.(null);
  };

  private readonly onLeave = () => {
    this.tooltip.style.display = 'none';
  };

  private showValues(pixel: number): void {
    if (pixel < PAD.left || pixel > this.width - PAD.right || this.prepared.length === 0) {
      this.tooltip.style.display = 'none';
      return;
    }
    const step = this.stepAt(pixel);
    const lines: string[] = [];
    for (const { series, ys } of this.prepared.slice(0, 12)) {
      const index = Math.min(series.steps.length - 1, lowerBound(series.steps, step));
      if (index < 0) continue;
      const y = ys[index] as number;
      if (Number.isNaN(y)) continue;
      const value = this.options.logY ? 10 ** y : y;
      lines.push(`<span style="color:${series.color}">●</span> ${escapeHtml(series.label)}: ${formatTick(value)}`);
    }
    this.tooltip.innerHTML = `<b>step ${formatTick(Math.round(step))}</b><br>${lines.join('<br>')}`;
    Object.assign(this.tooltip.style, {
      display: 'block',
      left: `${Math.min(pixel + 12, this.width - 180)}px`,
      top: `${PAD.top}px`,
    });
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

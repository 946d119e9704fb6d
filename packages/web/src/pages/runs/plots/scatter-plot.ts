/**
 * A scatter plot of runs, one field against another, drawn by uPlot as points without lines
 * (uPlot wants x ascending, so runs are sorted by x first). Runs outside the brushes are
 * grey, the selected ones coloured above them; category axes place their values at whole
 * numbers and label them.
 *
 * @example
 * const plot = new ScatterPlot(element);
 * plot.update(columns, xAxis, yAxis, selected);
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { axisColors } from '../../../charts/chart-colors.js';
import { formatTick } from '../../../charts/chart-scales.js';
import { formatValue } from '../../../components/format.js';
import type { PlotAxis, RunColumns } from './run-columns.js';

export const SCATTER_DRAWN = 'larder:scatter-drawn';
const AXIS_FONT = '11px system-ui, sans-serif';

const isDecade = (value: number) => value > 0 && Math.abs(Math.log10(value) - Math.round(Math.log10(value))) < 1e-9;
const decadesOnly = (_plot: uPlot, splits: number[]) => splits.map((split) => (isDecade(split) ? split : null));

function scaleOf(axis: PlotAxis): uPlot.Scale {
  if (axis.log) return { time: false, distr: 3, log: 10 };
  if (axis.kind === 'category') {
    return { time: false, range: () => [-0.5, Math.max(0.5, axis.categories.length - 0.5)] };
  }
  return { time: false, range: (_plot, min, max) => (min === max ? [min - 1, max + 1] : [min, max]) };
}

function axisOf(axis: PlotAxis, colors: { text: string; grid: string }, label: string): uPlot.Axis {
  return {
    label,
    labelSize: 18,
    labelFont: AXIS_FONT,
    font: AXIS_FONT,
    stroke: colors.text,
    grid: { stroke: colors.grid, width: 1 },
    ticks: { stroke: colors.grid, width: 1, size: 4 },
    ...(axis.kind === 'category'
      ? {
          splits: () => axis.categories.map((_, index) => index),
          values: (_plot: uPlot, splits: number[]) => splits.map((split) => String(axis.categories[split] ?? '')),
        }
      : axis.log
        ? {
            // A log axis splits each decade in nine: label the decades only.
            values: (_plot: uPlot, splits: number[]) =>
              splits.map((split) => (isDecade(split) ? formatValue(split) : '')),
            grid: { stroke: colors.grid, width: 1, filter: decadesOnly },
            ticks: { stroke: colors.grid, width: 1, size: 4, filter: decadesOnly },
          }
        : { values: (_plot: uPlot, splits: number[]) => splits.map((split) => formatTick(split)) }),
  };
}

export class ScatterPlot {
  private plot: uPlot | null = null;
  private readonly observer: ResizeObserver;

  constructor(private readonly container: HTMLElement) {
    this.observer = new ResizeObserver(() => {
      if (this.plot && container.clientWidth > 0 && container.clientWidth !== this.plot.width) {
        this.plot.setSize({ width: container.clientWidth, height: container.clientHeight });
      }
    });
    this.observer.observe(container);
  }

  update(columns: RunColumns, x: PlotAxis, y: PlotAxis, selected: Uint8Array | null, labels: [string, string]): void {
    const started = performance.now();
    const rows: number[] = [];
    for (let row = 0; row < columns.count; row++) {
      const [a, b] = [x.values[row] as number, y.values[row] as number];
      if (Number.isNaN(a) || Number.isNaN(b) || (x.log && a <= 0) || (y.log && b <= 0)) continue;
      rows.push(row);
    }
    rows.sort((a, b) => (x.values[a] as number) - (x.values[b] as number));
    const xs = rows.map((row) => x.values[row] as number);
    const all = rows.map((row) => (selected && selected[row] === 0 ? (y.values[row] as number) : null));
    const chosen = rows.map((row) => (selected && selected[row] === 0 ? null : (y.values[row] as number)));
    const colors = axisColors(this.container);
    const options: uPlot.Options = {
      width: Math.max(1, this.container.clientWidth),
      height: Math.max(1, this.container.clientHeight),
      padding: [10, 16, 0, 0],
      legend: { show: false },
      cursor: { show: false },
      scales: { x: scaleOf(x), y: scaleOf(y) },
      axes: [axisOf(x, colors, labels[0]), axisOf(y, colors, labels[1])],
      series: [
        {},
        {
          label: 'others',
          paths: () => null,
          points: { show: true, size: 4, stroke: 'rgba(140,148,160,0.5)', fill: 'rgba(140,148,160,0.35)', width: 0 },
        },
        {
          label: 'selected',
          paths: () => null,
          points: { show: true, size: 5, stroke: '#2f6fd0', fill: 'rgba(47,111,208,0.55)', width: 0 },
        },
      ],
      hooks: {
        draw: [
          () =>
            performance.mark(SCATTER_DRAWN, {
              detail: { ms: performance.now() - started, points: rows.length },
            }),
        ],
      },
    };
    this.plot?.destroy();
    this.plot = new uPlot(options, [xs, all, chosen], this.container);
  }

  destroy(): void {
    this.observer.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }
}

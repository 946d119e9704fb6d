/**
 * A histogram's distribution over steps, as TensorBoard draws it: bands between matching
 * quantiles (min–max, ±2σ, ±1σ, ±½σ, the darker the nearer the median) shaded across the
 * steps, the median as a line; hovering a step shows its quantiles. One canvas, redrawn on
 * resize or when the records change.
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { axisColors } from '../../../charts/chart-colors.js';
import { mark } from '../../../charts/perf-marks.js';
import { formatValue } from '../../../components/format.js';
import { BAND_PERCENTILES, type HistogramRecord, quantileBands } from './histogram-quantiles.js';

export const DISTRIBUTION_DRAWN = 'larder:distribution-drawn';

const HEIGHT = 200;
const MARGIN = { left: 56, right: 12, top: 10, bottom: 24 };
const COLOR = '47, 111, 208';

function ticks(low: number, high: number, count: number): number[] {
  if (high === low) return [low];
  const raw = (high - low) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((each) => each * magnitude >= raw) ?? 10) * magnitude;
  const out: number[] = [];
  for (let value = Math.ceil(low / step) * step; value <= high + step * 1e-9; value += step) out.push(value);
  return out;
}

export function DistributionChart({ name, histograms }: { name: string; histograms: readonly HistogramRecord[] }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(480);
  const [hover, setHover] = useState<number | null>(null);
  const bands = useMemo(() => quantileBands(histograms), [histograms]);

  useLayoutEffect(() => {
    const element = canvas.current?.parentElement;
    if (!element) return;
    // The card's content box: its width less the padding either side.
    const measure = () => {
      const style = getComputedStyle(element);
      const padding = Number.parseFloat(style.paddingLeft) + Number.parseFloat(style.paddingRight);
      setWidth(Math.max(240, Math.floor(element.clientWidth - padding)));
    };
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    measure();
    return () => observer.disconnect();
  }, []);

  const { steps, values } = bands;
  const low = Math.min(...(values[0] ?? [0]));
  const high = Math.max(...(values.at(-1) ?? [1]));
  const [firstStep, lastStep] = [steps[0] ?? 0, steps.at(-1) ?? 1];
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (step: number) =>
    MARGIN.left + (lastStep === firstStep ? plotWidth / 2 : ((step - firstStep) / (lastStep - firstStep)) * plotWidth);
  const y = (value: number) =>
    MARGIN.top + (high === low ? plotHeight / 2 : (1 - (value - low) / (high - low)) * plotHeight);

  useEffect(() => {
    const element = canvas.current;
    if (!element) return;
    const started = performance.now();
    const ratio = window.devicePixelRatio || 1;
    element.width = Math.round(width * ratio);
    element.height = Math.round(HEIGHT * ratio);
    const context = element.getContext('2d');
    if (!context) return;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, HEIGHT);
    const ink = axisColors(element);
    context.font = '11px system-ui, sans-serif';
    context.strokeStyle = ink.grid;
    context.fillStyle = ink.text;
    context.lineWidth = 1;
    context.textAlign = 'right';
    context.textBaseline = 'middle';
    for (const value of ticks(low, high, 6)) {
      context.beginPath();
      context.moveTo(MARGIN.left, Math.round(y(value)) + 0.5);
      context.lineTo(width - MARGIN.right, Math.round(y(value)) + 0.5);
      context.stroke();
      context.fillText(formatValue(value), MARGIN.left - 6, y(value));
    }
    context.textAlign = 'center';
    context.textBaseline = 'top';
    for (const step of ticks(firstStep, lastStep, Math.max(2, Math.floor(plotWidth / 90)))) {
      context.fillText(formatValue(step), x(step), HEIGHT - MARGIN.bottom + 6);
    }
    // Bands from the outside in: each pair (i, n-1-i) shaded, more opaque towards the median.
    const pairs = Math.floor(BAND_PERCENTILES.length / 2);
    for (let band = 0; band < pairs; band++) {
      const lower = values[band] ?? [];
      const upper = values[values.length - 1 - band] ?? [];
      context.fillStyle = `rgba(${COLOR}, ${0.12 + band * 0.1})`;
      context.beginPath();
      steps.forEach((step, index) => {
        const at = [x(step), y(upper[index] ?? 0)] as const;
        if (index === 0) context.moveTo(...at);
        else context.lineTo(...at);
      });
      for (let index = steps.length - 1; index >= 0; index--) {
        context.lineTo(x(steps[index] as number), y(lower[index] ?? 0));
      }
      context.closePath();
      if (steps.length === 1) {
        const step = steps[0] as number;
        context.fillRect(x(step) - 3, y(upper[0] ?? 0), 6, Math.max(1, y(lower[0] ?? 0) - y(upper[0] ?? 0)));
      } else context.fill();
    }
    const median = values[pairs] ?? [];
    context.strokeStyle = `rgb(${COLOR})`;
    context.lineWidth = 1.5;
    context.beginPath();
    steps.forEach((step, index) => {
      if (index === 0) context.moveTo(x(step), y(median[index] ?? 0));
      else context.lineTo(x(step), y(median[index] ?? 0));
    });
    context.stroke();
    if (hover !== null) {
      context.strokeStyle = ink.text;
      context.lineWidth = 1;
      context.beginPath();
      context.moveTo(Math.round(x(steps[hover] as number)) + 0.5, MARGIN.top);
      context.lineTo(Math.round(x(steps[hover] as number)) + 0.5, HEIGHT - MARGIN.bottom);
      context.stroke();
    }
    mark(DISTRIBUTION_DRAWN, { name, steps: steps.length, ms: performance.now() - started });
  }, [bands, width, hover]);

  const onMove = (event: MouseEvent) => {
    if (steps.length === 0) return;
    const left = (event.currentTarget as HTMLCanvasElement).getBoundingClientRect().left;
    const position = event.clientX - left;
    let nearest = 0;
    steps.forEach((step, index) => {
      if (Math.abs(x(step) - position) < Math.abs(x(steps[nearest] as number) - position)) nearest = index;
    });
    setHover(nearest);
  };
  const middle = Math.floor(BAND_PERCENTILES.length / 2);
  return (
    <figure class="chart-card distribution" data-histogram={name}>
      <figcaption>
        {name}
        <span class="legend">
          {hover === null
            ? `${steps.length} steps`
            : `step ${formatValue(steps[hover])}: median ${formatValue(values[middle]?.[hover])}, ` +
              `${formatValue(values[0]?.[hover])} … ${formatValue(values.at(-1)?.[hover])}`}
        </span>
      </figcaption>
      <canvas
        ref={canvas}
        style={{ width: `${width}px`, height: `${HEIGHT}px` }}
        onMouseMove={onMove}
        onMouseLeave={() => setHover(null)}
        aria-label={`Distribution of ${name} over ${steps.length} steps`}
        role="img"
      />
    </figure>
  );
}

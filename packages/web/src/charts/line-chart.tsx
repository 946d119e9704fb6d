/** The canvas chart as a Preact component: data and options in, zoom ranges out. */
import { useEffect, useRef } from 'preact/hooks';
import { CanvasChart, type ChartOptions, type ChartSeries } from './canvas-chart.js';

export interface LineChartProps {
  title: string;
  series: readonly ChartSeries[];
  options: ChartOptions;
  /** Bumped when points were appended to the same arrays. */
  version?: number;
  /** The steps shown (null: all), shared between charts. */
  zoom?: [number, number] | null;
  onZoom?: (range: [number, number] | null) => void;
  height?: number;
}

export function LineChart({ title, series, options, version, zoom = null, onZoom, height = 240 }: LineChartProps) {
  const element = useRef<HTMLDivElement>(null);
  const chart = useRef<CanvasChart | null>(null);
  const zoomHandler = useRef(onZoom);
  zoomHandler.current = onZoom;

  useEffect(() => {
    if (!element.current) return;
    const created = new CanvasChart(element.current, { onZoom: (range) => zoomHandler.current?.(range) });
    chart.current = created;
    return () => created.destroy();
  }, []);
  useEffect(() => {
    chart.current?.update(series, options);
  }, [series, options.logY, options.smoothing, version]);

  useEffect(() => {
    chart.current?.setZoom(zoom);
  }, [zoom?.[0], zoom?.[1]]);

  return (
    <figure class="chart-card" data-chart={title}>
      <figcaption>
        {title}
        <span class="legend">
          {series.slice(0, 8).map((each) => (
            <span key={each.label} class="legend-item">
              <i style={{ background: each.color }} />
              {each.label}
            </span>
          ))}
          {series.length > 8 && <span class="muted"> +{series.length - 8}</span>}
        </span>
      </figcaption>
      <div ref={element} style={{ height: `${height}px` }} role="img" aria-label={`Chart of ${title}`} />
    </figure>
  );
}

const PALETTE = [
  '#2f6fd0',
  '#d9622b',
  '#2a9d6f',
  '#b43f8f',
  '#7a5cd6',
  '#c9a227',
  '#3aa6b9',
  '#8f5b3a',
  '#5c7a29',
  '#d14b5a',
];

export function colorFor(index: number): string {
  return PALETTE[index % PALETTE.length] as string;
}

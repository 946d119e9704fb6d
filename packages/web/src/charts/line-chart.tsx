/**
 * A line chart as a Preact component: data and options in, zoom ranges out. The chart
 * itself (uPlot, `uplot-chart.ts`) is a chunk of its own, loaded by the first chart shown,
 * so pages without charts never download it.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ChartOptions, ChartSeries } from './chart-series.js';
import type { StepRange, UPlotChart } from './uplot-chart.js';

export interface LineChartProps {
  title: string;
  series: readonly ChartSeries[];
  options: ChartOptions;
  /** Bumped when points were appended to the same arrays. */
  version?: number;
  /** The steps shown (null: all), shared between charts. */
  zoom?: StepRange | null;
  onZoom?: (range: StepRange | null) => void;
  height?: number;
}

const MOST_LEGEND_ITEMS = 8;

let chartModule: Promise<typeof import('./uplot-chart.js')> | undefined;

/** Starts loading the chart code; pages call it early so it downloads while their data does. */
export function loadChartModule(): Promise<typeof import('./uplot-chart.js')> {
  chartModule ??= import('./uplot-chart.js');
  return chartModule;
}

export function LineChart(props: LineChartProps) {
  const { title, series, options, version, zoom = null, height = 240 } = props;
  const element = useRef<HTMLDivElement>(null);
  const chart = useRef<UPlotChart | null>(null);
  const latest = useRef(props);
  latest.current = props;
  const [failure, setFailure] = useState<Error>();

  useEffect(() => {
    let mounted = true;
    let created: UPlotChart | undefined;
    loadChartModule().then(({ UPlotChart }) => {
      if (!mounted || !element.current) return;
      created = new UPlotChart(element.current, { onZoom: (range) => latest.current.onZoom?.(range) });
      created.setZoom(latest.current.zoom ?? null);
      created.update(latest.current.series, latest.current.options);
      chart.current = created;
    }, setFailure);
    return () => {
      mounted = false;
      created?.destroy();
      chart.current = null;
    };
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
          {series.slice(0, MOST_LEGEND_ITEMS).map((each) => (
            <span key={each.label} class="legend-item">
              <i style={{ background: each.color }} />
              {each.label}
            </span>
          ))}
          {series.length > MOST_LEGEND_ITEMS && <span class="muted"> +{series.length - MOST_LEGEND_ITEMS}</span>}
        </span>
      </figcaption>
      {failure ? (
        <p class="problem" role="alert">
          The chart could not be drawn: {failure.message}
        </p>
      ) : (
        <div ref={element} style={{ height: `${height}px` }} role="img" aria-label={`Chart of ${title}`} />
      )}
    </figure>
  );
}

/**
 * The metric series of some runs, read downsampled from the server (`GET /metrics?run&type
 * &name&points=N`, min and max per bucket so spikes survive) and kept growing live from the
 * `metrics points` events: a new point is appended when it lies past the series' last step,
 * a new series appears when it first gets points. Zooming re-reads the range in detail.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api/api-client.js';
import { encodeQuery } from '../api/query-string.js';
import { subscribe } from '../api/realtime.js';
import { mark, POINTS_ARRIVED } from './perf-marks.js';

export interface MetricSummary {
  type: string;
  name: string;
  count: number;
  last?: number;
  min?: number;
  max?: number;
}

export interface LiveSeries {
  run: string;
  type: string;
  name: string;
  steps: number[];
  values: (number | null)[];
}

interface PointsEvent {
  run: string;
  series: { type: string; name: string; steps: number[]; values: (number | null)[] }[];
}

export const seriesKey = (run: string, type: string, name: string) => `${run}\u0000${type}\u0000${name}`;

/** At most `limit` promises at a time, in order. */
async function inPool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export function listMetrics(run: string, signal?: AbortSignal): Promise<MetricSummary[]> {
  return api.request<MetricSummary[]>('GET', `/metrics?${encodeQuery({ run })}`, undefined, signal);
}

export async function readSeries(
  run: string,
  type: string,
  name: string,
  points: number,
  range: [number, number] | null,
  signal?: AbortSignal,
): Promise<LiveSeries> {
  const query = encodeQuery({
    run,
    type,
    name,
    points,
    ...(range ? { fromStep: Math.floor(range[0]), toStep: Math.ceil(range[1]) } : {}),
  });
  const answer = await api.request<{ steps: number[]; values: (number | null)[] }>(
    'GET',
    `/metrics?${query}`,
    undefined,
    signal,
  );
  return { run, type, name, steps: answer.steps, values: answer.values };
}

export interface LiveMetrics {
  series: ReadonlyMap<string, LiveSeries>;
  /** Bumped whenever points were appended in place. */
  version: number;
  loading: boolean;
  error: Error | undefined;
}

/**
 * The series of `runs` (only `names` of them, when given), `points` per series, within
 * `range` of steps (null: all), live; only those of the metric types `types` accepts.
 */
export function useLiveMetrics(
  runs: readonly string[],
  points: number,
  range: [number, number] | null,
  types: (type: string) => boolean = () => true,
): LiveMetrics {
  const [state, setState] = useState<LiveMetrics>({ series: new Map(), version: 0, loading: true, error: undefined });
  const series = useRef(new Map<string, LiveSeries>());
  const runKey = runs.join(',');
  const rangeKey = range ? `${range[0]}:${range[1]}` : '';
  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    let frame = 0;
    const publish = (loading: boolean) => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() =>
        setState((current) => ({ series: series.current, version: current.version + 1, loading, error: undefined })),
      );
    };
    const wanted = new Set(runs);
    const subscription = subscribe<PointsEvent>('metrics', 'points', (event) => {
      if (!wanted.has(event.run)) return;
      mark(POINTS_ARRIVED);
      for (const batch of event.series) {
        if (!types(batch.type)) continue;
        const key = seriesKey(event.run, batch.type, batch.name);
        let target = series.current.get(key);
        if (!target) {
          target = { run: event.run, type: batch.type, name: batch.name, steps: [], values: [] };
          series.current.set(key, target);
        }
        const lastStep = target.steps.length > 0 ? (target.steps[target.steps.length - 1] as number) : -Infinity;
        for (let index = 0; index < batch.steps.length; index++) {
          const step = batch.steps[index] as number;
          if (step <= lastStep || (range && step > range[1])) continue;
          target.steps.push(step);
          target.values.push(batch.values[index] ?? null);
        }
      }
      publish(false);
    });
    (async () => {
      await subscription.ready;
      const lists = await inPool(runs, 8, async (run) =>
        (await listMetrics(run, signal))
          .filter((summary) => types(summary.type))
          .map((summary) => ({ run, ...summary })),
      );
      const loaded = await inPool(lists.flat(), 8, (each) =>
        readSeries(each.run, each.type, each.name, points, range, signal),
      );
      if (signal.aborted) return;
      const fresh = new Map<string, LiveSeries>();
      for (const each of loaded) {
        const key = seriesKey(each.run, each.type, each.name);
        // Points that arrived while reading are kept.
        const live = series.current.get(key);
        if (live && live.steps.length > 0) {
          const lastRead = each.steps.at(-1) ?? -Infinity;
          for (let index = 0; index < live.steps.length; index++) {
            if ((live.steps[index] as number) > lastRead) {
              each.steps.push(live.steps[index] as number);
              each.values.push(live.values[index] ?? null);
            }
          }
        }
        fresh.set(key, each);
      }
      for (const [key, live] of series.current) if (!fresh.has(key)) fresh.set(key, live);
      series.current = fresh;
      publish(false);
    })().catch((error: Error) => {
      if (!signal.aborted) setState((current) => ({ ...current, loading: false, error }));
    });
    return () => {
      controller.abort();
      cancelAnimationFrame(frame);
      subscription.stop();
      series.current = new Map();
    };
  }, [runKey, points, rangeKey]);

  return state;
}

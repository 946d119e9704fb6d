/**
 * Runs as columns for plotting: one typed array per field (an hparam or a metric summary),
 * read from `find` pages of `$select`ed fields. A field whose values are all numbers is a
 * numeric axis (logarithmic when positive and spread over three decades or more); any other
 * is a category axis of its distinct values.
 */
import { api } from '../../../api/api-client.js';
import { encodeQuery } from '../../../api/query-string.js';
import { valueAt } from '../../../components/format.js';

/** The most runs plotted: the newest of them beyond that. */
export const MOST_PLOTTED = 10_000;
const PAGE = 1000;
const PARALLEL_PAGES = 4;

export interface PlotAxis {
  path: string;
  kind: 'number' | 'category';
  /** Numbers: the value; categories: the index in `categories`. NaN where a run has none. */
  values: Float64Array;
  /** The distinct values of a category axis, sorted. */
  categories: readonly (string | boolean | number)[];
  min: number;
  max: number;
  log: boolean;
}

export interface RunColumns {
  count: number;
  /** Runs matching the filter (may exceed `count`, which stops at MOST_PLOTTED). */
  total: number;
  ids: readonly string[];
  names: readonly string[];
  axes: ReadonlyMap<string, PlotAxis>;
  /** How long reading them from the server took (ms), for the benchmarks. */
  loadMs: number;
}

/** Builds one axis from the values runs hold at `path`. */
export function plotAxis(path: string, raw: readonly unknown[]): PlotAxis {
  const values = new Float64Array(raw.length).fill(Number.NaN);
  const present = raw.filter((value) => value !== undefined && value !== null);
  if (present.every((value) => typeof value === 'number' && Number.isFinite(value))) {
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    raw.forEach((value, index) => {
      if (typeof value !== 'number' || !Number.isFinite(value)) return;
      values[index] = value;
      if (value < min) min = value;
      if (value > max) max = value;
    });
    if (present.length === 0) [min, max] = [0, 1];
    const log = min > 0 && max / min >= 1000;
    return { path, kind: 'number', values, categories: [], min, max, log };
  }
  const categories = [
    ...new Set(
      present.map((value) =>
        typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number'
          ? value
          : JSON.stringify(value),
      ),
    ),
  ].sort((a, b) => String(a).localeCompare(String(b), 'en', { numeric: true }));
  const index = new Map(categories.map((category, at) => [category, at]));
  raw.forEach((value, at) => {
    if (value === undefined || value === null) return;
    const key = typeof value === 'object' ? JSON.stringify(value) : (value as string | boolean | number);
    values[at] = index.get(key) ?? Number.NaN;
  });
  return { path, kind: 'category', values, categories, min: 0, max: Math.max(0, categories.length - 1), log: false };
}

/** Where `value` sits on the axis, from 0 (bottom) to 1 (top). */
export function axisPosition(axis: PlotAxis, value: number): number {
  if (axis.kind === 'category') return axis.categories.length <= 1 ? 0.5 : value / (axis.categories.length - 1);
  if (axis.max === axis.min) return 0.5;
  if (axis.log) return (Math.log10(value) - Math.log10(axis.min)) / (Math.log10(axis.max) - Math.log10(axis.min));
  return (value - axis.min) / (axis.max - axis.min);
}

/** The value at position `t` (0 bottom, 1 top) of a numeric axis. */
export function axisValue(axis: PlotAxis, t: number): number {
  if (axis.max === axis.min) return axis.min;
  if (axis.log) return 10 ** (Math.log10(axis.min) + t * (Math.log10(axis.max) - Math.log10(axis.min)));
  return axis.min + t * (axis.max - axis.min);
}

/**
 * Runs matching `baseQuery` (the table's filter and folder), with the fields at `paths`.
 *
 * Pages are read newest id first (the server's ids grow with time, as `createdAt` does),
 * which the stores walk by their primary key; a page sorted on `createdAt` (a string, never
 * walked by an index) sorts every matching run again, ten times for ten pages, which was
 * most of the time to first drawing at 10,000 runs. The first PARALLEL_PAGES pages are asked
 * for before the total is known. A run created meanwhile pushes the later pages down by one:
 * the run read twice is kept once.
 */
export async function loadRunColumns(
  baseQuery: string,
  paths: readonly string[],
  signal: AbortSignal,
): Promise<RunColumns> {
  const started = performance.now();
  const select = encodeQuery({ $select: ['name', ...paths], $sort: { _id: -1 } });
  const read = (skip: number) =>
    api.request<{ total: number; data: Record<string, unknown>[] }>(
      'GET',
      `/runs?${[baseQuery, select, `$limit=${PAGE}`, `$skip=${skip}`].filter(Boolean).join('&')}`,
      undefined,
      signal,
    );
  const batch = (from: number, until: number) => {
    const skips: number[] = [];
    for (let skip = from; skip < until && skips.length < PARALLEL_PAGES; skip += PAGE) skips.push(skip);
    return Promise.all(skips.map(read));
  };
  const answers = await batch(0, MOST_PLOTTED);
  const total = answers[0]?.total ?? 0;
  const wanted = Math.min(total, MOST_PLOTTED);
  for (let skip = answers.length * PAGE; skip < wanted; skip = answers.length * PAGE)
    answers.push(...(await batch(skip, wanted)));
  const byId = new Map<unknown, Record<string, unknown>>();
  for (const answer of answers) for (const run of answer.data) if (!byId.has(run._id)) byId.set(run._id, run);
  const runs = [...byId.values()].slice(0, MOST_PLOTTED);
  return {
    count: runs.length,
    total,
    ids: runs.map((run) => String(run._id)),
    names: runs.map((run) => String(run.name ?? run._id)),
    axes: new Map(
      paths.map((path) => [
        path,
        plotAxis(
          path,
          runs.map((run) => valueAt(run, path)),
        ),
      ]),
    ),
    loadMs: performance.now() - started,
  };
}

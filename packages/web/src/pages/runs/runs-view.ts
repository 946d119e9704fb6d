/**
 * What the user chose to see in the runs table (folder, filter, sort, extra columns), kept
 * in localStorage so it survives reloads, and the columns a set of runs offers.
 */
import { valueAt } from '../../components/format.js';

export interface RunsView {
  folder: string | null;
  filter: string;
  sort: { key: string; direction: 1 | -1 };
  /** Dot paths shown after the fixed columns: `hparams.lr`, `metrics.val.acc.last`. */
  columns: string[] | null;
  /** Whether the plots (parallel coordinates, scatter) are open above the table. */
  plots: boolean;
  /** The parallel coordinates' axes (null: the table's columns). */
  plotAxes: string[] | null;
  /** The scatter plot's x and y fields (null: the first two axes). */
  scatter: [string, string] | null;
}

const KEY = 'larder.runsView';
const DEFAULT: RunsView = {
  folder: null,
  filter: '',
  sort: { key: 'createdAt', direction: -1 },
  columns: null,
  plots: false,
  plotAxes: null,
  scatter: null,
};

export function loadRunsView(): RunsView {
  try {
    const stored = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Partial<RunsView> | null;
    return { ...DEFAULT, ...(stored ?? {}) };
  } catch {
    return DEFAULT;
  }
}

export function saveRunsView(view: RunsView): void {
  localStorage.setItem(KEY, JSON.stringify(view));
}

/** Hparams (scalars, nested ones by dot path) and metric summaries present in `runs`. */
export function availableColumns(runs: readonly Record<string, unknown>[]): string[] {
  const found = new Set<string>();
  const walk = (prefix: string, value: unknown, depth: number) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && depth < 3) {
      for (const [key, inner] of Object.entries(value)) walk(`${prefix}.${key}`, inner, depth + 1);
    } else if (value !== undefined) {
      found.add(prefix);
    }
  };
  for (const run of runs) {
    walk('hparams', run.hparams, 0);
    const metrics = valueAt(run, 'metrics');
    if (metrics && typeof metrics === 'object') {
      for (const [type, names] of Object.entries(metrics as Record<string, Record<string, unknown>>)) {
        for (const name of Object.keys(names ?? {})) {
          for (const field of ['last', 'min', 'max']) found.add(`metrics.${type}.${name}.${field}`);
        }
      }
    }
  }
  return [...found].sort();
}

const MOST_HPARAMS = 5;
const MOST_METRICS = 4;
/** Metric types by how much a reader wants them first; `system` (CPU, memory) is not shown. */
const TYPE_ORDER = ['val', 'test', 'eval', 'valid', 'validation', 'train'];

/**
 * A first choice when the user has made none, from a sample of the runs: the hparams whose
 * values differ between them (all of them when there is one run), then the last values of
 * the main metrics (those most runs have, validation before training).
 */
export function suggestedColumns(runs: readonly Record<string, unknown>[]): string[] {
  const available = availableColumns(runs);
  const hparams = available.filter((path) => path.startsWith('hparams.'));
  const differing = hparams.filter(
    (path) => new Set(runs.map((run) => JSON.stringify(valueAt(run, path) ?? null))).size > 1,
  );
  const metricCount = new Map<string, number>();
  for (const path of available.filter((each) => each.startsWith('metrics.') && each.endsWith('.last'))) {
    metricCount.set(path, runs.filter((run) => valueAt(run, path) !== undefined).length);
  }
  const typeRank = (path: string) => {
    const type = path.split('.')[1] ?? '';
    const at = TYPE_ORDER.indexOf(type);
    return at === -1 ? TYPE_ORDER.length : at;
  };
  const metrics = [...metricCount.keys()]
    .filter((path) => path.split('.')[1] !== 'system')
    .sort(
      (a, b) =>
        (metricCount.get(b) ?? 0) - (metricCount.get(a) ?? 0) || typeRank(a) - typeRank(b) || a.localeCompare(b),
    )
    .slice(0, MOST_METRICS);
  return [...(runs.length > 1 ? differing : hparams).slice(0, MOST_HPARAMS), ...metrics];
}

export function columnLabel(path: string): string {
  if (path.startsWith('hparams.')) return path.slice('hparams.'.length);
  if (path.startsWith('metrics.')) return path.slice('metrics.'.length).replace(/\.last$/, '');
  return path;
}

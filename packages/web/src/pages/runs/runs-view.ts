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
}

const KEY = 'larder.runsView';
const DEFAULT: RunsView = { folder: null, filter: '', sort: { key: 'createdAt', direction: -1 }, columns: null };

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

/** A first choice when the user has made none: a few hparams and the last value of a few metrics. */
export function suggestedColumns(available: readonly string[]): string[] {
  const hparams = available.filter((path) => path.startsWith('hparams.')).slice(0, 3);
  const metrics = available.filter((path) => path.startsWith('metrics.') && path.endsWith('.last')).slice(0, 3);
  return [...hparams, ...metrics];
}

export function columnLabel(path: string): string {
  if (path.startsWith('hparams.')) return path.slice('hparams.'.length);
  if (path.startsWith('metrics.')) return path.slice('metrics.'.length).replace(/\.last$/, '');
  return path;
}

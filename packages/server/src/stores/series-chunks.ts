/**
 * The adapter-independent part of appending to a chunked series: which points are new,
 * how they fill the open chunk and new ones, and the summary after them. Adapters only
 * read and write the rows this plans.
 */
import { LarderError } from '@larder/protocol';
import {
  CHUNK_POINTS,
  type PointColumns,
  type ReadOptions,
  type SeriesKey,
  type SeriesSummary,
} from './metric-store.js';

/** One stored chunk: `seq` orders chunks within a series. */
export interface Chunk {
  seq: number;
  columns: PointColumns;
}

export interface StoredSeries {
  summary: SeriesSummary;
  /** Number of chunks. */
  chunks: number;
}

export interface AppendPlan {
  summary: SeriesSummary;
  chunks: number;
  /** Chunks to write (insert, or replace when `seq` is the previously open chunk). */
  writes: Chunk[];
}

const COLUMNS = ['steps', 'values', 'epochs', 'times'] as const;

export function columnsLength(columns: PointColumns): number {
  return columns.steps.length;
}

export function sliceColumns(columns: PointColumns, start: number, end = columnsLength(columns)): PointColumns {
  return {
    steps: columns.steps.subarray(start, end),
    values: columns.values.subarray(start, end),
    epochs: columns.epochs.subarray(start, end),
    times: columns.times.subarray(start, end),
  };
}

export function concatColumns(parts: readonly PointColumns[]): PointColumns {
  const total = parts.reduce((sum, part) => sum + columnsLength(part), 0);
  const joined = {
    steps: new Float64Array(total),
    values: new Float64Array(total),
    epochs: new Float64Array(total),
    times: new Float64Array(total),
  };
  let at = 0;
  for (const part of parts) {
    for (const column of COLUMNS) joined[column].set(part[column], at);
    at += columnsLength(part);
  }
  return joined;
}

/**
 * Plans an append. `open` is the last stored chunk when it has room (read by the adapter
 * only when `existing.summary.count % CHUNK_POINTS !== 0`).
 */
export function planAppend(
  key: SeriesKey,
  offset: number,
  points: PointColumns,
  existing: StoredSeries | undefined,
  open: Chunk | undefined,
): AppendPlan | undefined {
  const count = existing?.summary.count ?? 0;
  if (!Number.isInteger(offset) || offset < 0) {
    throw new LarderError('BadRequest', `The offset of ${key.type}/${key.name} must be a whole number, 0 or more`);
  }
  if (offset > count) {
    throw new LarderError(
      'Conflict',
      `Series ${key.type}/${key.name} holds ${count} points; a batch starting at ${offset} would leave a gap`,
      { data: { type: key.type, name: key.name, count } },
    );
  }
  const fresh = sliceColumns(points, Math.min(count - offset, columnsLength(points)));
  const added = columnsLength(fresh);
  if (added === 0) return undefined;

  const writes: Chunk[] = [];
  let chunks = existing?.chunks ?? 0;
  let rest = fresh;
  if (open && columnsLength(open.columns) < CHUNK_POINTS) {
    const room = CHUNK_POINTS - columnsLength(open.columns);
    writes.push({ seq: open.seq, columns: concatColumns([open.columns, sliceColumns(rest, 0, room)]) });
    rest = sliceColumns(rest, Math.min(room, columnsLength(rest)));
  }
  for (let start = 0; start < columnsLength(rest); start += CHUNK_POINTS) {
    writes.push({ seq: chunks, columns: sliceColumns(rest, start, start + CHUNK_POINTS) });
    chunks += 1;
  }
  return { summary: summarise(key, existing?.summary, fresh), chunks, writes };
}

function summarise(key: SeriesKey, before: SeriesSummary | undefined, fresh: PointColumns): SeriesSummary {
  // Numbers only in the loop (no null, no call per point): a comparison with NaN is false,
  // so points that are not a number, and the infinities (bounded out), never move min or max.
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  let lowStep = Number.POSITIVE_INFINITY;
  let highStep = Number.NEGATIVE_INFINITY;
  const { steps, values, epochs } = fresh;
  const n = columnsLength(fresh);
  for (let index = 0; index < n; index += 1) {
    const value = values[index] as number;
    if (value < low && value > Number.NEGATIVE_INFINITY) low = value;
    if (value > high && value < Number.POSITIVE_INFINITY) high = value;
    const step = steps[index] as number;
    if (step < lowStep) lowStep = step;
    if (step > highStep) highStep = step;
  }
  let lastEpoch = before?.lastEpoch ?? null;
  for (let index = n - 1; index >= 0; index -= 1) {
    const epoch = epochs[index] as number;
    if (!Number.isNaN(epoch)) {
      lastEpoch = epoch;
      break;
    }
  }
  const found = low <= high;
  const min = before?.min ?? null;
  const max = before?.max ?? null;
  const last = values[n - 1] as number;
  return {
    ...key,
    count: (before?.count ?? 0) + n,
    firstStep: before ? Math.min(before.firstStep, lowStep) : lowStep,
    lastStep: before ? Math.max(before.lastStep, highStep) : highStep,
    last: Number.isFinite(last) ? last : null,
    min: found ? (min === null ? low : Math.min(min, low)) : min,
    max: found ? (max === null ? high : Math.max(max, high)) : max,
    lastEpoch,
    lastTime: fresh.times[n - 1] as number,
  };
}

/** Packs a column as little-endian float64 bytes (the byte order of every platform Node runs on). */
export function packColumn(column: Float64Array): Buffer {
  return Buffer.from(column.buffer, column.byteOffset, column.byteLength);
}

export function unpackColumn(bytes: Uint8Array): Float64Array {
  // Copy into an aligned buffer: database drivers hand out views at any offset.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float64Array(copy.buffer);
}

/** Lowest and highest step of a chunk, kept beside it. */
export function stepRange(steps: Float64Array): [number, number] {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const step of steps) {
    if (step < low) low = step;
    if (step > high) high = step;
  }
  return [low, high];
}

/** Joins steps and values only (epochs and times left empty). */
export function concatValues(parts: readonly PointColumns[]): PointColumns {
  const total = parts.reduce((sum, part) => sum + part.steps.length, 0);
  const steps = new Float64Array(total);
  const values = new Float64Array(total);
  let at = 0;
  for (const part of parts) {
    steps.set(part.steps, at);
    values.set(part.values, at);
    at += part.steps.length;
  }
  return { steps, values, epochs: new Float64Array(0), times: new Float64Array(0) };
}

/** Keeps the points whose step lies in the requested range. */
export function filterSteps(columns: PointColumns, options: ReadOptions): PointColumns {
  const from = options.fromStep ?? Number.NEGATIVE_INFINITY;
  const to = options.toStep ?? Number.POSITIVE_INFINITY;
  if (from === Number.NEGATIVE_INFINITY && to === Number.POSITIVE_INFINITY) return columns;
  const keep: number[] = [];
  columns.steps.forEach((step, index) => {
    if (step >= from && step <= to) keep.push(index);
  });
  const pick = (column: Float64Array) =>
    column.length === 0 ? column : Float64Array.from(keep, (index) => column[index] as number);
  return {
    steps: pick(columns.steps),
    values: pick(columns.values),
    epochs: pick(columns.epochs),
    times: pick(columns.times),
  };
}

export function emptySummary(key: SeriesKey): SeriesSummary {
  return {
    ...key,
    count: 0,
    firstStep: 0,
    lastStep: 0,
    last: null,
    min: null,
    max: null,
    lastEpoch: null,
    lastTime: 0,
  };
}

/** A series row as both SQL adapters store it. */
export interface SeriesRow {
  run: string;
  type: string;
  name: string;
  count: number;
  chunks: number;
  first_step: number;
  last_step: number;
  last: number | null;
  min: number | null;
  max: number | null;
  last_epoch: number | null;
  last_time: number;
}

export function toSummary(row: SeriesRow): SeriesSummary {
  return {
    run: row.run,
    type: row.type,
    name: row.name,
    count: row.count,
    firstStep: row.first_step,
    lastStep: row.last_step,
    last: row.last,
    min: row.min,
    max: row.max,
    lastEpoch: row.last_epoch,
    lastTime: row.last_time,
  };
}

/**
 * The JSON text of a metric history answer (`{"metrics":[{key, value, timestamp, step}, …]}`),
 * written straight from the store's columns in pieces of a few thousand points, instead of
 * one object per point handed to JSON.stringify: a million-point series is tens of MB of
 * text, and building and stringifying a million objects is most of the cost of answering it.
 * The text is exactly what JSON.stringify would give for the same message (values as MLflow
 * writes doubles: `"NaN"`, `"Infinity"`, `"-Infinity"` as strings).
 */
import { Readable } from 'node:stream';
import type { PointColumns } from '../../../stores/metric-store.js';

const POINTS_PER_PIECE = 4096;

function doubleText(value: number): string {
  if (Number.isNaN(value)) return '"NaN"';
  if (value === Number.POSITIVE_INFINITY) return '"Infinity"';
  if (value === Number.NEGATIVE_INFINITY) return '"-Infinity"';
  return String(value);
}

const ZEROS = ['', '0', '00', '000', '0000', '00000'];

/**
 * A timestamp in milliseconds as `String` writes it, cheaper: an integer past 2^31 takes
 * V8's general double-to-text path, while its two halves below and above 10^6 are small
 * integers it writes fast (about a third of the cost for a million timestamps).
 */
export function timestampText(value: number): string {
  if (value < 1e9 || value >= 9e15 || !Number.isInteger(value)) return String(value);
  const high = Math.floor(value / 1e6);
  const low = String(value - high * 1e6);
  return `${high}${ZEROS[6 - low.length]}${low}`;
}

export interface HistorySlice {
  key: string;
  columns: PointColumns;
  /** Indexes into the columns, in answer order. */
  indexes: ArrayLike<number>;
  /** Adds `run_id` to every metric (the bulk endpoints). */
  runId?: string;
}

/** The pieces of `{"metrics":[…]<, "next_page_token": …>}` for the slices, in order. */
export function* metricHistoryPieces(slices: readonly HistorySlice[], nextPageToken?: string): Generator<string> {
  yield '{"metrics":[';
  let first = true;
  for (const { key, columns, indexes, runId } of slices) {
    const head = `{"key":${JSON.stringify(key)},"value":`;
    const tail = runId === undefined ? '}' : `,"run_id":${JSON.stringify(runId)}}`;
    const { values, times, steps } = columns;
    for (let start = 0; start < indexes.length; start += POINTS_PER_PIECE) {
      const end = Math.min(indexes.length, start + POINTS_PER_PIECE);
      // Joined once: a string grown by += is a rope that costs as much again to flatten.
      const parts = new Array<string>(end - start);
      for (let at = start; at < end; at += 1) {
        const index = indexes[at] as number;
        parts[at - start] =
          `${first ? '' : ','}${head}${doubleText(values[index] as number)},"timestamp":${timestampText(times[index] as number)},"step":${steps[index]}${tail}`;
        first = false;
      }
      yield parts.join('');
    }
  }
  yield nextPageToken === undefined ? ']}' : `],"next_page_token":${JSON.stringify(nextPageToken)}}`;
}

/** The answer as a stream the dispatcher serves as `application/json`, read as the socket drains. */
export function metricHistoryJson(slices: readonly HistorySlice[], nextPageToken?: string): Readable {
  return Readable.from(metricHistoryPieces(slices, nextPageToken), { objectMode: false });
}

/** `start`, `start + 1`, …, `end - 1` as an index list. */
export function indexRange(start: number, end: number): Uint32Array {
  const length = Math.max(0, end - start);
  const indexes = new Uint32Array(length);
  for (let at = 0; at < length; at += 1) indexes[at] = start + at;
  return indexes;
}

/**
 * The metric store port: series of points (step, value, epoch, time) per (run, type, name),
 * stored as chunks of packed typed arrays rather than a row per point, so that ingest costs
 * a copy per point and reading a million-point series touches a few hundred rows. Adapters
 * (SQLite, PostgreSQL) pass `metric-store.conformance.ts` unchanged.
 *
 * Appends are exactly-once: the writer says where in the series its batch starts
 * (`offset`); points the store already holds are skipped, and a batch that would leave a
 * gap is refused. So a client may resend a batch after any failure.
 */

import type { ChunkEnvelope } from './chunk-envelope.js';

export interface SeriesKey {
  run: string;
  /** `train`, `val`, `test` or a custom type. */
  type: string;
  name: string;
}

/** Points as columns; `epochs` holds NaN where a point has no epoch, `values` NaN for non-numbers. */
export interface PointColumns {
  steps: Float64Array;
  values: Float64Array;
  epochs: Float64Array;
  /** Milliseconds since the epoch. */
  times: Float64Array;
}

export interface SeriesSummary extends SeriesKey {
  count: number;
  firstStep: number;
  lastStep: number;
  /** Value of the last point appended. */
  last: number | null;
  min: number | null;
  max: number | null;
  lastEpoch: number | null;
  lastTime: number;
}

export interface AppendBatch {
  key: SeriesKey;
  /**
   * Index in the series of `points`' first point; or `'end'`: after whatever the series
   * holds when the append runs (for writers that carry no offset, such as MLflow's client;
   * two of them appending at once both land, and a resend lands twice).
   */
  offset: number | 'end';
  points: PointColumns;
}

export interface ReadOptions {
  fromStep?: number;
  toStep?: number;
  /**
   * Only the points at positions `fromIndex` (included) to `toIndex` (excluded) in the series'
   * order (a page of it), before any step range applies: reads only the chunks holding them.
   */
  fromIndex?: number;
  toIndex?: number;
  /** Also read epochs and times (charts need only steps and values). */
  withTimes?: boolean;
}

export interface MetricStore {
  readonly kind: string;
  open(): Promise<void>;
  close(): Promise<void>;
  /**
   * Appends batches atomically (all or none) and answers each series' summary after it.
   * Rejects with Conflict when an offset is past the end of its series.
   */
  append(batches: readonly AppendBatch[]): Promise<SeriesSummary[]>;
  /** The series' points in order (empty columns when it does not exist). */
  read(key: SeriesKey, options?: ReadOptions): Promise<PointColumns>;
  /**
   * The series' chunk count and the envelopes of its spans (`SPAN_CHUNKS` chunks each), in
   * order: the coarsest level, for downsampled reads of long series. A span with a chunk that
   * has no envelope (written before envelopes were kept) has none: read its chunks' envelopes.
   */
  spanEnvelopes(key: SeriesKey): Promise<{ chunks: number; spans: ChunkEnvelope[] }>;
  /** The envelopes of the chunks numbered `seqs`, in series order (a chunk without one is left out). */
  chunkEnvelopes(key: SeriesKey, seqs: readonly number[]): Promise<ChunkEnvelope[]>;
  /** The envelopes of the segments of the chunks numbered `seqs`, in series order. */
  segmentEnvelopes(key: SeriesKey, seqs: readonly number[]): Promise<ChunkEnvelope[]>;
  /** The points of the chunks numbered `seqs` (steps and values only), in the order asked. */
  readChunks(key: SeriesKey, seqs: readonly number[]): Promise<{ seq: number; columns: PointColumns }[]>;
  /** Summaries of every series of a run. */
  list(run: string): Promise<SeriesSummary[]>;
  /** Deletes every series of a run. */
  removeRun(run: string): Promise<void>;
}

/** Points per stored chunk. */
export const CHUNK_POINTS = 4096;

export function emptyColumns(): PointColumns {
  return {
    steps: new Float64Array(0),
    values: new Float64Array(0),
    epochs: new Float64Array(0),
    times: new Float64Array(0),
  };
}

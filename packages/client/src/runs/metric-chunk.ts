/**
 * A chunk of the local metric log: consecutive points of one series, written by one flush,
 * as columns of float64 (the shape the writer buffers, the log stores and the wire sends).
 * `offset` is the index, within its series, of the chunk's first point, so a reader can
 * tell a repeated chunk (skip it) from a missing one (the file is damaged), and an
 * uploader can send `offset` to the server unchanged.
 */

export interface MetricChunk {
  type: string;
  name: string;
  offset: number;
  steps: Float64Array;
  /** NaN stands for NaN and ±Infinity (JSON's `null`): not a number. */
  values: Float64Array;
  /** NaN where a point has no epoch; `null` when none of the chunk's points has one. */
  epochs: Float64Array | null;
  /** Milliseconds since the Unix epoch. */
  times: Float64Array;
}

/** The key a series is known by: its type and name. */
export function seriesKey(type: string, name: string): string {
  return `${type}\u0000${name}`;
}

/** A column as JSON-ready numbers, NaN as `null` (a plain loop: a mapping callback is slow). */
export function nullableNumbers(column: Float64Array): (number | null)[] {
  const out = new Array<number | null>(column.length);
  for (let index = 0; index < column.length; index += 1) {
    const value = column[index] as number;
    out[index] = Number.isNaN(value) ? null : value;
  }
  return out;
}

/** Numbers (`null` for not a number) as a float64 column, `null` as NaN. */
export function numberColumn(values: readonly (number | null)[]): Float64Array {
  const column = new Float64Array(values.length);
  for (let index = 0; index < values.length; index += 1) {
    const value = values[index];
    column[index] = typeof value === 'number' && Number.isFinite(value) ? value : Number.NaN;
  }
  return column;
}

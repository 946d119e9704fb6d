/**
 * The wire form of metric points: columnar batches, validated and turned into typed arrays.
 *
 * `POST /metrics { run, series: [{ type, name, offset, steps, values, epochs?, times? }] }`:
 * `steps` numbers; `values` numbers or null (not a number); `epochs` numbers or null, or
 * left out; `times` milliseconds since the epoch, or left out (the server's clock).
 */
import { LarderError, normalizeMetricType } from '@larder/protocol';
import type { PointColumns } from '../../stores/metric-store.js';

export interface SeriesInput {
  type: string;
  name: string;
  offset: number;
  points: PointColumns;
}

/** Points one request may carry. */
export const MAX_POINTS_PER_REQUEST = 2_000_000;
const MAX_SERIES_PER_REQUEST = 10_000;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const BAD_NAME = /[\u0000-\u001f\u007f.$]/;

/** t9k's metric type aliases: `training` is `train`, `validation` is `val`, `eval` is `test`. */
export const normaliseType = normalizeMetricType;

function assertKey(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string' || value === '' || value.length > 128 || BAD_NAME.test(value)) {
    throw new LarderError(
      'BadRequest',
      `${what} must be 1-128 characters without ".", "$" or control characters (got ${JSON.stringify(value)?.slice(0, 40)})`,
    );
  }
}

function column(value: unknown, length: number, what: string, allowNull: boolean, fallback?: number): Float64Array {
  if (value === undefined || (value === null && allowNull)) {
    return new Float64Array(length).fill(fallback ?? Number.NaN);
  }
  if (value instanceof Float64Array) {
    // The binary form: NaN stands for null, which only nullable columns accept.
    if (value.length !== length)
      throw new LarderError('BadRequest', `${what} must hold ${length} numbers, like "steps"`);
    if (!allowNull) {
      for (let index = 0; index < length; index += 1) {
        if (!Number.isFinite(value[index]))
          throw new LarderError('BadRequest', `${what}[${index}] must be a finite number`);
      }
    }
    return value;
  }
  if (!Array.isArray(value) || value.length !== length) {
    throw new LarderError('BadRequest', `${what} must be an array of ${length} entries, like "steps"`);
  }
  const out = new Float64Array(length);
  for (let index = 0; index < length; index += 1) {
    const entry = value[index];
    if (typeof entry === 'number' && Number.isFinite(entry)) out[index] = entry;
    else if (entry === null && allowNull) out[index] = Number.NaN;
    else throw new LarderError('BadRequest', `${what}[${index}] must be a finite number${allowNull ? ' or null' : ''}`);
  }
  return out;
}

/** Validates a request body; answers the run id and its series. */
export function parseMetricBatch(body: unknown): { run: string; series: SeriesInput[] } {
  const { run, series } = (body ?? {}) as { run?: unknown; series?: unknown };
  if (typeof run !== 'string' || run === '')
    throw new LarderError('BadRequest', 'Send points as { run: <run id>, series: [...] }');
  if (!Array.isArray(series) || series.length === 0 || series.length > MAX_SERIES_PER_REQUEST) {
    throw new LarderError('BadRequest', `"series" must be a non-empty array (at most ${MAX_SERIES_PER_REQUEST})`);
  }
  let total = 0;
  const now = Date.now();
  const parsed = series.map((entry, index) => {
    const { type, name, offset, steps, values, epochs, times } = (entry ?? {}) as Record<string, unknown>;
    assertKey(type, `series[${index}].type`);
    assertKey(name, `series[${index}].name`);
    if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) {
      throw new LarderError('BadRequest', `series[${index}].offset must be the index of its first point (0 or more)`);
    }
    if (!Array.isArray(steps) && !(steps instanceof Float64Array)) {
      throw new LarderError('BadRequest', `series[${index}].steps must be an array of numbers`);
    }
    total += steps.length;
    if (total > MAX_POINTS_PER_REQUEST) {
      throw new LarderError('PayloadTooLarge', `At most ${MAX_POINTS_PER_REQUEST} points per request; send several`);
    }
    const length = steps.length;
    return {
      type: normaliseType(type),
      name,
      offset,
      points: {
        steps: column(steps, length, `series[${index}].steps`, false),
        values: column(values, length, `series[${index}].values`, true),
        epochs: column(epochs, length, `series[${index}].epochs`, true),
        times: column(times, length, `series[${index}].times`, false, now),
      },
    };
  });
  return { run, series: parsed };
}

/**
 * One line of `metrics.ndjson`: consecutive points of one series, written by one flush.
 * `offset` is the index, within its series, of the chunk's first point, so a reader can
 * tell a repeated chunk (skip it) from a missing one (the file is damaged), and an
 * uploader can send `offset` to the server unchanged.
 */
import { isObject } from './local-json-file.js';

export interface MetricChunk {
  type: string;
  name: string;
  offset: number;
  steps: number[];
  /** `null` stands for NaN or ±Infinity, which JSON cannot carry. */
  values: (number | null)[];
  /** `null` when no point of the chunk had an epoch. */
  epochs: (number | null)[] | null;
  /** Milliseconds since the Unix epoch. */
  times: number[];
}

/**
 * A chunk as one NDJSON line, newline included: exactly `JSON.stringify(chunk)`, but a
 * column of finite numbers is written with `join` (several times faster for long columns
 * of large numbers such as times) and only a column holding null, NaN or ±Infinity goes
 * through `JSON.stringify`.
 */
export function encodeChunk(chunk: MetricChunk): string {
  const epochs = chunk.epochs === null ? 'null' : numbersJson(chunk.epochs);
  return `{"type":${JSON.stringify(chunk.type)},"name":${JSON.stringify(chunk.name)},"offset":${chunk.offset},"steps":${numbersJson(chunk.steps)},"values":${numbersJson(chunk.values)},"epochs":${epochs},"times":${numbersJson(chunk.times)}}\n`;
}

/** A column as a JSON array (null, NaN and ±Infinity as null, as JSON.stringify writes them). */
function numbersJson(column: readonly (number | null)[]): string {
  for (let index = 0; index < column.length; index += 1) {
    const value = column[index];
    // ToString of a finite number is JSON's text for it; anything else takes the slow path.
    if (typeof value !== 'number' || !Number.isFinite(value)) return JSON.stringify(column);
  }
  return `[${column.join(',')}]`;
}

/** The chunk a line holds, or `undefined` when the line is not a well-formed chunk. */
export function decodeChunk(line: string): MetricChunk | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isObject(parsed)) return undefined;
  const { type, name, offset, steps, values, epochs, times } = parsed;
  if (typeof type !== 'string' || typeof name !== 'string') return undefined;
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) return undefined;
  if (!isNumbers(steps) || !isNumbersOrNulls(values) || !isNumbers(times)) return undefined;
  if (epochs !== null && !isNumbersOrNulls(epochs)) return undefined;
  const length = steps.length;
  if (values.length !== length || times.length !== length || (epochs !== null && epochs.length !== length)) {
    return undefined;
  }
  return { type, name, offset, steps, values, epochs, times };
}

/** The key a series is known by: its type and name. */
export function seriesKey(type: string, name: string): string {
  return `${type}\u0000${name}`;
}

function isNumbers(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((each) => typeof each === 'number');
}

function isNumbersOrNulls(value: unknown): value is (number | null)[] {
  return Array.isArray(value) && value.every((each) => each === null || typeof each === 'number');
}

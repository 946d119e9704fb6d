/**
 * The first format of the local metric log, `metrics.ndjson` (one JSON chunk a line), as
 * runs written before the binary log hold it: read only, so those runs still load, list
 * their points and upload from where they stopped.
 */
import { LarderError } from '@larder/protocol';
import { isObject } from './local-json-file.js';
import { type MetricChunk, numberColumn } from './metric-chunk.js';

/** Whole lines of `buffer` (up to its last newline) as chunks, and how many bytes they took. */
export function decodeNdjsonChunks(
  path: string,
  buffer: Buffer,
  length: number,
  atFileEnd: boolean,
): { chunks: MetricChunk[]; used: number } | undefined {
  const lastNewline = buffer.lastIndexOf(0x0a, length - 1);
  if (lastNewline < 0) return undefined;
  const lines = buffer.toString('utf8', 0, lastNewline).split('\n');
  const chunks: MetricChunk[] = [];
  for (const [index, line] of lines.entries()) {
    if (line === '') continue;
    const chunk = decodeNdjsonChunk(line);
    if (chunk) {
      chunks.push(chunk);
      continue;
    }
    // A crash can leave a garbled final line even with its newline; anything earlier is damage.
    if (index === lines.length - 1 && atFileEnd) break;
    throw new LarderError('BadRequest', `${path} holds a damaged line: ${line.slice(0, 80)}`);
  }
  return { chunks, used: lastNewline + 1 };
}

/** The chunk a line holds, or `undefined` when the line is not a well-formed chunk. */
export function decodeNdjsonChunk(line: string): MetricChunk | undefined {
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
  return {
    type,
    name,
    offset,
    steps: Float64Array.from(steps),
    values: numberColumn(values),
    epochs: epochs === null ? null : numberColumn(epochs),
    times: Float64Array.from(times),
  };
}

function isNumbers(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((each) => typeof each === 'number');
}

function isNumbersOrNulls(value: unknown): value is (number | null)[] {
  return Array.isArray(value) && value.every((each) => each === null || typeof each === 'number');
}

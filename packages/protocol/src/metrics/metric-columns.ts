/**
 * The compact wire form of metric points: columns of little-endian float64, behind a small
 * JSON header. `POST /metrics` takes it with the content type {@link METRIC_COLUMNS_TYPE}
 * (JSON columns work too); it costs a copy per point where JSON costs a number's text.
 *
 * Layout: `LMC1` · u32 header length · header (UTF-8 JSON `{ run, series: [{ type, name,
 * offset, count, epochs, times }] }`) · zero padding to a multiple of 8 · for each series
 * its `steps`, `values`, then `epochs` and `times` when flagged, `count` float64 each.
 * NaN in `values` means "not a number" (JSON's null); NaN in `epochs` means no epoch.
 *
 * @example
 * const body = encodeMetricColumns('01h…', [{ type: 'train', name: 'loss', offset: 0, steps, values }]);
 * await fetch(`${url}/metrics`, { method: 'POST', headers: { 'content-type': METRIC_COLUMNS_TYPE }, body });
 */
import { LarderError } from '../errors.js';

export const METRIC_COLUMNS_TYPE = 'application/vnd.larder.metric-columns';

export interface ColumnSeries {
  type: string;
  name: string;
  offset: number;
  steps: Float64Array;
  values: Float64Array;
  epochs?: Float64Array | undefined;
  times?: Float64Array | undefined;
}

interface HeaderSeries {
  type: string;
  name: string;
  offset: number;
  count: number;
  epochs: boolean;
  times: boolean;
}

const MAGIC = [0x4c, 0x4d, 0x43, 0x31]; // "LMC1"
const MAX_HEADER_BYTES = 4 * 1024 * 1024;

export function encodeMetricColumns(run: string, series: readonly ColumnSeries[]): Uint8Array {
  const header: { run: string; series: HeaderSeries[] } = {
    run,
    series: series.map((each) => ({
      type: each.type,
      name: each.name,
      offset: each.offset,
      count: each.steps.length,
      epochs: each.epochs !== undefined,
      times: each.times !== undefined,
    })),
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const start = align8(8 + headerBytes.length);
  let total = start;
  for (const each of series) total += 8 * each.steps.length * (2 + (each.epochs ? 1 : 0) + (each.times ? 1 : 0));
  const bytes = new Uint8Array(total);
  bytes.set(MAGIC, 0);
  new DataView(bytes.buffer).setUint32(4, headerBytes.length, true);
  bytes.set(headerBytes, 8);
  let at = start;
  const put = (column: Float64Array) => {
    bytes.set(new Uint8Array(column.buffer, column.byteOffset, column.byteLength), at);
    at += column.byteLength;
  };
  for (const each of series) {
    if (each.values.length !== each.steps.length)
      throw new LarderError('BadRequest', 'values and steps differ in length');
    put(each.steps);
    put(each.values);
    if (each.epochs) put(each.epochs);
    if (each.times) put(each.times);
  }
  return bytes;
}

export function decodeMetricColumns(bytes: Uint8Array): { run: string; series: ColumnSeries[] } {
  const refuse = (why: string): never => {
    throw new LarderError('BadRequest', `The metric columns body is malformed: ${why}`);
  };
  if (bytes.length < 8 || MAGIC.some((byte, index) => bytes[index] !== byte)) refuse('it does not start with LMC1');
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > bytes.length) refuse('the header length is out of range');
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    return refuse('the header is not JSON');
  }
  const header = (parsed !== null && typeof parsed === 'object' ? parsed : {}) as { run?: unknown; series?: unknown };
  if (typeof header.run !== 'string' || !Array.isArray(header.series)) refuse('the header needs run and series');
  // Copy once into a fresh, aligned buffer (a Node Buffer's `slice` would be another view),
  // then view each column without copying again.
  const start = align8(8 + headerLength);
  const data = bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes);
  let at = start;
  const take = (count: number) => {
    const end = at + 8 * count;
    if (end > data.length) refuse('the columns are shorter than the header says');
    const column = new Float64Array(data.buffer, data.byteOffset + at, count);
    at = end;
    return column;
  };
  const series = (header.series as unknown[]).map((entry, index) => {
    const { type, name, offset, count, epochs, times } = (entry ?? {}) as Partial<HeaderSeries>;
    if (typeof type !== 'string' || typeof name !== 'string' || typeof offset !== 'number') {
      refuse(`series ${index} needs type, name and offset`);
    }
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0)
      refuse(`series ${index} has no valid count`);
    return {
      type: type as string,
      name: name as string,
      offset: offset as number,
      steps: take(count as number),
      values: take(count as number),
      ...(epochs ? { epochs: take(count as number) } : {}),
      ...(times ? { times: take(count as number) } : {}),
    };
  });
  if (at !== data.length) refuse('there are bytes after the last column');
  return { run: header.run as string, series };
}

function align8(value: number): number {
  return Math.ceil(value / 8) * 8;
}

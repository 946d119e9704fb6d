/**
 * The shapes of a run's media records, checked field by field (anything else is refused, so
 * records stay what the dashboard reads):
 * - an image: `{ run, key, name, step, caption?, image: { sha256, size }, width?, height?, time? }`,
 *   its bytes a blob the writer uploaded (checked by the one blob-naming check on create);
 * - a histogram: `{ run, key, name, step, min, max, counts, count, sum, sumSquares, nonFinite,
 *   time? }`, equal-width buckets of `[min, max]` whose counts add up to `count`.
 * `key` is the SDK's name for the entry; the record id derives from (kind, run, key), so an
 * entry sent twice is stored once.
 */
import { createHash } from 'node:crypto';
import { LarderError } from '@larder/protocol';
import { isSha256 } from '../../blobs/blob-store.js';

export type MediaKind = 'image' | 'histogram';

const MAX_NAME = 200;
const MAX_CAPTION = 1000;
const MAX_SIDE = 16_384;
export const MAX_BINS = 1024;

type Body = Record<string, unknown>;

function fail(index: number, sentence: string): never {
  throw new LarderError('BadRequest', `Entry ${index}: ${sentence}`);
}

const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

function common(body: unknown, index: number, allowed: readonly string[]): Body {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) fail(index, 'is not an object');
  const record = body as Body;
  for (const key of Object.keys(record)) {
    if (!allowed.includes(key)) fail(index, `"${key}" is not a field here (fields: ${allowed.join(', ')})`);
  }
  if (typeof record.run !== 'string' || record.run === '') fail(index, '"run" is the id of the run');
  if (typeof record.key !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(record.key)) {
    fail(index, '"key" is 1 to 64 letters, digits, "_" or "-" (the SDK names each entry)');
  }
  if (typeof record.name !== 'string' || record.name.trim() === '' || record.name.length > MAX_NAME) {
    fail(index, `"name" is a string of 1 to ${MAX_NAME} characters`);
  }
  if (!isFiniteNumber(record.step)) fail(index, '"step" is a finite number');
  if (record.time !== undefined && !isFiniteNumber(record.time)) fail(index, '"time" is milliseconds since 1970');
  return record;
}

const IMAGE_FIELDS = ['run', 'key', 'name', 'step', 'caption', 'image', 'mime', 'width', 'height', 'time'];

/** An image record as stored (`mime` is only the writer's word; the file route reads the bytes). */
export function imageRecord(body: unknown, index: number): Body {
  const record = common(body, index, IMAGE_FIELDS);
  if (record.caption !== undefined && (typeof record.caption !== 'string' || record.caption.length > MAX_CAPTION)) {
    fail(index, `"caption" is a string of at most ${MAX_CAPTION} characters`);
  }
  const image = record.image as Body | undefined;
  if (!image || typeof image !== 'object' || !isSha256(image.sha256) || !isCount(image.size)) {
    fail(index, '"image" is { sha256, size } as POST /blobs answered');
  }
  for (const side of ['width', 'height'] as const) {
    const value = record[side];
    if (value !== undefined && !(Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_SIDE)) {
      fail(index, `"${side}" is an integer from 1 to ${MAX_SIDE}`);
    }
  }
  const { mime: _mime, ...kept } = record;
  return { ...kept, image: { sha256: image.sha256, size: image.size } };
}

const HISTOGRAM_FIELDS = [
  'run',
  'key',
  'name',
  'step',
  'min',
  'max',
  'counts',
  'count',
  'sum',
  'sumSquares',
  'nonFinite',
  'time',
];

export function histogramRecord(body: unknown, index: number): Body {
  const record = common(body, index, HISTOGRAM_FIELDS);
  if (!isFiniteNumber(record.min) || !isFiniteNumber(record.max) || record.min > record.max) {
    fail(index, '"min" and "max" are finite numbers, min ≤ max');
  }
  const counts = record.counts;
  if (!Array.isArray(counts) || counts.length < 1 || counts.length > MAX_BINS || !counts.every(isCount)) {
    fail(index, `"counts" is 1 to ${MAX_BINS} whole numbers, one per bucket`);
  }
  if (!isCount(record.count) || counts.reduce((sum, each) => sum + each, 0) !== record.count) {
    fail(index, '"count" is the number of values binned, the sum of "counts"');
  }
  if (!isFiniteNumber(record.sum) || !isFiniteNumber(record.sumSquares))
    fail(index, '"sum" and "sumSquares" are finite numbers');
  if (!isCount(record.nonFinite)) fail(index, '"nonFinite" is the count of NaN and infinite values');
  return record;
}

/** The record id of an entry: derived, so a resend lands on the same record. */
export function mediaRecordId(kind: MediaKind, run: string, key: string): string {
  return `${kind === 'image' ? 'mi' : 'mh'}${createHash('sha256').update(`${run}\u0000${key}`).digest('hex').slice(0, 40)}`;
}

/**
 * Named data logs of a run (Picsellia's experiment `log`), each checked against the shape
 * of its type, and named file assets (`files.<name> = { sha256, size, filename }`).
 *
 * | type | data |
 * | value | a number or a string |
 * | line | `{ steps: number[], values: number[] }` of equal length |
 * | bar | `{ x: labels[], y: numbers[] }` of equal length |
 * | heatmap | `{ categories: string[], values: number[][] }`, square on the categories |
 * | table | a flat `{ key: scalar }`, or `{ data: scalar[][], rows?: string[], columns?: string[] }` |
 * | image | `{ sha256, size, filename? }`: an uploaded picture |
 * | labelmap | `{ "<index>": "<label>" }` |
 * | evaluation | `{ predictions: [...], groundTruth: [...] }` of `{ asset?, label, box?|polygon?, confidence? }` |
 */
import { LarderError } from '@larder/protocol';
import { isSha256 } from '../../blobs/blob-store.js';

export const DATA_LOG_TYPES = ['value', 'line', 'bar', 'heatmap', 'table', 'image', 'labelmap', 'evaluation'] as const;

type Json = unknown;

const isObject = (value: Json): value is Record<string, Json> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const isNumber = (value: Json): value is number => typeof value === 'number' && Number.isFinite(value);
const isScalar = (value: Json) => value === null || ['string', 'number', 'boolean'].includes(typeof value);

function fail(name: string, type: string, shape: string): never {
  throw new LarderError('BadRequest', `Data log "${name}" of type ${type} must be ${shape}`);
}

export function assertDataLog(name: string, entry: Json): void {
  if (!isObject(entry) || typeof entry.type !== 'string') {
    throw new LarderError(
      'BadRequest',
      `Data log "${name}" must be { type, data } with type one of ${DATA_LOG_TYPES.join(', ')}`,
    );
  }
  const { type, data } = entry;
  switch (type) {
    case 'value':
      if (!isNumber(data) && typeof data !== 'string') fail(name, type, 'a number or a string');
      return;
    case 'line':
      if (
        !isObject(data) ||
        !Array.isArray(data.steps) ||
        !Array.isArray(data.values) ||
        data.steps.length !== data.values.length ||
        !data.steps.every(isNumber) ||
        !data.values.every((v) => v === null || isNumber(v))
      ) {
        fail(name, type, '{ steps: number[], values: number[] } of equal length');
      }
      return;
    case 'bar':
      if (
        !isObject(data) ||
        !Array.isArray(data.x) ||
        !Array.isArray(data.y) ||
        data.x.length !== data.y.length ||
        !data.y.every(isNumber) ||
        !data.x.every((x) => typeof x === 'string' || isNumber(x))
      ) {
        fail(name, type, '{ x: labels[], y: numbers[] } of equal length');
      }
      return;
    case 'heatmap': {
      const size = isObject(data) && Array.isArray(data.categories) ? data.categories.length : -1;
      if (
        !isObject(data) ||
        size < 0 ||
        !(data.categories as Json[]).every((c) => typeof c === 'string') ||
        !Array.isArray(data.values) ||
        data.values.length !== size ||
        !data.values.every((row) => Array.isArray(row) && row.length === size && row.every(isNumber))
      ) {
        fail(name, type, '{ categories: string[], values: number[][] } with one row and one column per category');
      }
      return;
    }
    case 'table':
      if (isObject(data) && Array.isArray(data.data)) {
        const rows = data.data;
        if (
          !rows.every((row) => Array.isArray(row) && row.every(isScalar)) ||
          (data.rows !== undefined && (!Array.isArray(data.rows) || data.rows.length !== rows.length)) ||
          (data.columns !== undefined && !Array.isArray(data.columns))
        ) {
          fail(name, type, '{ data: scalar[][], rows?: string[] (one per row), columns?: string[] }');
        }
        return;
      }
      if (!isObject(data) || !Object.values(data).every(isScalar))
        fail(name, type, 'a flat { key: value } object or { data, rows, columns }');
      return;
    case 'image':
      if (!isObject(data) || !isSha256(data.sha256) || !isNumber(data.size))
        fail(name, type, '{ sha256, size, filename? } of an uploaded picture');
      return;
    case 'labelmap':
      if (
        !isObject(data) ||
        !Object.entries(data).every(([key, label]) => /^\d+$/.test(key) && typeof label === 'string')
      ) {
        fail(name, type, '{ "<index>": "<label>" }');
      }
      return;
    case 'evaluation':
      if (
        !isObject(data) ||
        !Array.isArray(data.predictions) ||
        !Array.isArray(data.groundTruth) ||
        ![...data.predictions, ...data.groundTruth].every(
          (shape) =>
            isObject(shape) &&
            typeof shape.label === 'string' &&
            (shape.confidence === undefined || isNumber(shape.confidence)),
        )
      ) {
        fail(name, type, '{ predictions: [...], groundTruth: [...] } of { label, box | polygon, confidence? }');
      }
      return;
    default:
      throw new LarderError('BadRequest', `Data log "${name}": type must be one of ${DATA_LOG_TYPES.join(', ')}`);
  }
}

export function assertFileAsset(name: string, entry: Json): void {
  if (entry === null) return; // patching a name to null deletes it
  if (!isObject(entry) || !isSha256(entry.sha256) || !isNumber(entry.size)) {
    throw new LarderError('BadRequest', `File "${name}" must be { sha256, size, filename? } as POST /blobs answers`);
  }
}

/** Checks `dataLogs` and `files` in a create/update body or a patch (also as dotted keys). */
export function assertRunAttachments(fields: Record<string, Json>): void {
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'dataLogs' || key === 'files') {
      if (!isObject(value)) throw new LarderError('BadRequest', `"${key}" must be an object of named entries`);
      for (const [name, entry] of Object.entries(value)) {
        if (key === 'files') assertFileAsset(name, entry);
        else if (entry !== null) assertDataLog(name, entry);
      }
    } else if (key.startsWith('dataLogs.')) {
      if (value !== null) assertDataLog(key.slice(9), value);
    } else if (key.startsWith('files.')) assertFileAsset(key.slice(6), value);
  }
}

/**
 * What clients may write into a record, and how a patch applies: top-level keys merge,
 * dotted keys (`"hparams.lr"`) set nested fields. Server-kept fields (`_id`, `createdAt`,
 * `updatedAt`) are never taken from the client.
 */
import { type JsonValue, LarderError, parseFieldPath } from '@larder/protocol';

export type RecordData = Record<string, JsonValue>;

const SERVER_FIELDS = ['createdAt', 'updatedAt'] as const;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Validates a record body; throws BadRequest with the reason. */
export function assertRecordData(data: unknown, what = 'The record'): asserts data is RecordData {
  if (!isPlainObject(data)) throw new LarderError('BadRequest', `${what} must be a JSON object`);
  for (const key of Object.keys(data)) {
    if (key.startsWith('$')) {
      throw new LarderError('BadRequest', `Field names cannot start with "$" (got "${key.slice(0, 40)}")`);
    }
    if (key === '__proto__') throw new LarderError('BadRequest', 'A field cannot be named "__proto__"');
  }
}

/** Drops the fields only the server sets. */
export function withoutServerFields(data: RecordData): RecordData {
  const copy = { ...data };
  for (const field of SERVER_FIELDS) delete copy[field];
  return copy;
}

/** Applies a patch to a copy of `record`. */
export function applyPatch(record: RecordData, patch: RecordData): RecordData {
  const result: RecordData = { ...record };
  for (const [key, value] of Object.entries(patch)) {
    if (!key.includes('.')) {
      result[key] = value;
      continue;
    }
    const path = parseFieldPath(key);
    let target: Record<string, JsonValue> | JsonValue[] = result;
    for (let i = 0; i < path.length - 1; i++) {
      const segment = path[i] as string | number;
      const container = target as Record<string | number, JsonValue>;
      const next = container[segment];
      const copy: Record<string, JsonValue> | JsonValue[] = Array.isArray(next)
        ? [...next]
        : isPlainObject(next)
          ? { ...(next as Record<string, JsonValue>) }
          : {};
      container[segment] = copy;
      target = copy;
    }
    (target as Record<string | number, JsonValue>)[path[path.length - 1] as string | number] = value;
  }
  return result;
}

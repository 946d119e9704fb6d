/** `$select`: keeps the chosen (dotted) fields of a record, and always its `_id`. */
import { type FieldPath, type JsonValue, readPath } from '@larder/protocol';

export function projectFields<T extends Record<string, unknown>>(
  record: T,
  select: readonly FieldPath[] | undefined,
): T {
  if (!select) return record;
  const out: Record<string, unknown> = { _id: record._id };
  for (const path of select) {
    const value = readPath(record, path);
    if (value === undefined) continue;
    let target = out;
    for (let i = 0; i < path.length - 1; i++) {
      const key = String(path[i]);
      const next = target[key];
      if (next === null || typeof next !== 'object') target[key] = {};
      target = target[key] as Record<string, unknown>;
    }
    target[String(path[path.length - 1])] = value as JsonValue;
  }
  return out as T;
}

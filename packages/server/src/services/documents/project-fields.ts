/** `$select`: keeps the chosen (dotted) fields of a record, and always its `_id`. */
import { type FieldPath, readPath, writePath } from '@larder/protocol';

export function projectFields<T extends Record<string, unknown>>(
  record: T,
  select: readonly FieldPath[] | undefined,
): T {
  if (!select) return record;
  const out: Record<string, unknown> = { _id: record._id };
  for (const path of select) {
    const value = readPath(record, path);
    if (value !== undefined) writePath(out, path, value);
  }
  return out as T;
}

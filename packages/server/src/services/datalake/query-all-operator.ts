/**
 * `$all` for array fields (`{ tags: { $all: ['cat', 'outdoor'] } }`: records carrying every
 * one of the tags), rewritten before parsing into what the query language already has: an
 * `$and` of equalities, each of which matches when any element of the array is equal.
 */
import { LarderError } from '@larder/protocol';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function rewriteAllOperators(query: unknown): unknown {
  if (!isPlainObject(query)) return query;
  const clauses: Record<string, unknown>[] = [];
  const rest: Record<string, unknown> = {};
  for (const [field, condition] of Object.entries(query)) {
    if (!field.startsWith('$') && isPlainObject(condition) && '$all' in condition) {
      const { $all, ...others } = condition;
      const values = Array.isArray($all) ? $all : [$all];
      if (values.length === 0 || values.length > 100) {
        throw new LarderError('BadRequest', `$all on "${field}" takes 1 to 100 values`);
      }
      for (const value of values) clauses.push({ [field]: value });
      if (Object.keys(others).length > 0) clauses.push({ [field]: others });
      continue;
    }
    rest[field] = condition;
  }
  if (clauses.length === 0) return query;
  const existing = Array.isArray(rest.$and) ? rest.$and : rest.$and === undefined ? [] : [rest.$and];
  return { ...rest, $and: [...existing, ...clauses] };
}

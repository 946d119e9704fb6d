/**
 * Fields that never leave the server (password hashes): stripped from every record an
 * external caller receives, and refused in queries, since a filter or sort on a hash is an
 * oracle for it (`password[$gt]=$2a$10$M…` answered one character at a time).
 */
import { type FieldPath, type Filter, LarderError, type ParsedQuery } from '@larder/protocol';

function touches(path: FieldPath | undefined, hidden: readonly string[]): boolean {
  return path !== undefined && typeof path[0] === 'string' && hidden.includes(path[0]);
}

function filterTouches(filter: Filter, hidden: readonly string[]): boolean {
  switch (filter.op) {
    case 'all':
      return false;
    case 'and':
    case 'or':
      return filter.filters.some((each) => filterTouches(each, hidden));
    case 'not':
      return filterTouches(filter.filter, hidden);
    default:
      return touches(filter.path, hidden);
  }
}

/** Throws BadRequest when the query filters, sorts, selects or lists distinct values of a hidden field. */
export function assertNoHiddenFields(query: ParsedQuery, hidden: readonly string[]): void {
  if (hidden.length === 0) return;
  const used =
    filterTouches(query.filter, hidden) ||
    query.sort.some((key) => touches(key.path, hidden)) ||
    (query.select ?? []).some((path) => touches(path, hidden)) ||
    touches(query.distinct, hidden);
  if (used) throw new LarderError('BadRequest', `These fields cannot be queried: ${hidden.join(', ')}`);
}

/** A copy of `value` (a record, or a list or page of them) without the hidden fields. */
export function withoutHiddenFields<T>(value: T, hidden: readonly string[]): T {
  if (hidden.length === 0 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((each) => withoutHiddenFields(each, hidden)) as T;
  const record = value as Record<string, unknown>;
  if (!hidden.some((field) => field in record)) return value;
  const copy = { ...record };
  for (const field of hidden) delete copy[field];
  return copy as T;
}

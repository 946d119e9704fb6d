/**
 * Dialect-independent pieces of the SQL compilers: which filter nodes are leaves a single
 * probe of one field can test, and the grouping of an OR's leaves by field, so that `$in`,
 * `$nin` and the several readings of a query-string value cost one probe per field.
 */
import type { FieldPath, Filter, RangeOperator } from '@larder/protocol';

/** Equality with a non-null value, or a range comparison, on one field. */
export type Leaf = Extract<Filter, { op: 'eq' | RangeOperator }>;

export function isProbeLeaf(filter: Filter): filter is Leaf {
  return (
    (filter.op === 'eq' && filter.value !== null) ||
    filter.op === 'lt' ||
    filter.op === 'lte' ||
    filter.op === 'gt' ||
    filter.op === 'gte'
  );
}

export function isIdPath(path: FieldPath): boolean {
  return path.length === 1 && path[0] === '_id';
}

/** An OR's operands: its probe leaves grouped by field, and everything else. */
export function groupLeavesByField(filters: readonly Filter[]): { groups: Leaf[][]; rest: Filter[] } {
  const groups = new Map<string, Leaf[]>();
  const rest: Filter[] = [];
  for (const filter of filters) {
    if (!isProbeLeaf(filter)) {
      rest.push(filter);
      continue;
    }
    const key = JSON.stringify(filter.path);
    const group = groups.get(key);
    if (group) group.push(filter);
    else groups.set(key, [filter]);
  }
  return { groups: [...groups.values()], rest };
}

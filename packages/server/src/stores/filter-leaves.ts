/**
 * Dialect-independent pieces of the SQL compilers: which filter nodes are leaves a single
 * probe of one field can test, and the grouping of an OR's leaves by field, so that `$in`,
 * `$nin` and the several readings of a query-string value cost one probe per field.
 */
import type { FieldPath, Filter, RangeOperator } from '@larder/protocol';

/** Equality with a non-null value, a range comparison or a LIKE pattern, on one field. */
export type Leaf = Extract<Filter, { op: 'eq' | 'like' | RangeOperator }>;

export function isProbeLeaf(filter: Filter): filter is Leaf {
  return (
    (filter.op === 'eq' && filter.value !== null) ||
    filter.op === 'like' ||
    filter.op === 'lt' ||
    filter.op === 'lte' ||
    filter.op === 'gt' ||
    filter.op === 'gte'
  );
}

export function isIdPath(path: FieldPath): boolean {
  return path.length === 1 && path[0] === '_id';
}

/** A LIKE pattern as a GLOB pattern (SQLite's case-sensitive matcher); `*`, `?` and `[` are made literal. */
export function likeToGlob(pattern: string): string {
  return Array.from(pattern, (char) => {
    if (char === '%') return '*';
    if (char === '_') return '?';
    if (char === '*' || char === '?' || char === '[') return `[${char}]`;
    return char;
  }).join('');
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

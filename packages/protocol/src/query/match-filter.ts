/**
 * Evaluates a {@link Filter} against a document in memory, with the same semantics the SQL
 * compilers implement (see `ast.ts`). The server uses it to decide which realtime events a
 * connection may receive; clients may use it to filter locally.
 *
 * @example
 * matchFilter({ score: 0.9, tags: ['a'] }, parseFilter({ tags: 'a', score: { $gt: 0.5 } })); // true
 */
import { asciiLower, type Filter, type RangeOperator, type Scalar } from './ast.js';
import { readPath } from './field-path.js';

function sameScalar(stored: unknown, wanted: Scalar): boolean {
  if (wanted === null) return stored === null;
  return typeof stored === typeof wanted && stored === wanted;
}

function inRange(stored: unknown, op: RangeOperator, wanted: string | number): boolean {
  if (typeof stored !== typeof wanted) return false;
  const a = stored as string | number;
  switch (op) {
    case 'lt':
      return a < wanted;
    case 'lte':
      return a <= wanted;
    case 'gt':
      return a > wanted;
    case 'gte':
      return a >= wanted;
  }
}

const patterns = new Map<string, RegExp>();

/** A LIKE pattern as an anchored regular expression over code points (`_` is one character). */
function likeRegExp(pattern: string): RegExp {
  let compiled = patterns.get(pattern);
  if (!compiled) {
    const source = Array.from(pattern, (char) =>
      char === '%' ? '.*' : char === '_' ? '.' : char.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'),
    ).join('');
    compiled = new RegExp(`^${source}$`, 'su');
    if (patterns.size > 1000) patterns.clear();
    patterns.set(pattern, compiled);
  }
  return compiled;
}

function likeMatches(stored: unknown, pattern: string, caseInsensitive: boolean): boolean {
  if (typeof stored !== 'string') return false;
  if (!caseInsensitive) return likeRegExp(pattern).test(stored);
  return likeRegExp(asciiLower(pattern)).test(asciiLower(stored));
}

/** Whether `doc` satisfies `filter`. */
export function matchFilter(doc: unknown, filter: Filter): boolean {
  switch (filter.op) {
    case 'all':
      return true;
    case 'and':
      return filter.filters.every((part) => matchFilter(doc, part));
    case 'or':
      return filter.filters.some((part) => matchFilter(doc, part));
    case 'not':
      return !matchFilter(doc, filter.filter);
    case 'exists':
      return (readPath(doc, filter.path) !== undefined) === filter.value;
    case 'like': {
      const stored = readPath(doc, filter.path);
      const { pattern, caseInsensitive } = filter;
      if (Array.isArray(stored)) return stored.some((element) => likeMatches(element, pattern, caseInsensitive));
      return likeMatches(stored, pattern, caseInsensitive);
    }
    case 'eq': {
      const stored = readPath(doc, filter.path);
      if (filter.value === null && stored === undefined) return true;
      if (Array.isArray(stored)) return stored.some((element) => sameScalar(element, filter.value));
      return sameScalar(stored, filter.value);
    }
    default: {
      const stored = readPath(doc, filter.path);
      const { op, value } = filter;
      if (Array.isArray(stored)) return stored.some((element) => inRange(element, op, value));
      return inRange(stored, op, value);
    }
  }
}

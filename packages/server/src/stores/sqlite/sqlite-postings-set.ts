/**
 * Filters answered from the field index alone, without reading a document: when every leaf of
 * a filter is an equality on an indexed field, the filter is a set of document numbers built
 * from postings (an equality: one term's postings; AND: the smallest part's members, each
 * tested in the others; OR: a union; NOT: the collection's numbers less the part's). An exact
 * count is then the size of that set, and a sort walk tests each document it visits with a few
 * primary-key probes of `field_postings` instead of reading its JSON.
 *
 * Equalities on an indexed path mean what the JSON probe means: the index holds each scalar
 * value (each element, for an array) with its JSON kind, so `1`, `"1"` and `true` stay
 * apart. Every document of a collection with an indexed field is numbered
 * (`document_numbers`), so `all` and NOT range over exactly the collection's documents.
 */
import type { Filter } from '@larder/protocol';
import { isIdPath } from '../filter-leaves.js';
import { type FieldIndexView, indexedValues, sqliteJsonPath } from './sqlite-query-compiler.js';

/** A set of document numbers, as SQL. */
interface NumberSet {
  /** Members expected (from the terms' postings); `Infinity`: bounded only by the collection. */
  size: number;
  /** `SELECT <no> ...` of the members, each once. */
  select(params: unknown[]): string;
  /** Whether the document numbered `no` (an SQL expression) is a member. */
  test(no: string, params: unknown[]): string;
}

const EMPTY: NumberSet = {
  size: 0,
  select: () => 'SELECT 0 AS no WHERE 0',
  test: () => '0',
};

/** The collection's documents that pass `test` (`1`: all of them). */
function collectionWhere(collection: string, test: (no: string, params: unknown[]) => string): NumberSet {
  return {
    size: Number.POSITIVE_INFINITY,
    select: (params) => {
      params.push(collection);
      return `SELECT dn.no AS no FROM document_numbers AS dn WHERE dn.collection = ? AND ${test('dn.no', params)}`;
    },
    test,
  };
}

/** The documents holding any of `terms` (one field's values). */
function termsSet(terms: readonly { term: number; postings: number }[]): NumberSet {
  if (terms.length === 0) return EMPTY;
  if (terms.length === 1) {
    const [{ term, postings }] = terms as [{ term: number; postings: number }];
    return {
      size: postings,
      select: (params) => {
        params.push(term);
        return 'SELECT fp.no AS no FROM field_postings AS fp WHERE fp.term = ?';
      },
      test: (no, params) => {
        params.push(term);
        return `EXISTS (SELECT 1 FROM field_postings AS fp WHERE fp.term = ? AND fp.no = ${no})`;
      },
    };
  }
  const list = JSON.stringify(terms.map((term) => term.term));
  return {
    size: terms.reduce((sum, term) => sum + term.postings, 0),
    select: (params) => {
      params.push(list);
      // An array holding two of the values has a posting under each: DISTINCT keeps it once.
      return 'SELECT DISTINCT fp.no AS no FROM field_postings AS fp WHERE fp.term IN (SELECT value FROM json_each(?))';
    },
    test: (no, params) => {
      params.push(list);
      return `EXISTS (SELECT 1 FROM field_postings AS fp WHERE fp.term IN (SELECT value FROM json_each(?)) AND fp.no = ${no})`;
    },
  };
}

function andSet(collection: string, parts: NumberSet[]): NumberSet {
  const ordered = [...parts].sort((a, b) => a.size - b.size);
  const [driver, ...others] = ordered;
  if (!driver) return collectionWhere(collection, () => '1');
  if (others.length === 0) return driver;
  const test = (no: string, params: unknown[]) => `(${ordered.map((part) => part.test(no, params)).join(' AND ')})`;
  if (driver.size === Number.POSITIVE_INFINITY) return collectionWhere(collection, test);
  return {
    size: driver.size,
    select: (params) => {
      const members = driver.select(params);
      return `SELECT g.no AS no FROM (${members}) AS g WHERE ${others.map((part) => part.test('g.no', params)).join(' AND ')}`;
    },
    test,
  };
}

function orSet(collection: string, parts: NumberSet[]): NumberSet {
  const members = parts.filter((part) => part !== EMPTY);
  const [first, ...others] = members;
  if (!first) return EMPTY;
  if (others.length === 0) return first;
  const test = (no: string, params: unknown[]) => `(${members.map((part) => part.test(no, params)).join(' OR ')})`;
  const size = members.reduce((sum, part) => sum + part.size, 0);
  if (size === Number.POSITIVE_INFINITY) return collectionWhere(collection, test);
  return {
    size,
    select: (params) => members.map((part) => `SELECT no FROM (${part.select(params)})`).join(' UNION '),
    test,
  };
}

/**
 * The filter as a set of the collection's document numbers, when the field index can answer
 * every part of it; `undefined` otherwise (a range, a pattern, `exists`, `null`, `_id`, or a
 * field without an index). `index.indexed` says which paths have an index.
 */
export function postingsSet(collection: string, filter: Filter, index: FieldIndexView): NumberSet | undefined {
  switch (filter.op) {
    case 'all':
      return collectionWhere(collection, () => '1');
    case 'eq': {
      if (isIdPath(filter.path) || filter.value === null) return undefined;
      const jsonPath = sqliteJsonPath(filter.path);
      const value = indexedValues([filter])?.[0];
      if (!value || !index.indexed(jsonPath)) return undefined;
      const term = index.term(jsonPath, value);
      return termsSet(term ? [term] : []);
    }
    case 'and':
    case 'or': {
      const parts: NumberSet[] = [];
      // An OR's equalities on one field share one probe of their terms.
      const byPath = new Map<string, { term: number; postings: number }[]>();
      for (const part of filter.filters) {
        if (filter.op === 'or' && part.op === 'eq' && part.value !== null && !isIdPath(part.path)) {
          const jsonPath = sqliteJsonPath(part.path);
          const value = indexedValues([part])?.[0];
          if (!value || !index.indexed(jsonPath)) return undefined;
          const terms = byPath.get(jsonPath) ?? [];
          const term = index.term(jsonPath, value);
          if (term) terms.push(term);
          byPath.set(jsonPath, terms);
          continue;
        }
        const set = postingsSet(collection, part, index);
        if (!set) return undefined;
        parts.push(set);
      }
      for (const terms of byPath.values()) parts.push(termsSet(terms));
      return filter.op === 'and' ? andSet(collection, parts) : orSet(collection, parts);
    }
    case 'not': {
      const inner = postingsSet(collection, filter.filter, index);
      if (!inner) return undefined;
      return collectionWhere(collection, (no, params) => `NOT ${inner.test(no, params)}`);
    }
    default:
      return undefined;
  }
}

/** `SELECT count(*) AS n` of the filter's matches from postings alone; `undefined` where the index cannot answer. */
export function compilePostingsCount(
  collection: string,
  filter: Filter,
  index: FieldIndexView,
): { sql: string; params: unknown[] } | undefined {
  const set = postingsSet(collection, filter, index);
  if (!set) return undefined;
  const params: unknown[] = [];
  return { sql: `SELECT count(*) AS n FROM (${set.select(params)})`, params };
}

/**
 * At most how many documents can match, from the postings of the equalities that every match
 * must pass (an AND's parts, an OR's sum); `Infinity` where nothing bounds it.
 */
export function matchBound(filter: Filter, index: FieldIndexView): number {
  switch (filter.op) {
    case 'eq': {
      if (isIdPath(filter.path) || filter.value === null) return Number.POSITIVE_INFINITY;
      const jsonPath = sqliteJsonPath(filter.path);
      const value = indexedValues([filter])?.[0];
      if (!value || !index.indexed(jsonPath)) return Number.POSITIVE_INFINITY;
      return index.term(jsonPath, value)?.postings ?? 0;
    }
    case 'and':
      return Math.min(Number.POSITIVE_INFINITY, ...filter.filters.map((part) => matchBound(part, index)));
    case 'or':
      return filter.filters.reduce((sum, part) => sum + matchBound(part, index), 0);
    default:
      return Number.POSITIVE_INFINITY;
  }
}

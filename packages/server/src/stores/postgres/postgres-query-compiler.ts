/**
 * Compiles the query tree to PostgreSQL over `jsonb` documents, with the semantics of the
 * SQLite compiler (type-bracketed, array elements match, `eq null` matches missing).
 * Paths are bound as `text[]` parameters (`data #> $n`) and values as parameters; the SQL
 * text depends only on the tree's shape. Strings compare with `COLLATE "C"` (byte order,
 * as SQLite and JavaScript compare ASCII) whatever the database's collation.
 */
import { asciiLower, type FieldPath, type Filter, type SortKey } from '@larder/protocol';
import { groupLeavesByField, isIdPath, type Leaf } from '../filter-leaves.js';

/** Numbered parameters: `bind(value)` answers `$n`. */
export class Parameters {
  readonly values: unknown[] = [];
  bind(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

export function postgresPath(path: FieldPath): string[] {
  return path.map(String);
}

/** How a field index names its path (`indexed_fields.path`, `field_postings.path`): the segments as JSON. */
export function indexedPathKey(path: FieldPath): string {
  return JSON.stringify(postgresPath(path));
}

/** What the compiler knows about the collection: its name and which fields have postings. */
export interface CompileContext {
  collection: string;
  indexed?: ((pathKey: string) => boolean) | undefined;
  /** Whether a field has a valid containment index (`postgres-containment-index.ts`). */
  contained?: ((pathKey: string) => boolean) | undefined;
}

const NO_INDEX: CompileContext = { collection: '' };

const RANGE_SQL = { lt: '<', lte: '<=', gt: '>', gte: '>=' } as const;

/** The field's value: `data #> $n::text[]` (SQL NULL when missing). */
function field(path: FieldPath, params: Parameters): string {
  return `(data #> ${params.bind(postgresPath(path))}::text[])`;
}

/**
 * LIKE without an escape character, in byte order; lower() under the "C" collation folds
 * ASCII only, as the language defines case-insensitive patterns.
 */
function likeTest(text: string, leaf: Extract<Leaf, { op: 'like' }>, params: Parameters): string {
  if (!leaf.caseInsensitive) return `(${text} COLLATE "C" LIKE ${params.bind(leaf.pattern)} ESCAPE '')`;
  return `(lower(${text} COLLATE "C") LIKE ${params.bind(asciiLower(leaf.pattern))} ESCAPE '')`;
}

/** The tests of a probe, over a value written `__V__` (instantiated for the scalar and for array elements). */
function probeTests(leaves: readonly Leaf[], params: Parameters): string {
  const tests: string[] = [];
  const strings: string[] = [];
  const numbers: number[] = [];
  for (const leaf of leaves) {
    if (leaf.op === 'like') {
      tests.push(
        `CASE WHEN jsonb_typeof(__V__) = 'string' THEN ${likeTest("(__V__ #>> '{}')", leaf, params)} ELSE false END`,
      );
    } else if (leaf.op === 'eq') {
      if (typeof leaf.value === 'boolean') tests.push(`COALESCE(__V__ = '${leaf.value}'::jsonb, false)`);
      else if (typeof leaf.value === 'string') strings.push(leaf.value);
      else if (typeof leaf.value === 'number') numbers.push(leaf.value);
    } else if (typeof leaf.value === 'string') {
      tests.push(
        `CASE WHEN jsonb_typeof(__V__) = 'string' THEN (__V__ #>> '{}') COLLATE "C" ${RANGE_SQL[leaf.op]} ${params.bind(leaf.value)} ELSE false END`,
      );
    } else {
      tests.push(
        `CASE WHEN jsonb_typeof(__V__) = 'number' THEN (__V__ #>> '{}')::numeric ${RANGE_SQL[leaf.op]} ${params.bind(leaf.value)}::numeric ELSE false END`,
      );
    }
  }
  if (strings.length > 0) {
    tests.push(
      `CASE WHEN jsonb_typeof(__V__) = 'string' THEN (__V__ #>> '{}') = ANY(${params.bind(strings)}::text[]) ELSE false END`,
    );
  }
  if (numbers.length > 0) {
    tests.push(
      `CASE WHEN jsonb_typeof(__V__) = 'number' THEN (__V__ #>> '{}')::numeric = ANY(${params.bind(numbers)}::numeric[]) ELSE false END`,
    );
  }
  return tests.join(' OR ');
}

/** Most values for which equality also gets an index-friendly containment test. */
const MAX_CONTAINMENT_VALUES = 10;

/**
 * `data @> {"a":{"b":v}}` or `{"a":{"b":[v]}}`: implied by `a.b = v` (a scalar or an array
 * holding it), and answerable by the GIN index on `data`, so the planner can find candidate
 * rows without reading every document. Only for paths of object keys.
 */
function containment(path: FieldPath, leaves: readonly Leaf[], params: Parameters): string | undefined {
  if (path.some((segment) => typeof segment === 'number')) return undefined;
  if (leaves.length > MAX_CONTAINMENT_VALUES || !leaves.every((leaf) => leaf.op === 'eq')) return undefined;
  const nest = (value: unknown) => path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value);
  const tests = leaves.flatMap((leaf) => [
    `data @> ${params.bind(JSON.stringify(nest(leaf.value)))}::jsonb`,
    `data @> ${params.bind(JSON.stringify(nest([leaf.value])))}::jsonb`,
  ]);
  return `(${tests.join(' OR ')})`;
}

/**
 * Any element (or the scalar itself) passing any test. Typed comparisons sit behind a CASE
 * on the value's type, so that no cast ever runs on a value of another type; scalars are
 * tested directly, and only arrays are expanded.
 */
function compileProbe(path: FieldPath, leaves: readonly Leaf[], params: Parameters): string {
  const value = field(path, params);
  const prefilter = containment(path, leaves, params);
  const tests = probeTests(leaves, params);
  const probe = `CASE jsonb_typeof(${value}) WHEN 'array' THEN EXISTS (SELECT 1 FROM jsonb_array_elements(${value}) AS e(v) WHERE ${tests.replaceAll('__V__', 'v')}) ELSE (${tests.replaceAll('__V__', value)}) END`;
  return prefilter ? `(${prefilter} AND ${probe})` : `(${probe})`;
}

function compileIdLeaves(leaves: readonly Leaf[], params: Parameters): string {
  const parts: string[] = [];
  const ids: string[] = [];
  for (const leaf of leaves) {
    if (leaf.op === 'like') {
      parts.push(likeTest('id', leaf, params));
      continue;
    }
    if (typeof leaf.value !== 'string') continue;
    if (leaf.op === 'eq') ids.push(leaf.value);
    else parts.push(`(id ${RANGE_SQL[leaf.op]} ${params.bind(leaf.value)})`);
  }
  if (ids.length === 1) parts.push(`(id = ${params.bind(ids[0])})`);
  else if (ids.length > 1) parts.push(`(id = ANY(${params.bind(ids)}::text[]))`);
  return parts.length === 0 ? 'false' : `(${parts.join(' OR ')})`;
}

function compileLeaves(path: FieldPath, leaves: readonly Leaf[], params: Parameters, context: CompileContext): string {
  if (isIdPath(path)) return compileIdLeaves(leaves, params);
  const values = indexedValues(leaves);
  const key = indexedPathKey(path);
  if (values && context.indexed?.(key)) return compilePostingsOfAny(key, values, params, context);
  return compileProbe(path, leaves, params);
}

/** The values of equality leaves as the postings hold them (jsonb text); `undefined` when one is not an equality. */
function indexedValues(leaves: readonly Leaf[]): string[] | undefined {
  const values: string[] = [];
  for (const leaf of leaves) {
    if (leaf.op !== 'eq' || leaf.value === null || typeof leaf.value === 'object') return undefined;
    values.push(JSON.stringify(leaf.value));
  }
  return values;
}

/** Equalities on an indexed field (any of the values): the ids come from its postings. */
function compilePostingsOfAny(key: string, values: readonly string[], params: Parameters, context: CompileContext) {
  return `(id IN (SELECT p.id FROM field_postings p WHERE p.collection = ${params.bind(context.collection)} AND p.path = ${params.bind(key)} AND p.value = ANY(${params.bind(values)}::jsonb[])))`;
}

/**
 * An AND's equalities on indexed fields (all of the tags) as one join of their postings, which
 * the planner orders by its statistics of each value, before any document is read.
 */
function compileAllOf(leaves: readonly { key: string; value: string }[], params: Parameters, context: CompileContext) {
  const collection = params.bind(context.collection);
  const [first, ...others] = leaves as [{ key: string; value: string }, ...{ key: string; value: string }[]];
  const joins = others.map(
    (leaf, i) =>
      `JOIN field_postings p${i + 1} ON p${i + 1}.collection = ${collection} AND p${i + 1}.path = ${params.bind(leaf.key)} AND p${i + 1}.value = ${params.bind(leaf.value)}::jsonb AND p${i + 1}.id = p0.id`,
  );
  return `(id IN (SELECT p0.id FROM field_postings p0 ${joins.join(' ')} WHERE p0.collection = ${collection} AND p0.path = ${params.bind(first.key)} AND p0.value = ${params.bind(first.value)}::jsonb))`;
}

interface IndexedLeaf {
  key: string;
  value: string;
  /** The path spliced as SQL (the index's own expression), when it can be. */
  literal: string | undefined;
}

/**
 * Whether the equalities of an AND on the field `key` are answered by its containment index:
 * when it has one and two or more of them name the field (all of several tags), where the
 * index's intersection pays; a single equality keeps the postings, whose statistics weigh it.
 */
function containedAllOf(key: string, indexed: readonly IndexedLeaf[], context: CompileContext): boolean {
  if (!context.contained?.(key)) return false;
  const onField = indexed.filter((leaf) => leaf.key === key);
  return onField.length >= 2 && onField.every((leaf) => leaf.literal !== undefined);
}

/** An AND's equalities on fields with postings, and the rest of its members. */
function indexedLeavesOf(
  filters: readonly Filter[],
  context: CompileContext,
): { indexed: IndexedLeaf[]; rest: Filter[] } {
  const indexed: IndexedLeaf[] = [];
  const rest: Filter[] = [];
  for (const filter of filters) {
    const value = filter.op === 'eq' && !isIdPath(filter.path) ? indexedValues([filter])?.[0] : undefined;
    const key = value !== undefined && filter.op === 'eq' ? indexedPathKey(filter.path) : undefined;
    if (filter.op === 'eq' && value !== undefined && key !== undefined && context.indexed?.(key)) {
      indexed.push({ key, value, literal: pathLiteral(filter.path) });
    } else rest.push(filter);
  }
  return { indexed, rest };
}

function compileAnd(filters: readonly Filter[], params: Parameters, context: CompileContext): string {
  const { indexed, rest } = indexedLeavesOf(filters, context);
  const parts: string[] = [];
  const joined: IndexedLeaf[] = [];
  for (const leaf of indexed) {
    if (containedAllOf(leaf.key, indexed, context)) {
      parts.push(`((data #> ${leaf.literal}) @> ${params.bind(leaf.value)}::jsonb)`);
    } else joined.push(leaf);
  }
  if (joined.length > 0) parts.push(compileAllOf(joined, params, context));
  for (const filter of rest) parts.push(compileFilter(filter, params, context));
  return `(${parts.join(' AND ')})`;
}

function compileOr(filters: readonly Filter[], params: Parameters, context: CompileContext): string {
  const { groups, rest } = groupLeavesByField(filters);
  const parts = groups.map((leaves) => compileLeaves((leaves[0] as Leaf).path, leaves, params, context));
  for (const filter of rest) parts.push(compileFilter(filter, params, context));
  return parts.length === 0 ? 'false' : `(${parts.join(' OR ')})`;
}

/** A boolean SQL expression over the `id` and `data` columns; never NULL. */
export function compileFilter(filter: Filter, params: Parameters, context: CompileContext = NO_INDEX): string {
  switch (filter.op) {
    case 'all':
      return 'true';
    case 'and':
      return filter.filters.length === 0 ? 'true' : compileAnd(filter.filters, params, context);
    case 'or':
      return compileOr(filter.filters, params, context);
    case 'not':
      return `NOT ${compileFilter(filter.filter, params, context)}`;
    case 'exists':
      if (isIdPath(filter.path)) return filter.value ? 'true' : 'false';
      return `(${field(filter.path, params)} IS ${filter.value ? 'NOT ' : ''}NULL)`;
    case 'eq':
      if (filter.value === null) {
        if (isIdPath(filter.path)) return 'false';
        const value = field(filter.path, params);
        return `(${value} IS NULL OR jsonb_typeof(${value}) = 'null' OR (jsonb_typeof(${value}) = 'array' AND ${value} @> '[null]'::jsonb))`;
      }
      return compileLeaves(filter.path, [filter], params, context);
    default:
      return compileLeaves(filter.path, [filter], params, context);
  }
}

/** Path segments spliced into SQL only when they need no quoting in a `text[]` literal. */
const PLAIN_SEGMENT = /^[A-Za-z0-9_-]+$/;

/**
 * The path as a `text[]` literal (`'{"a","b"}'::text[]`) when every segment is plain, so an
 * expression index on it can match a query's sort; `undefined` otherwise (then it is bound).
 */
export function pathLiteral(path: FieldPath): string | undefined {
  const segments = postgresPath(path);
  if (!segments.every((segment) => PLAIN_SEGMENT.test(segment))) return undefined;
  return `'{${segments.map((segment) => `"${segment}"`).join(',')}}'::text[]`;
}

/**
 * The sort terms of one field over `value` (its `data #> path`): type rank (missing/null,
 * numbers, strings, objects, arrays, booleans), then the value in its type's order. The sort
 * index (`postgres-sort-index.ts`) is built on exactly these expressions.
 */
export function sortTerms(value: string): string[] {
  return [
    `CASE jsonb_typeof(${value}) WHEN 'number' THEN 2 WHEN 'string' THEN 3 WHEN 'object' THEN 4 WHEN 'array' THEN 5 WHEN 'boolean' THEN 6 ELSE 1 END`,
    `CASE WHEN jsonb_typeof(${value}) = 'number' THEN (${value} #>> '{}')::numeric END`,
    `(CASE WHEN jsonb_typeof(${value}) IN ('string', 'boolean') THEN ${value} #>> '{}' END) COLLATE "C"`,
    `(CASE WHEN jsonb_typeof(${value}) IN ('object', 'array') THEN ${value}::text END) COLLATE "C"`,
  ];
}

/** ORDER BY: each key's {@link sortTerms}, then id (ascending unless a key sorts on it). */
export function compileSort(sort: readonly SortKey[], params: Parameters): string {
  const terms: string[] = [];
  for (const key of sort) {
    const direction = key.direction === 1 ? 'ASC' : 'DESC';
    if (isIdPath(key.path)) {
      terms.push(`id ${direction}`);
      continue;
    }
    const path = pathLiteral(key.path) ?? `${params.bind(postgresPath(key.path))}::text[]`;
    for (const term of sortTerms(`(data #> ${path})`)) terms.push(`${term} ${direction}`);
  }
  if (!sort.some((key) => isIdPath(key.path))) terms.push('id ASC');
  return terms.join(', ');
}

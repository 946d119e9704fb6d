/**
 * Compiles the query tree to SQLite SQL over JSONB documents. Field paths and values are
 * always bound parameters; the SQL text depends only on the tree's shape.
 *
 * One `json_each` probe covers both a scalar field and the elements of an array field
 * (a scalar yields one row with a NULL key, an array yields rows with integer keys,
 * an object's members have text keys and are excluded).
 */
import { asciiLower, type FieldPath, type Filter, type SortKey } from '@larder/protocol';
import { groupLeavesByField, isIdPath, type Leaf, likeToGlob } from '../filter-leaves.js';

/** A value as the field index stores it (`sqlite-field-index.ts`): its JSON kind and SQL value. */
export interface IndexedValue {
  kind: number;
  value: string | number;
}

/** What the compiler may learn of a collection's field indexes. */
export interface FieldIndexView {
  /** Whether a JSON path has an index, however selective. */
  indexed(jsonPath: string): boolean;
  /** Whether the index of a JSON path is worth using for this many values. */
  useful(jsonPath: string, values: number): boolean;
  /** A value's term and how many documents hold it; `undefined`: none does. */
  term(jsonPath: string, value: IndexedValue): { term: number; postings: number } | undefined;
}

/** What the compiler may know about the collection: which fields have a field index. */
export interface CompileContext {
  collection: string;
  index?: FieldIndexView | undefined;
}

const NO_INDEX: CompileContext = { collection: '' };

export interface CompiledSql {
  sql: string;
  params: unknown[];
}

/** `$."key"[3]."other"`: SQLite's JSON path for a field path. */
export function sqliteJsonPath(path: FieldPath): string {
  let out = '$';
  for (const segment of path) out += typeof segment === 'number' ? `[${segment}]` : `."${segment}"`;
  return out;
}

const TYPE_CHECK = {
  string: "type = 'text'",
  number: "type IN ('integer', 'real')",
} as const;

const RANGE_SQL = { lt: '<', lte: '<=', gt: '>', gte: '>=' } as const;

/**
 * One probe over the elements of a field (or the field itself when it is a scalar) that
 * matches when any element passes any of the leaves' tests. Equalities with several values
 * become set membership with the values bound as one JSON array.
 */
function compileProbe(path: FieldPath, leaves: readonly Leaf[], params: unknown[]): string {
  const tests: string[] = [];
  const testParams: unknown[] = [];
  const equalities = { string: [] as string[], number: [] as number[] };
  for (const leaf of leaves) {
    if (leaf.op === 'like') {
      // SQLite's lower() folds ASCII only, as the language defines case-insensitive patterns.
      tests.push(leaf.caseInsensitive ? "(type = 'text' AND lower(value) GLOB ?)" : "(type = 'text' AND value GLOB ?)");
      testParams.push(globOf(leaf));
    } else if (leaf.op === 'eq') {
      if (typeof leaf.value === 'boolean') tests.push(`type = '${leaf.value ? 'true' : 'false'}'`);
      else if (typeof leaf.value === 'string') equalities.string.push(leaf.value);
      else if (typeof leaf.value === 'number') equalities.number.push(leaf.value);
    } else {
      tests.push(
        `(${TYPE_CHECK[typeof leaf.value === 'string' ? 'string' : 'number']} AND value ${RANGE_SQL[leaf.op]} ?)`,
      );
      testParams.push(leaf.value);
    }
  }
  for (const kind of ['string', 'number'] as const) {
    const values = equalities[kind];
    if (values.length === 1) {
      tests.push(`(${TYPE_CHECK[kind]} AND value = ?)`);
      testParams.push(values[0]);
    } else if (values.length > 1) {
      tests.push(`(${TYPE_CHECK[kind]} AND value IN (SELECT value FROM json_each(?)))`);
      testParams.push(JSON.stringify(values));
    }
  }
  params.push(sqliteJsonPath(path), ...testParams);
  return `EXISTS (SELECT 1 FROM json_each(data, ?) WHERE typeof(key) <> 'text' AND (${tests.join(' OR ')}))`;
}

function globOf(leaf: Extract<Leaf, { op: 'like' }>): string {
  return likeToGlob(leaf.caseInsensitive ? asciiLower(leaf.pattern) : leaf.pattern);
}

/** `_id` lives in its own column: equality and ranges use the primary key. */
function compileIdLeaves(leaves: readonly Leaf[], params: unknown[]): string {
  const parts: string[] = [];
  const ids: string[] = [];
  for (const leaf of leaves) {
    if (leaf.op === 'like') {
      parts.push(leaf.caseInsensitive ? '(lower(id) GLOB ?)' : '(id GLOB ?)');
      params.push(globOf(leaf));
      continue;
    }
    if (typeof leaf.value !== 'string') continue;
    if (leaf.op === 'eq') ids.push(leaf.value);
    else {
      parts.push(`(id ${RANGE_SQL[leaf.op]} ?)`);
      params.push(leaf.value);
    }
  }
  if (ids.length === 1) {
    parts.push('(id = ?)');
    params.push(ids[0]);
  } else if (ids.length > 1) {
    parts.push('(id IN (SELECT value FROM json_each(?)))');
    params.push(JSON.stringify(ids));
  }
  return parts.length === 0 ? '0' : parts.length === 1 ? (parts[0] as string) : `(${parts.join(' OR ')})`;
}

function compileLeaves(path: FieldPath, leaves: readonly Leaf[], params: unknown[], context: CompileContext): string {
  if (isIdPath(path)) return compileIdLeaves(leaves, params);
  const jsonPath = sqliteJsonPath(path);
  const values = indexedValues(leaves);
  if (values && context.index?.useful(jsonPath, leaves.length)) {
    return compileIndexLookup(jsonPath, values, params, context.index);
  }
  return compileProbe(path, leaves, params);
}

/** The values of equality leaves as the index stores them; `undefined` when a leaf is not an equality. */
export function indexedValues(leaves: readonly Leaf[]): IndexedValue[] | undefined {
  const values: IndexedValue[] = [];
  for (const leaf of leaves) {
    if (leaf.op !== 'eq') return undefined;
    if (typeof leaf.value === 'boolean') values.push({ kind: leaf.value ? 4 : 3, value: leaf.value ? 1 : 0 });
    else if (typeof leaf.value === 'string') values.push({ kind: 2, value: leaf.value });
    else if (typeof leaf.value === 'number') values.push({ kind: 1, value: leaf.value });
    else return undefined;
  }
  return values;
}

/** The documents holding any of the terms, read from their postings. */
const POSTINGS_OF_ANY = `(id IN (SELECT n.id FROM field_postings p CROSS JOIN document_numbers n ON n.no = p.no
  WHERE p.term IN (SELECT value FROM json_each(?))))`;

/** Equalities on an indexed field (any of the values): the matching ids come from the postings. */
function compileIndexLookup(
  jsonPath: string,
  values: readonly IndexedValue[],
  params: unknown[],
  index: FieldIndexView,
): string {
  const terms = values.flatMap((value) => index.term(jsonPath, value)?.term ?? []);
  if (terms.length === 0) return '0';
  params.push(JSON.stringify(terms));
  return POSTINGS_OF_ANY;
}

/**
 * An AND's equalities on indexed fields (`tags = a AND tags = b`: all of the tags) as one
 * intersection of postings: the rarest term's postings are read and each is probed into the
 * others' (a primary-key lookup of two integers), before any document is read.
 */
function compileAllOf(
  leaves: readonly { jsonPath: string; value: IndexedValue }[],
  params: unknown[],
  index: FieldIndexView,
): string {
  const terms: { term: number; postings: number }[] = [];
  for (const { jsonPath, value } of leaves) {
    const term = index.term(jsonPath, value);
    if (!term) return '0';
    terms.push(term);
  }
  terms.sort((a, b) => a.postings - b.postings);
  const [rarest, ...others] = terms;
  if (!rarest) return '1';
  const probes = others.map(
    (_, i) => `CROSS JOIN field_postings p${i + 1} ON p${i + 1}.term = ? AND p${i + 1}.no = p0.no`,
  );
  params.push(...others.map((other) => other.term), rarest.term);
  return `(id IN (SELECT n.id FROM field_postings p0 ${probes.join(' ')} CROSS JOIN document_numbers n ON n.no = p0.no WHERE p0.term = ?))`;
}

/** An AND: its single equalities on useful indexed fields intersect postings; the rest tests the documents. */
function compileAnd(filters: readonly Filter[], params: unknown[], context: CompileContext): string {
  const index = context.index;
  const indexed: { jsonPath: string; value: IndexedValue }[] = [];
  const rest: Filter[] = [];
  for (const filter of filters) {
    const value = index && filter.op === 'eq' && !isIdPath(filter.path) ? indexedValues([filter])?.[0] : undefined;
    const jsonPath = value && filter.op === 'eq' ? sqliteJsonPath(filter.path) : undefined;
    if (value && jsonPath && index?.useful(jsonPath, 1)) indexed.push({ jsonPath, value });
    else rest.push(filter);
  }
  const parts: string[] = [];
  if (index && indexed.length > 0) parts.push(compileAllOf(indexed, params, index));
  for (const filter of rest) parts.push(compileFilter(filter, params, context));
  return `(${parts.join(' AND ')})`;
}

/**
 * An OR whose leaves on the same field share one probe (`$in`, `$nin`, and the several
 * readings of a query-string value such as `"0.5"` as text and as a number).
 */
function compileOr(filters: readonly Filter[], params: unknown[], context: CompileContext): string {
  const { groups, rest } = groupLeavesByField(filters);
  const parts = groups.map((leaves) => compileLeaves((leaves[0] as Leaf).path, leaves, params, context));
  for (const filter of rest) parts.push(compileFilter(filter, params, context));
  return parts.length === 0 ? '0' : `(${parts.join(' OR ')})`;
}

/** Compiles a filter to a boolean SQL expression over the `data` and `id` columns. */
export function compileFilter(filter: Filter, params: unknown[], context: CompileContext = NO_INDEX): string {
  switch (filter.op) {
    case 'all':
      return '1';
    case 'and':
      return filter.filters.length === 0 ? '1' : compileAnd(filter.filters, params, context);
    case 'or':
      return compileOr(filter.filters, params, context);
    case 'not':
      return `NOT ${compileFilter(filter.filter, params, context)}`;
    case 'exists':
      if (isIdPath(filter.path)) return filter.value ? '1' : '0';
      params.push(sqliteJsonPath(filter.path));
      return `(json_type(data, ?) IS ${filter.value ? 'NOT ' : ''}NULL)`;
    case 'eq':
      if (filter.value === null) {
        if (isIdPath(filter.path)) return '0';
        const jsonPath = sqliteJsonPath(filter.path);
        params.push(jsonPath, jsonPath);
        return "(json_type(data, ?) IS NULL OR EXISTS (SELECT 1 FROM json_each(data, ?) WHERE typeof(key) <> 'text' AND type = 'null'))";
      }
      return compileLeaves(filter.path, [filter], params, context);
    default:
      return compileLeaves(filter.path, [filter], params, context);
  }
}

/** Whether every match must have one of a few given ids (so the primary key finds them). */
export function constrainsId(filter: Filter): boolean {
  switch (filter.op) {
    case 'eq':
      return isIdPath(filter.path) && typeof filter.value === 'string';
    case 'and':
      return filter.filters.some(constrainsId);
    case 'or':
      return filter.filters.length > 0 && filter.filters.every(constrainsId);
    default:
      return false;
  }
}

/**
 * ORDER BY terms: a type rank first (missing and null, then numbers, strings, objects,
 * arrays, booleans), then the value, then `id` so that paging is deterministic.
 */
export function compileSort(sort: readonly SortKey[], params: unknown[]): string {
  const terms: string[] = [];
  for (const key of sort) {
    const direction = key.direction === 1 ? 'ASC' : 'DESC';
    if (isIdPath(key.path)) {
      terms.push(`id ${direction}`);
      continue;
    }
    const jsonPath = sqliteJsonPath(key.path);
    params.push(jsonPath, jsonPath);
    terms.push(
      `CASE json_type(data, ?) WHEN 'integer' THEN 2 WHEN 'real' THEN 2 WHEN 'text' THEN 3 WHEN 'object' THEN 4 WHEN 'array' THEN 5 WHEN 'false' THEN 6 WHEN 'true' THEN 6 ELSE 1 END ${direction}`,
      `json_extract(data, ?) ${direction}`,
    );
  }
  if (!sort.some((key) => isIdPath(key.path))) terms.push('id ASC');
  return terms.join(', ');
}

/**
 * Compiles the query tree to SQLite SQL over JSONB documents. Field paths and values are
 * always bound parameters; the SQL text depends only on the tree's shape.
 *
 * One `json_each` probe covers both a scalar field and the elements of an array field
 * (a scalar yields one row with a NULL key, an array yields rows with integer keys,
 * an object's members have text keys and are excluded).
 */
import type { FieldPath, Filter, SortKey } from '@larder/protocol';

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

function isId(path: FieldPath): boolean {
  return path.length === 1 && path[0] === '_id';
}

const RANGE_SQL = { lt: '<', lte: '<=', gt: '>', gte: '>=' } as const;

/** Compiles a filter to a boolean SQL expression over the `data` and `id` columns. */
export function compileFilter(filter: Filter, params: unknown[]): string {
  switch (filter.op) {
    case 'all':
      return '1';
    case 'and':
      return `(${filter.filters.map((part) => compileFilter(part, params)).join(' AND ')})`;
    case 'or':
      return compileOr(filter.filters, params);
    case 'not':
      return `NOT ${compileFilter(filter.filter, params)}`;
    case 'exists':
      if (isId(filter.path)) return filter.value ? '1' : '0';
      params.push(sqliteJsonPath(filter.path));
      return `(json_type(data, ?) IS ${filter.value ? 'NOT ' : ''}NULL)`;
    case 'eq': {
      const { path, value } = filter;
      if (isId(path)) {
        if (typeof value !== 'string') return '0';
        params.push(value);
        return '(id = ?)';
      }
      const jsonPath = sqliteJsonPath(path);
      if (value === null) {
        params.push(jsonPath, jsonPath);
        return "(json_type(data, ?) IS NULL OR EXISTS (SELECT 1 FROM json_each(data, ?) WHERE typeof(key) <> 'text' AND type = 'null'))";
      }
      if (typeof value === 'boolean') {
        params.push(jsonPath);
        return `EXISTS (SELECT 1 FROM json_each(data, ?) WHERE typeof(key) <> 'text' AND type = '${value ? 'true' : 'false'}')`;
      }
      params.push(jsonPath, value);
      return `EXISTS (SELECT 1 FROM json_each(data, ?) WHERE typeof(key) <> 'text' AND ${TYPE_CHECK[typeof value === 'string' ? 'string' : 'number']} AND value = ?)`;
    }
    default: {
      const { path, value, op } = filter;
      if (isId(path)) {
        if (typeof value !== 'string') return '0';
        params.push(value);
        return `(id ${RANGE_SQL[op]} ?)`;
      }
      params.push(sqliteJsonPath(path), value);
      return `EXISTS (SELECT 1 FROM json_each(data, ?) WHERE typeof(key) <> 'text' AND ${TYPE_CHECK[typeof value === 'string' ? 'string' : 'number']} AND value ${RANGE_SQL[op]} ?)`;
    }
  }
}

type EqFilter = Extract<Filter, { op: 'eq' }>;

/**
 * OR of equalities on one field (`$in`, `$nin`, query-string readings) becomes one set
 * membership probe whose lists are bound as JSON arrays, so a 10,000-value `$in` costs
 * three parameters and one hash lookup per element, not 10,000 subqueries.
 */
function compileOr(filters: readonly Filter[], params: unknown[]): string {
  const groups = new Map<string, EqFilter[]>();
  const rest: Filter[] = [];
  for (const filter of filters) {
    if (filter.op === 'eq' && (typeof filter.value === 'string' || typeof filter.value === 'number')) {
      const key = JSON.stringify(filter.path);
      const group = groups.get(key);
      if (group) group.push(filter);
      else groups.set(key, [filter]);
    } else rest.push(filter);
  }
  const parts: string[] = [];
  for (const group of groups.values()) {
    const first = group[0] as EqFilter;
    if (group.length === 1) {
      parts.push(compileFilter(first, params));
      continue;
    }
    const strings = group.filter((f) => typeof f.value === 'string').map((f) => f.value);
    const numbers = group.filter((f) => typeof f.value === 'number').map((f) => f.value);
    if (isId(first.path)) {
      params.push(JSON.stringify(strings));
      parts.push('(id IN (SELECT value FROM json_each(?)))');
      continue;
    }
    const tests: string[] = [];
    if (strings.length > 0) tests.push("(type = 'text' AND value IN (SELECT value FROM json_each(?)))");
    if (numbers.length > 0) tests.push("(type IN ('integer', 'real') AND value IN (SELECT value FROM json_each(?)))");
    params.push(sqliteJsonPath(first.path));
    if (strings.length > 0) params.push(JSON.stringify(strings));
    if (numbers.length > 0) params.push(JSON.stringify(numbers));
    parts.push(`EXISTS (SELECT 1 FROM json_each(data, ?) WHERE typeof(key) <> 'text' AND (${tests.join(' OR ')}))`);
  }
  for (const filter of rest) parts.push(compileFilter(filter, params));
  return parts.length === 0 ? '0' : `(${parts.join(' OR ')})`;
}

/**
 * ORDER BY terms: a type rank first (missing and null, then numbers, strings, objects,
 * arrays, booleans), then the value, then `id` so that paging is deterministic.
 */
export function compileSort(sort: readonly SortKey[], params: unknown[]): string {
  const terms: string[] = [];
  for (const key of sort) {
    const direction = key.direction === 1 ? 'ASC' : 'DESC';
    if (isId(key.path)) {
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
  if (!sort.some((key) => isId(key.path))) terms.push('id ASC');
  return terms.join(', ');
}

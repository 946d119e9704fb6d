/**
 * Turns a Feathers query object (from a bracket query string or a socket message) into a
 * validated {@link ParsedQuery}. Everything unknown or malformed is a BadRequest that
 * names the problem; nothing is silently ignored.
 *
 * @example
 * parseQuery({ score: { $gt: '0.5' }, $sort: { score: -1 }, $limit: '10' }, { loose: true });
 */
import { LarderError } from '../errors.js';
import {
  and,
  eq,
  type FieldPath,
  type Filter,
  like,
  MATCH_ALL,
  not,
  or,
  type ParsedQuery,
  type RangeOperator,
  type Scalar,
  type SortKey,
} from './ast.js';
import { parseFieldPath } from './field-path.js';

export interface ParseQueryOptions {
  /**
   * Values arrived as strings (an HTTP query string): `"5"` also matches the number 5,
   * `"true"`/`"True"` the boolean, `"null"` null.
   */
  loose?: boolean;
  /** Fields whose values compare as instants (normalised to ISO 8601 strings). */
  dateFields?: readonly string[];
}

const DEFAULT_DATE_FIELDS = ['createdAt', 'updatedAt'];
const MAX_DEPTH = 24;
/** Bounds the work one query can ask for; a 10,000-value `$in` of query-string numbers fits. */
const MAX_CONDITIONS = 50_000;

const RANGE: Record<string, RangeOperator> = { $lt: 'lt', $lte: 'lte', $gt: 'gt', $gte: 'gte' };
const FIELD_OPERATORS = new Set([
  '$in',
  '$nin',
  '$lt',
  '$lte',
  '$gt',
  '$gte',
  '$ne',
  '$eq',
  '$exists',
  '$not',
  '$like',
  '$ilike',
]);
const QUERY_KEYS = new Set(['$limit', '$skip', '$sort', '$select', '$distinct', '$or', '$and', '$not']);
const NUMBER_TEXT = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;

function bad(message: string): LarderError {
  return new LarderError('BadRequest', message);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** qs turns long or sparse arrays into `{ "0": a, "1": b }`; accept both shapes. */
function asList(value: unknown, what: string): unknown[] {
  if (Array.isArray(value)) return value;
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    if (keys.every((key) => /^[0-9]+$/.test(key))) {
      return keys.sort((a, b) => Number(a) - Number(b)).map((key) => value[key]);
    }
    throw bad(`${what} must be an array`);
  }
  return [value];
}

class QueryParser {
  private conditions = 0;
  private readonly loose: boolean;
  private readonly dateFields: ReadonlySet<string>;

  constructor(options: ParseQueryOptions) {
    this.loose = options.loose ?? false;
    this.dateFields = new Set(options.dateFields ?? DEFAULT_DATE_FIELDS);
  }

  parse(raw: unknown): ParsedQuery {
    if (raw === undefined || raw === null) raw = {};
    if (!isPlainObject(raw)) throw bad('The query must be an object');
    const fieldPart: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw)) {
      if (key.startsWith('$') && !QUERY_KEYS.has(key)) throw bad(`Unknown query operator ${key}`);
      if (!key.startsWith('$') || key === '$or' || key === '$and' || key === '$not') fieldPart[key] = value;
    }
    return {
      filter: this.filter(fieldPart, 0),
      sort: raw.$sort === undefined ? [] : this.sort(raw.$sort),
      limit: raw.$limit === undefined ? undefined : this.integer(raw.$limit, '$limit'),
      skip: raw.$skip === undefined ? 0 : this.integer(raw.$skip, '$skip'),
      select: raw.$select === undefined ? undefined : this.select(raw.$select),
      distinct: raw.$distinct === undefined ? undefined : this.fieldName(raw.$distinct, '$distinct'),
    };
  }

  /** A query object without `$limit`-style keys: fields and `$or`/`$and`/`$not`. */
  filter(raw: unknown, depth: number): Filter {
    if (depth > MAX_DEPTH) throw bad(`The query is nested deeper than ${MAX_DEPTH} levels`);
    if (!isPlainObject(raw)) throw bad('A query condition must be an object');
    const parts: Filter[] = [];
    for (const [key, value] of Object.entries(raw)) {
      if (key === '$or' || key === '$and') {
        const branches = asList(value, key).map((branch) => this.filter(branch, depth + 1));
        if (branches.length === 0) throw bad(`${key} needs at least one condition`);
        parts.push(key === '$or' ? or(...branches) : and(...branches));
      } else if (key === '$not') {
        parts.push(not(this.filter(value, depth + 1)));
      } else if (key.startsWith('$')) {
        throw bad(`Unknown query operator ${key}`);
      } else {
        parts.push(this.field(parseFieldPath(key), key, value, depth + 1));
      }
    }
    return and(...parts);
  }

  private field(path: FieldPath, name: string, value: unknown, depth: number): Filter {
    if (depth > MAX_DEPTH) throw bad(`The query is nested deeper than ${MAX_DEPTH} levels`);
    if (Array.isArray(value)) {
      throw bad(`Invalid value for field "${name}": to match one of several values use $in`);
    }
    if (!isPlainObject(value)) return this.equals(path, name, value);
    const keys = Object.keys(value);
    if (keys.length === 0) throw bad(`Invalid value for field "${name}": an empty object`);
    const operatorKeys = keys.filter((key) => key.startsWith('$'));
    if (operatorKeys.length === 0) {
      // `hparams[lr]=0.1` in a query string means the nested field `hparams.lr`.
      return and(
        ...keys.map((key) => this.field([...path, ...parseFieldPath(key)], `${name}.${key}`, value[key], depth + 1)),
      );
    }
    if (operatorKeys.length !== keys.length) {
      throw bad(`Field "${name}" mixes operators with field names`);
    }
    return and(...keys.map((operator) => this.operator(path, name, operator, value[operator], depth)));
  }

  private operator(path: FieldPath, name: string, operator: string, value: unknown, depth: number): Filter {
    if (!FIELD_OPERATORS.has(operator)) throw bad(`Unknown query operator ${operator} on field "${name}"`);
    switch (operator) {
      case '$eq':
        return this.equals(path, name, value);
      case '$ne':
        return not(this.equals(path, name, value));
      case '$in':
      case '$nin': {
        const values = asList(value, `${operator} on field "${name}"`);
        const any = values.length === 0 ? not(MATCH_ALL) : or(...values.map((v) => this.equals(path, name, v)));
        return operator === '$in' ? any : not(any);
      }
      case '$exists':
        return { op: 'exists', path, value: this.boolean(value, `$exists on field "${name}"`) };
      case '$like':
      case '$ilike':
        if (typeof value !== 'string') throw bad(`${operator} on field "${name}" needs a pattern string`);
        this.count();
        return like(path, value, { caseInsensitive: operator === '$ilike' });
      case '$not':
        if (isPlainObject(value)) return not(this.field(path, name, value, depth + 1));
        return not(this.equals(path, name, value));
      default:
        return this.range(path, name, RANGE[operator] as RangeOperator, value);
    }
  }

  private count(): void {
    this.conditions += 1;
    if (this.conditions > MAX_CONDITIONS) throw bad(`The query has more than ${MAX_CONDITIONS} conditions`);
  }

  private scalar(name: string, value: unknown): Scalar {
    if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw bad(`Invalid value for field "${name}": numbers must be finite`);
      return value;
    }
    if (value instanceof Date) return value.toISOString();
    throw bad(`Invalid value for field "${name}": expected a string, number, boolean or null`);
  }

  /** The values a query value stands for: itself, plus what a query-string value may mean. */
  private candidates(name: string, raw: unknown): Scalar[] {
    const value = this.scalar(name, raw);
    if (this.dateFields.has(name)) {
      const instant = toInstant(value);
      if (instant !== undefined) return [instant];
    }
    if (!this.loose || typeof value !== 'string') return [value];
    if (value === 'true' || value === 'True') return [value, true];
    if (value === 'false' || value === 'False') return [value, false];
    if (value === 'null') return [value, null];
    if (NUMBER_TEXT.test(value) && Number.isFinite(Number(value))) return [value, Number(value)];
    return [value];
  }

  private equals(path: FieldPath, name: string, raw: unknown): Filter {
    const filters = this.candidates(name, raw).map((value) => {
      this.count();
      return eq(path, value);
    });
    return or(...filters);
  }

  private range(path: FieldPath, name: string, op: RangeOperator, raw: unknown): Filter {
    const filters: Filter[] = [];
    for (const value of this.candidates(name, raw)) {
      if (typeof value === 'string' || typeof value === 'number') {
        this.count();
        filters.push({ op, path, value });
      }
    }
    if (filters.length === 0) throw bad(`$${op} on field "${name}" needs a number or a string`);
    return or(...filters);
  }

  private integer(raw: unknown, what: string): number {
    const value = typeof raw === 'string' && /^[0-9]+$/.test(raw) ? Number(raw) : raw;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw bad(`${what} must be a non-negative integer`);
    }
    return value;
  }

  private boolean(raw: unknown, what: string): boolean {
    if (typeof raw === 'boolean') return raw;
    if (raw === 'true' || raw === 'True' || raw === 1 || raw === '1') return true;
    if (raw === 'false' || raw === 'False' || raw === 0 || raw === '0') return false;
    throw bad(`${what} must be true or false`);
  }

  private fieldName(raw: unknown, what: string): FieldPath {
    if (typeof raw !== 'string') throw bad(`${what} must be a field name`);
    return parseFieldPath(raw);
  }

  private sort(raw: unknown): SortKey[] {
    if (!isPlainObject(raw)) throw bad('$sort must be an object of field: 1 or -1');
    return Object.entries(raw).map(([field, direction]) => {
      const path = parseFieldPath(field);
      if (direction === 1 || direction === '1' || direction === 'asc' || direction === 'ascending') {
        return { path, direction: 1 as const };
      }
      if (direction === -1 || direction === '-1' || direction === 'desc' || direction === 'descending') {
        return { path, direction: -1 as const };
      }
      throw bad(`$sort direction for "${field}" must be 1 or -1`);
    });
  }

  private select(raw: unknown): FieldPath[] {
    return asList(raw, '$select').map((field) => this.fieldName(field, '$select'));
  }
}

function toInstant(value: Scalar): string | undefined {
  if (typeof value === 'number') {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
  }
  if (typeof value === 'string' && /^[0-9]{4}-[0-9]{2}-[0-9]{2}/.test(value)) {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
  }
  if (typeof value === 'string' && NUMBER_TEXT.test(value)) return toInstant(Number(value));
  return undefined;
}

/** Parses and validates a whole query (filter, `$sort`, `$limit`, `$skip`, `$select`, `$distinct`). */
export function parseQuery(raw: unknown, options: ParseQueryOptions = {}): ParsedQuery {
  return new QueryParser(options).parse(raw);
}

/** Parses only a filter (no `$limit`-style keys), e.g. a permission rule. */
export function parseFilter(raw: unknown, options: ParseQueryOptions = {}): Filter {
  return new QueryParser(options).filter(raw, 0);
}

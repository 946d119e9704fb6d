/**
 * The query language as a small tree of immutable nodes. Every Feathers operator reduces to
 * six node kinds, so each compiler (SQLite, PostgreSQL, in memory) handles only these:
 * `$ne` is `not(eq)`, `$in` is `or(eq…)`, `$nin` is `not(or(eq…))`.
 *
 * Semantics (MongoDB-like, type-bracketed):
 * - `eq` matches when the field equals the value, or the field is an array holding it;
 *   `eq null` also matches a missing field.
 * - range nodes compare numbers with numbers and strings with strings, never across
 *   types; on an array field they match when any element does.
 * - `exists` tests presence (a `null` value is present).
 * - `like` matches string values against an SQL LIKE pattern (see {@link like}); never
 *   numbers or other types; on an array field any element may match.
 */

/** A path into a document: object keys, and numbers for array indexes. */
export type FieldPath = readonly (string | number)[];

export type Scalar = string | number | boolean | null;

export type RangeOperator = 'lt' | 'lte' | 'gt' | 'gte';

export type Filter =
  | { readonly op: 'all' }
  | { readonly op: 'and' | 'or'; readonly filters: readonly Filter[] }
  | { readonly op: 'not'; readonly filter: Filter }
  | { readonly op: 'eq'; readonly path: FieldPath; readonly value: Scalar }
  | { readonly op: RangeOperator; readonly path: FieldPath; readonly value: string | number }
  | { readonly op: 'exists'; readonly path: FieldPath; readonly value: boolean }
  | {
      readonly op: 'like';
      readonly path: FieldPath;
      readonly pattern: string;
      /** Folds ASCII letters only (A-Z with a-z), identically in every back end. */
      readonly caseInsensitive: boolean;
    };

export interface SortKey {
  readonly path: FieldPath;
  readonly direction: 1 | -1;
}

/** A query after parsing and validation: what a store executes. */
export interface ParsedQuery {
  readonly filter: Filter;
  readonly sort: readonly SortKey[];
  /** `undefined` means "no limit given"; services apply their pagination defaults. */
  readonly limit: number | undefined;
  readonly skip: number;
  readonly select: readonly FieldPath[] | undefined;
  readonly distinct: FieldPath | undefined;
}

export const MATCH_ALL: Filter = { op: 'all' };

/** Joins filters with AND, dropping `all` nodes and flattening nested ANDs. */
export function and(...filters: Filter[]): Filter {
  const parts: Filter[] = [];
  for (const filter of filters) {
    if (filter.op === 'all') continue;
    if (filter.op === 'and') parts.push(...filter.filters);
    else parts.push(filter);
  }
  if (parts.length === 0) return MATCH_ALL;
  if (parts.length === 1) return parts[0] as Filter;
  return { op: 'and', filters: parts };
}

export function or(...filters: Filter[]): Filter {
  if (filters.length === 1) return filters[0] as Filter;
  return { op: 'or', filters };
}

export function not(filter: Filter): Filter {
  return { op: 'not', filter };
}

export function eq(path: FieldPath, value: Scalar): Filter {
  return { op: 'eq', path, value };
}

/**
 * An SQL LIKE pattern test: `%` stands for any run of characters (none included), `_` for
 * exactly one character, and every other character for itself (there is no escape
 * character: `%` and `_` cannot be matched literally except by `_`).
 *
 * @example
 * like(['name'], 'resnet-%', { caseInsensitive: true }); // "ResNet-50" matches
 */
export function like(path: FieldPath, pattern: string, options: { caseInsensitive?: boolean } = {}): Filter {
  return { op: 'like', path, pattern, caseInsensitive: options.caseInsensitive ?? false };
}

/** ASCII-only lower case: what `caseInsensitive` patterns compare in every back end. */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/** The dotted form of a path, as users write it. */
export function pathToString(path: FieldPath): string {
  return path.join('.');
}

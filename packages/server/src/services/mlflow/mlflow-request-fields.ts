/**
 * Reading fields of an MLflow request message with MLflow's leniencies: a GET carries every
 * value as a string (and repeated keys as lists), a JSON body may carry int64 fields as
 * strings (protobuf's JSON form) and doubles as "NaN"/"Infinity". Anything else malformed is
 * INVALID_PARAMETER_VALUE naming the field, never a crash.
 */
import type { MlflowRequest } from './mlflow-endpoints.js';
import { MlflowError } from './mlflow-errors.js';

function invalid(message: string): MlflowError {
  return new MlflowError('INVALID_PARAMETER_VALUE', message);
}

/** MLflow's wording for a value of the wrong kind, which clients and tests match on. */
export function invalidValue(value: unknown, field: string, hint: string): MlflowError {
  return invalid(`Invalid value ${JSON.stringify(value)?.slice(0, 60)} for parameter '${field}' supplied: ${hint}`);
}

export function missing(field: string): MlflowError {
  return invalid(`Missing value for required parameter '${field}'.`);
}

/** A string field; `undefined` when absent (an empty string counts as absent only if `emptyIsAbsent`). */
export function optionalString(request: MlflowRequest, field: string, emptyIsAbsent = false): string | undefined {
  const value = request[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw invalidValue(value, field, 'expected a string');
  }
  return emptyIsAbsent && value === '' ? undefined : value;
}

export function requiredString(request: MlflowRequest, field: string): string {
  const value = optionalString(request, field);
  if (value === undefined || value === '') throw missing(field);
  return value;
}

/** MLflow's runs are named `run_id`, or `run_uuid` by older clients. */
export function runIdOf(request: MlflowRequest): string {
  const id = optionalString(request, 'run_id', true) ?? optionalString(request, 'run_uuid', true);
  if (id === undefined) throw missing('run_id');
  return id;
}

/** An int64 field (a number or its decimal text). */
export function optionalInteger(request: MlflowRequest, field: string): number | undefined {
  const value = request[field];
  if (value === undefined || value === null || value === '') return undefined;
  const number = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number)) {
    throw invalidValue(value, field, 'expected a whole number');
  }
  return number;
}

/** A double field: a number, numeric text, or "NaN", "Infinity", "-Infinity". */
export function optionalDouble(request: MlflowRequest, field: string): number | undefined {
  return doubleOf(request[field], field);
}

export function doubleOf(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const text = value.trim();
    if (text === 'NaN' || text === 'nan') return Number.NaN;
    if (text === 'Infinity' || text === 'inf') return Number.POSITIVE_INFINITY;
    if (text === '-Infinity' || text === '-inf') return Number.NEGATIVE_INFINITY;
    if (text !== '' && Number.isFinite(Number(text))) return Number(text);
  }
  throw invalidValue(value, field, 'expected a number');
}

/** A repeated field of a JSON body: a list. */
export function listOf(request: MlflowRequest, field: string): unknown[] {
  const value = request[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidValue(value, field, 'expected a list');
  return value;
}

/** A repeated string field; a GET's query string gives one value for a key given once. */
export function stringList(request: MlflowRequest, field: string): string[] {
  const value = request[field];
  const values = typeof value === 'string' ? [value] : listOf(request, field);
  return values.map((value, index) => {
    if (typeof value !== 'string') throw invalid(`'${field}[${index}]' must be a string`);
    return value;
  });
}

export interface KeyValue {
  key: string;
  value: string;
}

/** `[{ key, value }]` entries (tags); a missing value is the empty string. */
export function keyValues(value: unknown, field: string): KeyValue[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidValue(value, field, 'expected a list of { key, value }');
  return value.map((entry, index) => {
    const { key, value: text } = (entry ?? {}) as { key?: unknown; value?: unknown };
    if (typeof key !== 'string' || key === '') throw missing(`${field}[${index}].key`);
    if (text !== undefined && text !== null && typeof text !== 'string') {
      throw invalidValue(text, `${field}[${index}].value`, 'expected a string');
    }
    return { key, value: typeof text === 'string' ? text : '' };
  });
}

/** An enum field given by name (`"ACTIVE_ONLY"`) or by number, as protobuf's JSON allows. */
export function optionalEnum<T extends string>(
  request: MlflowRequest,
  field: string,
  names: readonly T[],
  numbers: Readonly<Record<number, T>> = {},
): T | undefined {
  const value = request[field];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string' && (names as readonly string[]).includes(value)) return value as T;
  const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  const named = numbers[number];
  if (named) return named;
  throw invalidValue(value, field, `one of ${names.join(', ')}`);
}

/**
 * Reading the fields of an MLflow request message the way MLflow's server checks them:
 * a missing required field is `INVALID_PARAMETER_VALUE` "Missing value for required
 * parameter '<name>'", a field of the wrong type is refused with its name. Page tokens
 * are opaque to clients: base64 of the offset to resume at.
 */
import type { MlflowRequest } from '../mlflow-endpoints.js';
import { MlflowError } from '../mlflow-errors.js';

export function requiredString(request: MlflowRequest, field: string): string {
  const value = request[field];
  if (value === undefined || value === null || value === '') {
    throw new MlflowError('INVALID_PARAMETER_VALUE', `Missing value for required parameter '${field}'.`);
  }
  if (typeof value !== 'string') throw wrongType(field, 'a string');
  return value;
}

export function optionalString(request: MlflowRequest, field: string): string | undefined {
  const value = request[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw wrongType(field, 'a string');
  return value;
}

export function optionalBoolean(request: MlflowRequest, field: string): boolean {
  const value = request[field];
  if (value === undefined || value === null) return false;
  if (value === true || value === 'true' || value === 'True') return true;
  if (value === false || value === 'false' || value === 'False') return false;
  throw wrongType(field, 'a boolean');
}

/** A repeated string field: a JSON list, or repeated query keys (one value arrives as a string). */
export function stringList(request: MlflowRequest, field: string): string[] {
  const value = request[field];
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  if (list.some((each) => typeof each !== 'string')) throw wrongType(field, 'a list of strings');
  return list as string[];
}

/** A list of `{key, value}` messages (tags, params). */
export function keyValues(request: MlflowRequest, field: string): { key: string; value: string }[] {
  const value = request[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw wrongType(field, 'a list of {key, value}');
  return value.map((each, index) => {
    const entry = (each !== null && typeof each === 'object' ? each : {}) as Record<string, unknown>;
    if (typeof entry.key !== 'string' || entry.key === '') {
      throw new MlflowError('INVALID_PARAMETER_VALUE', `${field}[${index}].key must be a non-empty string`);
    }
    return { key: entry.key, value: entry.value === undefined || entry.value === null ? '' : String(entry.value) };
  });
}

/** `max_results`, with MLflow's default and ceiling. */
export function maxResults(request: MlflowRequest, fallback: number, ceiling: number): number {
  const value = request.max_results;
  if (value === undefined || value === null || value === '') return fallback;
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 1) {
    throw new MlflowError(
      'INVALID_PARAMETER_VALUE',
      `Invalid value ${String(value).slice(0, 40)} for parameter 'max_results'`,
    );
  }
  if (number > ceiling) {
    throw new MlflowError(
      'INVALID_PARAMETER_VALUE',
      `Invalid value for max_results. It must be at most ${ceiling}, but got value ${number}`,
    );
  }
  return number;
}

export function pageOffset(request: MlflowRequest): number {
  const token = request.page_token;
  if (token === undefined || token === null || token === '') return 0;
  if (typeof token === 'string') {
    try {
      const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset?: unknown };
      if (Number.isSafeInteger(parsed.offset) && (parsed.offset as number) >= 0) return parsed.offset as number;
    } catch {
      // falls through to the error
    }
  }
  throw new MlflowError('INVALID_PARAMETER_VALUE', 'Invalid page token, could not base64-decode');
}

/** The token of the page after `offset + count`, or undefined when there is none. */
export function nextPageToken(offset: number, count: number, total: number): string | undefined {
  const next = offset + count;
  return next < total ? Buffer.from(JSON.stringify({ offset: next })).toString('base64') : undefined;
}

function wrongType(field: string, what: string): MlflowError {
  return new MlflowError('INVALID_PARAMETER_VALUE', `Invalid value for parameter '${field}': it must be ${what}`);
}

/**
 * Reads fields out of a parsed YAML value and records an offence for each one that has the
 * wrong shape, so a whole document is checked in one pass. Values come from `readYaml`:
 * mappings are `Map`s and integers are `bigint`s. A missing key arrives as `undefined`: it
 * was already reported by `mapping`, so the other checks skip it silently.
 */
import { isMd5 } from '../files/md5.js';
import type { Offence } from '../validation/offence.js';
import { unsafePathReason } from '../validation/relative-path.js';

export class FieldChecker {
  readonly offences: Offence[] = [];

  constructor(private readonly file: string) {}

  /** Records an offence; pass the offending value (even `undefined`) to describe it in verbose reports. */
  report(field: string, message: string, ...value: [unknown?]): void {
    const found = value.length > 0 ? describeValue(value[0]) : undefined;
    this.offences.push({ kind: 'metadata', file: this.file, field, message, ...(found ? { found } : {}) });
  }

  /** A mapping with exactly `keys`; reports missing and unexpected keys. */
  mapping(value: unknown, field: string, keys: readonly string[]): Map<unknown, unknown> | null {
    if (value === undefined) return null;
    if (!(value instanceof Map)) {
      this.report(field || '(document)', 'must be a mapping', value);
      return null;
    }
    const missing = keys.filter((key) => !value.has(key));
    const extra = [...value.keys()].filter((key) => typeof key !== 'string' || !keys.includes(key));
    const prefix = field ? `${field}.` : '';
    for (const key of missing) this.report(`${prefix}${key}`, 'is missing');
    for (const key of extra) this.report(`${prefix}${String(key)}`, 'is not a field of this section');
    return value;
  }

  string(value: unknown, field: string): string | null {
    if (value === undefined) return null;
    if (typeof value === 'string') return value;
    this.report(field, 'must be a string', value);
    return null;
  }

  /** A string or null; `undefined` means the value was invalid. */
  optionalString(value: unknown, field: string): string | null | undefined {
    if (value === undefined) return undefined;
    if (value === null || typeof value === 'string') return value;
    this.report(field, 'must be a string or null', value);
    return undefined;
  }

  integer(value: unknown, field: string, orNull: boolean): number | null | undefined {
    if (value === undefined) return undefined;
    if (value === null && orNull) return null;
    if (typeof value === 'bigint') {
      if (value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)) return Number(value);
      this.report(field, 'is too large', value);
      return undefined;
    }
    this.report(field, orNull ? 'must be an integer or null' : 'must be an integer', value);
    return undefined;
  }

  timestamp(value: unknown, field: string): number | null | undefined {
    if (value === undefined) return undefined;
    if (value === null) return null;
    if (typeof value === 'bigint') return Number(value);
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    this.report(field, 'must be a number (seconds since the epoch) or null', value);
    return undefined;
  }

  /** A string or integer reference (checkpoint names). */
  reference(value: unknown, field: string): string | number | undefined {
    if (value === undefined) return undefined;
    if (typeof value === 'string') return value;
    if (typeof value === 'bigint') return this.integer(value, field, false) ?? undefined;
    this.report(field, 'must be a string or an integer', value);
    return undefined;
  }

  md5(value: unknown, field: string): string | null {
    if (value === undefined) return null;
    if (isMd5(value)) return value;
    this.report(field, 'must be an MD5 hex digest (32 characters 0-9a-f)', value);
    return null;
  }

  /** A relative path that stays inside the model root. */
  path(value: unknown, field: string): string | null {
    if (value === undefined) return null;
    if (typeof value !== 'string') {
      this.report(field, 'must be a path string', value);
      return null;
    }
    const reason = unsafePathReason(value);
    if (reason) {
      this.report(field, reason, value);
      return null;
    }
    return value;
  }
}

/** A short description of a YAML value for offence reports. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'bigint') return `the integer ${value}`;
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'boolean') return `the boolean ${value}`;
  if (value instanceof Map) return 'a mapping';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a timestamp';
  return 'a value of another type';
}

/**
 * The fields Larder reads on records that live in folders (runs, artifacts; everything else
 * a client writes is kept as written, so Marcelle's runs read back unchanged): validation of
 * names and labels, the conflict strategies, alternative names, and the server-kept fields
 * clients cannot set.
 */
import { randomBytes } from 'node:crypto';
import { LarderError } from '@larder/protocol';

export const CONFLICT_STRATEGIES = ['skip', 'error', 'new', 'replace'] as const;
export type ConflictStrategy = (typeof CONFLICT_STRATEGIES)[number];

/** Kept by the server: placement, inherited access, metric summaries. */
export const SERVER_KEPT = ['ancestors', 'access', 'metrics'] as const;

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const BAD_NAME = /[\u0000-\u001f\u007f/\\]/;

export function assertName(value: unknown, what = 'A run'): asserts value is string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 256 || BAD_NAME.test(value)) {
    throw new LarderError(
      'BadRequest',
      `${what} needs a "name": 1-256 characters, without slashes, backslashes or control characters`,
    );
  }
}

export function conflictStrategyOf(value: unknown): ConflictStrategy {
  if (value === undefined) return 'new';
  if (typeof value === 'string' && (CONFLICT_STRATEGIES as readonly string[]).includes(value)) {
    return value as ConflictStrategy;
  }
  throw new LarderError('BadRequest', `conflictStrategy must be one of ${CONFLICT_STRATEGIES.join(', ')}`);
}

/** `<name>_<YYMMDD>_<HHMMSS>_<6 random [a-z0-9]>`, in UTC. */
export function alternativeName(name: string, at = new Date()): string {
  const two = (value: number) => String(value).padStart(2, '0');
  const date = `${two(at.getUTCFullYear() % 100)}${two(at.getUTCMonth() + 1)}${two(at.getUTCDate())}`;
  const time = `${two(at.getUTCHours())}${two(at.getUTCMinutes())}${two(at.getUTCSeconds())}`;
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const suffix = Array.from(randomBytes(6), (byte) => alphabet[byte % alphabet.length]).join('');
  return `${name}_${date}_${time}_${suffix}`;
}

export function assertLabels(value: unknown): void {
  if (value === undefined) return;
  if (
    !Array.isArray(value) ||
    value.length > 256 ||
    !value.every((label) => typeof label === 'string' && label.length <= 256)
  ) {
    throw new LarderError('BadRequest', '"labels" must be a list of strings');
  }
}

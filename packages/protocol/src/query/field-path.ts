/**
 * Parsing of dotted field names (`hparams.optimizer.lr`, `files.0.name`) into paths.
 * Segments that are all digits are array indexes. Names are data, never SQL: every
 * compiler binds paths as parameters, and this check only keeps them unambiguous.
 */
import { LarderError } from '../errors.js';
import type { FieldPath } from './ast.js';

const MAX_FIELD_LENGTH = 256;
const MAX_DEPTH = 16;
const INDEX = /^(0|[1-9][0-9]{0,8})$/;

function invalid(field: string, reason: string): LarderError {
  return new LarderError('BadRequest', `Invalid field name "${field.slice(0, 80)}": ${reason}`);
}

/** Parses a dotted field name; throws BadRequest naming the problem. */
export function parseFieldPath(field: string): FieldPath {
  if (field.length === 0) throw invalid(field, 'it is empty');
  if (field.length > MAX_FIELD_LENGTH) throw invalid(field, `longer than ${MAX_FIELD_LENGTH} characters`);
  if (field.startsWith('$')) throw invalid(field, 'a field name cannot start with "$"');
  const segments = field.split('.');
  if (segments.length > MAX_DEPTH) throw invalid(field, `deeper than ${MAX_DEPTH} levels`);
  return segments.map((segment) => {
    if (segment.length === 0) throw invalid(field, 'it has an empty segment');
    if (segment === '__proto__') throw invalid(field, '"__proto__" is not allowed');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
    if (/["\\\u0000-\u001f]/.test(segment)) {
      throw invalid(field, 'quotes, backslashes and control characters are not allowed');
    }
    return INDEX.test(segment) ? Number(segment) : segment;
  });
}

/** Reads the value at `path` in `doc`; `undefined` when any step is missing. */
export function readPath(doc: unknown, path: FieldPath): unknown {
  let current: unknown = doc;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    if (typeof segment === 'number') {
      if (!Array.isArray(current)) return undefined;
      current = current[segment];
    } else {
      if (Array.isArray(current)) return undefined;
      current = Object.hasOwn(current, segment) ? (current as Record<string, unknown>)[segment] : undefined;
    }
  }
  return current;
}

/**
 * Sets `value` at `path` in `target`, making objects on the way (an existing non-object on
 * the way is replaced): how a projection (`$select`) rebuilds the fields it keeps.
 */
export function writePath(target: Record<string, unknown>, path: FieldPath, value: unknown): void {
  let at = target;
  for (let i = 0; i < path.length - 1; i++) {
    const key = String(path[i]);
    const next = at[key];
    if (next === null || typeof next !== 'object') at[key] = {};
    at = at[key] as Record<string, unknown>;
  }
  at[String(path[path.length - 1])] = value;
}

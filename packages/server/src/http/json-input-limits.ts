/**
 * The one limit on the shape of JSON input, checked at the edge of every transport (REST
 * bodies and query strings, socket.io packets, the JSON bodies of streaming routes), so that
 * every metadata store sees, and refuses, exactly the same inputs with the same 400:
 * - nesting at most {@link MAX_JSON_DEPTH} levels (SQLite's JSON functions stop near 1,000,
 *   PostgreSQL has no such limit);
 * - no NUL character and no unpaired UTF-16 surrogate in any string or key (PostgreSQL
 *   refuses the first, the second cannot round-trip through UTF-8);
 * - numbers finite (`1e400` parses as Infinity, which no store keeps).
 * The walk is iterative, so a body nested a million deep costs no stack.
 *
 * @example
 * assertJsonInput(JSON.parse(text), 'The body'); // throws LarderError BadRequest when past the limits
 */
import { LarderError } from '@larder/protocol';

export const MAX_JSON_DEPTH = 100;

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what is refused.
const UNSTORABLE_TEXT = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function textProblem(text: string, where: string): string | undefined {
  if (!UNSTORABLE_TEXT.test(text)) return undefined;
  return `${where} a NUL character or an unpaired surrogate, which cannot be stored; remove it`;
}

/** Why `value` cannot be taken as input (a predicate: "is nested deeper…"), or undefined when it can. */
export function jsonInputProblem(value: unknown): string | undefined {
  const pending: [unknown, number][] = [[value, 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, depth] = next;
    if (typeof item === 'string') {
      const problem = textProblem(item, 'holds a string with');
      if (problem) return problem;
    } else if (typeof item === 'number') {
      if (!Number.isFinite(item)) return 'holds a number out of range (numbers must be finite)';
    } else if (
      item !== null &&
      typeof item === 'object' &&
      !ArrayBuffer.isView(item) &&
      !(item instanceof ArrayBuffer)
    ) {
      if (depth >= MAX_JSON_DEPTH) return `is nested deeper than ${MAX_JSON_DEPTH} levels; flatten it`;
      if (Array.isArray(item)) {
        for (const element of item) pending.push([element, depth + 1]);
      } else {
        for (const [key, element] of Object.entries(item)) {
          const problem = textProblem(key, `has a key ("${key.slice(0, 40).replace(/[^\x20-\x7e]/g, '?')}") with`);
          if (problem) return problem;
          pending.push([element, depth + 1]);
        }
      }
    }
  }
  return undefined;
}

/** Throws a 400 naming `what` ("The body", "The query") when `value` is past the input limits. */
export function assertJsonInput(value: unknown, what: string): void {
  const problem = jsonInputProblem(value);
  if (problem) throw new LarderError('BadRequest', `${what} ${problem}`);
}

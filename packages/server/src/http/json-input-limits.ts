/**
 * The one limit on the shape of JSON input, checked at the edge of every transport (REST
 * bodies and query strings, socket.io packets, the JSON bodies of streaming routes), so that
 * every metadata store sees, and refuses, exactly the same inputs with the same 400:
 * - nesting at most {@link MAX_JSON_DEPTH} levels (SQLite's JSON functions stop near 1,000,
 *   PostgreSQL has no such limit);
 * - no NUL character and no unpaired UTF-16 surrogate in any string or key (PostgreSQL
 *   refuses the first, the second cannot round-trip through UTF-8);
 * - numbers finite (`1e400` parses as Infinity, which no store keeps).
 * The walk is iterative, so a body nested a million deep costs no stack. Where the raw text
 * is at hand, {@link parseJsonInput} first scans it once ({@link plainJsonText}): text that is
 * certainly within the limits skips the walk, anything the scan cannot vouch for is walked.
 *
 * @example
 * assertJsonInput(JSON.parse(text), 'The body'); // throws LarderError BadRequest when past the limits
 * parseJsonInput(text, 'The body'); // the same answer, parsed, and cheaper for large plain bodies
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

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
/** Digits in a row outside strings past which a number may not be finite (1e308 has 309). */
const SAFE_DIGIT_RUN = 300;

/**
 * Whether JSON `text` is certainly within the input limits, from one scan of its characters:
 * no `\\u` escape at all (so no escaped NUL or surrogate), no surrogate code unit, nesting
 * (counted outside strings) at most {@link MAX_JSON_DEPTH}, no exponent and no run of digits
 * long enough to overflow a double. False means "not vouched for", not "refused": the caller
 * walks the parsed value ({@link jsonInputProblem}) to decide.
 */
export function plainJsonText(text: string): boolean {
  let depth = 0;
  let digits = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code >= 0xd800 && code <= 0xdfff) return false;
    if (inString) {
      if (code === QUOTE) inString = false;
      else if (code === BACKSLASH) {
        if (text.charCodeAt(index + 1) === 0x75 /* u */) return false;
        index += 1;
      }
      continue;
    }
    if (code >= 0x30 && code <= 0x39) {
      digits += 1;
      if (digits > SAFE_DIGIT_RUN) return false;
      continue;
    }
    // An exponent follows a digit (`1e400`); the `e` of `true` and `false` does not.
    if ((code === 0x65 /* e */ || code === 0x45) /* E */ && digits > 0) return false;
    digits = 0;
    if (code === QUOTE) inString = true;
    else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      depth += 1;
      // The walk counts the top value as level 0: `[[1]]` is two levels deep.
      if (depth > MAX_JSON_DEPTH) return false;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) depth -= 1;
  }
  return true;
}

/** Parses JSON `text` taken as input: a 400 naming `what` when it is not JSON or is past the limits. */
export function parseJsonInput(text: string, what: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new LarderError('BadRequest', `${what} is not valid JSON`);
  }
  if (!plainJsonText(text)) assertJsonInput(value, what);
  return value;
}

/**
 * Names users give in the datalake: file names of pictures, tags, dataset, version and
 * label names. Checked (and file names cleaned) where they enter, so every later reader can
 * trust them: a file name is never a path, a tag is a short line of text.
 */
import { LarderError } from '@larder/protocol';

const MAX_TAGS = 100;
const MAX_TAG_LENGTH = 100;
const MAX_NAME_LENGTH = 100;
const MAX_FILE_NAME_LENGTH = 255;

function isControl(character: string): boolean {
  const code = character.charCodeAt(0);
  return code < 0x20 || code === 0x7f;
}

function withoutControls(value: string): string {
  return [...value].filter((character) => !isControl(character)).join('');
}

/**
 * The last segment of a path a client sent as a file name, without control characters.
 * @example cleanFileName('../../etc/passwd') // 'passwd'
 */
export function cleanFileName(value: unknown): string {
  if (typeof value !== 'string') throw new LarderError('BadRequest', 'Give the picture a "filename" string');
  const last = withoutControls(value).split(/[\\/]/).pop()?.trim() ?? '';
  if (last === '' || last === '.' || last === '..') {
    throw new LarderError('BadRequest', `"${value.slice(0, 80)}" is not a usable file name`);
  }
  return last.slice(0, MAX_FILE_NAME_LENGTH);
}

/** Tags as a clean, duplicate-free list; a single string counts as one tag. */
export function parseTags(value: unknown, what = '"tags"'): string[] {
  if (value === undefined || value === null) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list)) throw new LarderError('BadRequest', `${what} must be a list of strings`);
  const tags = new Set<string>();
  for (const tag of list) {
    if (typeof tag !== 'string') throw new LarderError('BadRequest', `${what} must be a list of strings`);
    const clean = withoutControls(tag).trim();
    if (clean === '') continue;
    if (clean.length > MAX_TAG_LENGTH) {
      throw new LarderError('BadRequest', `Tags are at most ${MAX_TAG_LENGTH} characters ("${clean.slice(0, 30)}…")`);
    }
    tags.add(clean);
  }
  if (tags.size > MAX_TAGS) throw new LarderError('BadRequest', `A picture carries at most ${MAX_TAGS} tags`);
  return [...tags];
}

/**
 * A dataset, version or label name: 1-100 characters, no "/" (datasets are addressed as
 * `name/version`) and no control characters.
 */
export function assertEntityName(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string' || value.trim() === '' || value !== value.trim()) {
    throw new LarderError('BadRequest', `Give the ${what} a name (a non-empty string without surrounding spaces)`);
  }
  if (value.length > MAX_NAME_LENGTH || value.includes('/') || [...value].some(isControl)) {
    throw new LarderError(
      'BadRequest',
      `A ${what} name is at most ${MAX_NAME_LENGTH} characters, without "/" or control characters`,
    );
  }
}

/** An optional free-text field (description, source), at most `max` characters. */
export function optionalText(value: unknown, what: string, max = 10_000): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new LarderError('BadRequest', `${what} must be a string`);
  if (value.length > max) throw new LarderError('BadRequest', `${what} is at most ${max} characters`);
  return value;
}

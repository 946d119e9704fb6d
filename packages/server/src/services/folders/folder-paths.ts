/**
 * Folder paths: `/<owner>/a/b`, where `<owner>` is the e-mail of the user whose home it is
 * (`local` when auth is off). A path given without a leading `/` is relative to the
 * caller's home. Segments are names a person would type: no `.`/`..`, no slashes, no
 * control characters.
 */
import { LarderError } from '@larder/protocol';
import type { Actor } from '../../auth/actor.js';

const MAX_SEGMENT = 128;
const MAX_DEPTH = 32;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const BAD_SEGMENT = /[\u0000-\u001f\u007f\\]/;

/** The first segment of the caller's folders. */
export function homeOf(actor: Actor): string {
  if (actor.kind === 'user') return `/${actor.user.email}`;
  if (actor.kind === 'internal') return '/system';
  return '/local';
}

/** An absolute, validated folder path; relative paths start at `home`. */
export function resolveFolderPath(input: unknown, home: string): string {
  if (typeof input !== 'string' || input.trim() === '') {
    throw new LarderError('BadRequest', 'A folder is a path like "/ada@example.org/mnist" or "mnist/cnn"');
  }
  const absolute = input.startsWith('/') ? input : `${home}/${input}`;
  const segments = absolute.split('/').filter((segment) => segment !== '');
  if (segments.length === 0) throw new LarderError('BadRequest', 'The root "/" is not a folder; name one under it');
  if (segments.length > MAX_DEPTH) {
    throw new LarderError('BadRequest', `Folders nest at most ${MAX_DEPTH} deep`);
  }
  for (const segment of segments) {
    if (segment === '.' || segment === '..' || BAD_SEGMENT.test(segment) || segment.length > MAX_SEGMENT) {
      throw new LarderError(
        'BadRequest',
        `"${segment.slice(0, 40)}" cannot be a folder name (no ".", "..", backslashes or control characters; at most ${MAX_SEGMENT} characters)`,
      );
    }
  }
  return `/${segments.join('/')}`;
}

/** `/a/b/c` → `['/a', '/a/b', '/a/b/c']`. */
export function folderChain(path: string): string[] {
  const segments = path.split('/').filter((segment) => segment !== '');
  return segments.map((_, index) => `/${segments.slice(0, index + 1).join('/')}`);
}

export function parentOf(path: string): string | undefined {
  const cut = path.lastIndexOf('/');
  return cut <= 0 ? undefined : path.slice(0, cut);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

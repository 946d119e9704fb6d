/**
 * The names users choose in the registry: model names, aliases, named files and the paths
 * of the files inside a version. Names appear in CLI references (`resnet:production`) and
 * paths are written to disk on pull, so both are held to rules that keep them unambiguous
 * and unable to climb out of the directory they are written to.
 */
import { LarderError } from '@larder/protocol';

/**
 * Letters, digits, `.`, `_`, `-` and inner spaces (MLflow's registered models are often
 * named `Fraud detector`), starting with a letter or digit; no `:` (it separates the
 * version) and no `/`.
 */
const MODEL_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9 ._-]{0,126}[A-Za-z0-9._-])?$/;
/**
 * Starting with a letter, so that an alias is never read as a version number; no `.`, since
 * aliases and file names are also patch keys (`aliases.production`, `files.config`).
 */
const ALIAS = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const CONTROL = /[\u0000-\u001f\u007f]/;

export const MAX_PATH_LENGTH = 1024;
export const MAX_FILES_PER_VERSION = 10_000;

export function assertModelName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !MODEL_NAME.test(name)) {
    throw new LarderError(
      'BadRequest',
      `Invalid model name ${describe(name)}: use 1-128 letters, digits, spaces, ".", "_" or "-", starting with a letter or digit and not ending with a space`,
    );
  }
}

export function assertAlias(alias: unknown): asserts alias is string {
  if (typeof alias !== 'string' || !ALIAS.test(alias)) {
    throw new LarderError(
      'BadRequest',
      `Invalid alias ${describe(alias)}: use 1-64 letters, digits, "_" or "-", starting with a letter`,
    );
  }
}

export function assertFileName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !FILE_NAME.test(name)) {
    throw new LarderError(
      'BadRequest',
      `Invalid file name ${describe(name)}: use 1-64 letters, digits, "_" or "-", starting with a letter or digit`,
    );
  }
}

/** Why `path` cannot name a file inside a model version, or `undefined` when it can. */
export function unsafeFilePathReason(path: unknown): string | undefined {
  if (typeof path !== 'string' || path.length === 0) return 'must be a non-empty string';
  if (path.length > MAX_PATH_LENGTH) return `must be at most ${MAX_PATH_LENGTH} characters`;
  if (CONTROL.test(path)) return 'must not contain control characters';
  if (path.includes('\\')) return 'must use "/" as separator, never "\\"';
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'must be relative to the model root';
  for (const segment of path.split('/')) {
    if (segment === '') return 'must not contain empty segments ("//" or a trailing "/")';
    if (segment === '.' || segment === '..') return 'must not contain "." or ".." segments';
    if (segment.length > 255) return 'must not have a segment longer than 255 characters';
  }
  return undefined;
}

/**
 * Checks a version's paths together: each one safe, no file repeated (ignoring case, so a
 * pull onto a case-insensitive disk cannot merge two files), none both a file and a folder.
 * `folders` are the tree's empty folders, which PMF gives a meaning (`data/initialisation`).
 */
export function assertFilePaths(paths: readonly unknown[], emptyFolders: readonly unknown[] = []): void {
  const seen = new Set<string>();
  const folders = new Set<string>();
  const addFolders = (segments: string[], end: number) => {
    for (let length = 1; length <= end; length++) folders.add(segments.slice(0, length).join('/'));
  };
  for (const path of paths) {
    const reason = unsafeFilePathReason(path);
    if (reason !== undefined) throw new LarderError('BadRequest', `File path ${describe(path)} ${reason}`);
    const folded = (path as string).toLowerCase();
    if (seen.has(folded)) throw new LarderError('BadRequest', `File path "${path}" appears twice (ignoring case)`);
    seen.add(folded);
    const segments = folded.split('/');
    addFolders(segments, segments.length - 1);
  }
  for (const folder of emptyFolders) {
    const reason = unsafeFilePathReason(folder);
    if (reason !== undefined) throw new LarderError('BadRequest', `Folder path ${describe(folder)} ${reason}`);
    const segments = (folder as string).toLowerCase().split('/');
    addFolders(segments, segments.length);
  }
  for (const folder of folders) {
    if (seen.has(folder)) throw new LarderError('BadRequest', `"${folder}" cannot be both a file and a folder`);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 80));
  return value === undefined ? '(missing)' : typeof value;
}

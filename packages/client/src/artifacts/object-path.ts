/**
 * Where an added file, directory or reference lands inside an artifact:
 * - no `objPath`: the source's base name (`1.png`, or `a` for the directory `a/`);
 * - an `objPath` ending in `/`: the base name inside that directory (`a/` → `a/1.png`);
 * - any other `objPath`: that exact path.
 * Object paths use `/`, are relative, and never climb out with `..`.
 */
import { posix } from 'node:path';
import { LarderError } from '@larder/protocol';

/**
 * @example
 * objectPath('data/1.png');            // '1.png'
 * objectPath('data/1.png', 'a/');      // 'a/1.png'
 * objectPath('data/1.png', 'a/2.png'); // 'a/2.png'
 * objectPath('logs/', 'b/');           // 'b/logs'
 */
export function objectPath(source: string, objPath?: string): string {
  const base = baseName(source);
  if (objPath === undefined || objPath === '') return checked(base, source);
  const target = objPath.replaceAll('\\', '/');
  return checked(target.endsWith('/') ? `${target}${base}` : target, source);
}

/** The last segment of a local path or of a URI's path, ignoring trailing slashes. */
export function baseName(source: string): string {
  let path = source.replaceAll('\\', '/');
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(path);
  if (scheme) {
    try {
      path = new URL(source).pathname;
    } catch {
      path = path.slice(scheme[0].length);
    }
  }
  return posix.basename(path.replace(/\/+$/, ''));
}

function checked(path: string, source: string): string {
  const normalized = posix.normalize(path).replace(/\/+$/, '');
  if (
    normalized === '' ||
    normalized === '.' ||
    normalized.startsWith('/') ||
    normalized === '..' ||
    normalized.startsWith('../')
  ) {
    throw new LarderError(
      'BadRequest',
      `Cannot place ${source} at "${path}" in the artifact: give a relative objPath such as "data/" or "data/file.bin"`,
    );
  }
  return normalized;
}

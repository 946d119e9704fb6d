/**
 * Paths inside a PMF tree are relative to its root. Anything absolute, or climbing out with
 * `..`, could make a reader hash or a writer copy files outside the model, so it is refused.
 */
import { posix } from 'node:path';

/** Why a metadata path is unsafe, or `null` when it is a relative path inside the root. */
export function unsafePathReason(path: string): string | null {
  if (path.length === 0) return 'must not be empty';
  if (path.includes('\0')) return 'must not contain a NUL character';
  if (path.startsWith('/') || path.startsWith('\\') || /^[a-zA-Z]:/.test(path)) {
    return 'must be relative to the model root, not absolute';
  }
  if (path.split(/[\\/]/).includes('..')) return 'must stay inside the model root (no ".." segments)';
  return null;
}

/** The canonical form of a safe relative path (`./data//x` → `data/x`). */
export function canonicalPath(path: string): string {
  return posix.normalize(path);
}

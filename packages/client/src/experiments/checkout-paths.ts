/**
 * Local paths for a checkout, built from names a server record holds. Those names come
 * from whoever wrote the record, so every one becomes a single harmless path segment and
 * every final path is checked to stay inside the checkout.
 */
import { isAbsolute, relative } from 'node:path';
import { LarderError } from '@larder/protocol';

/** A name as one path segment: separators and specials percent-encoded, never `.` or `..`. */
export function pathSegment(name: string): string {
  const encoded = encodeURIComponent(name).replace(/\*/g, '%2A');
  if (encoded === '' || /^\.+$/.test(encoded)) return encoded.replace(/\./g, '%2E') || '_';
  return encoded;
}

/** The last segment of a stored filename (`../../x.zip` → `x.zip`), else `fallback`. */
export function localFilename(filename: unknown, fallback: string): string {
  const last = typeof filename === 'string' ? (filename.split(/[/\\]/).pop() ?? '') : '';
  return pathSegment(last === '' || /^\.+$/.test(last) ? fallback : last);
}

/** Picsellia's training tree: where a named file goes when `tree` is asked for. */
export const TREE_FOLDERS = ['checkpoints', 'records', 'config', 'exported_model', 'results'] as const;

export function treeFolderOf(name: string): (typeof TREE_FOLDERS)[number] | undefined {
  if (name === 'config' || name.startsWith('config-')) return 'config';
  if (name.startsWith('checkpoint')) return 'checkpoints';
  if (name === 'model-latest' || name.startsWith('exported-model')) return 'exported_model';
  return undefined;
}

export function assertInside(root: string, path: string): void {
  const within = relative(root, path);
  if (within === '' || within.startsWith('..') || isAbsolute(within)) {
    throw new LarderError('BadRequest', `Refusing to write ${path}: it is outside ${root}`);
  }
}

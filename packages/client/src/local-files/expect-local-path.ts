/**
 * A local path checked before it is read, so a mistyped or wrong-kind path is a sentence
 * naming it (`No file at ./weights.bin`) instead of a raw `ENOENT` or `EISDIR` from Node.
 */
import { stat } from 'node:fs/promises';
import { LarderError } from '@larder/protocol';

export interface ExpectLocalPathOptions {
  /** What the caller does with it, starting the sentence (e.g. `addFile`). */
  action: string;
  /** Said after a wrong kind, e.g. how to pass a folder instead. */
  hint?: string;
}

/**
 * Throws a LarderError that names `path` unless it exists and is of `kind`.
 *
 * @example
 * await expectLocalPath('out/1.png', 'file', { action: 'addFile' });
 */
export async function expectLocalPath(
  path: string,
  kind: 'file' | 'directory' | 'file or directory',
  { action, hint }: ExpectLocalPathOptions,
): Promise<void> {
  const found = await stat(path).catch((cause: unknown) => {
    const code = (cause as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new LarderError('NotFound', `${action}: there is no ${kind} at ${path}`, { cause });
    }
    throw new LarderError('BadRequest', `${action}: cannot read ${path} (${String(code ?? cause)})`, { cause });
  });
  const isKind =
    kind === 'file'
      ? found.isFile()
      : kind === 'directory'
        ? found.isDirectory()
        : found.isFile() || found.isDirectory();
  if (!isKind) {
    const actual = found.isDirectory() ? 'a directory' : found.isFile() ? 'a file' : 'neither a file nor a directory';
    throw new LarderError('BadRequest', `${action}: ${path} is ${actual}, not a ${kind}${hint ? `; ${hint}` : ''}`);
  }
}

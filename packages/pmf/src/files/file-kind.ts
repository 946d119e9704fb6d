/** What a path is on disk, without throwing for missing paths. Symbolic links are followed. */
import { stat } from 'node:fs/promises';

export type FileKind = 'file' | 'directory' | 'other' | 'missing';

export async function fileKind(path: string): Promise<FileKind> {
  try {
    const info = await stat(path);
    return info.isFile() ? 'file' : info.isDirectory() ? 'directory' : 'other';
  } catch (error) {
    if (isMissing(error)) return 'missing';
    throw error;
  }
}

/** Whether an fs error means "nothing there". */
export function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

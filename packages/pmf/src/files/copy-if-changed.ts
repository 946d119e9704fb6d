/** Copies a file unless the destination already holds the same content (same size and MD5). */
import { copyFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isMissing } from './file-kind.js';
import { md5File } from './md5.js';

/**
 * Copies `source` to `destination` when their content differs; returns whether it copied.
 * `sourceHash` spares hashing the source when its MD5 is already known.
 *
 * @example
 * if (await copyIfChanged('run/10.h5', 'model/data/checkpoints/10.h5')) console.log('copied');
 */
export async function copyIfChanged(source: string, destination: string, sourceHash?: string): Promise<boolean> {
  if (resolve(source) === resolve(destination)) return false;
  const sourceInfo = await stat(source);
  let destinationSize: number;
  try {
    destinationSize = (await stat(destination)).size;
  } catch (error) {
    if (!isMissing(error)) throw error;
    destinationSize = -1;
  }
  if (destinationSize === sourceInfo.size) {
    const [before, after] = await Promise.all([sourceHash ?? md5File(source), md5File(destination)]);
    if (before === after) return false;
  }
  await copyFile(source, destination);
  return true;
}

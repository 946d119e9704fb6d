/** Safetensors files on disk: written tensor by tensor (never the whole model in one buffer). */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { LarderError } from '@larder/protocol';
import type { Tensor } from '../tensor/tensor.js';
import { tensorBytes } from '../tensor/tensor-bytes.js';
import { decodeSafetensors, encodeSafetensorsHeader, type SafetensorsContent } from './safetensors-format.js';

/**
 * Writes `tensors` to `path` as safetensors; the file appears complete or not at all.
 *
 * @example
 * await writeSafetensorsFile('model.safetensors', new Map([['w', tensor([1, 2])]]), { framework: 'tfjs' });
 */
export async function writeSafetensorsFile(
  path: string,
  tensors: ReadonlyMap<string, Tensor>,
  metadata: Readonly<Record<string, string>> = {},
): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.partial`;
  const handle = await open(temporary, 'wx');
  try {
    await handle.write(encodeSafetensorsHeader(tensors, metadata));
    for (const t of tensors.values()) await handle.write(tensorBytes(t));
    await handle.sync();
    await handle.close();
    await rename(temporary, path);
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Reads and checks a safetensors file. */
export async function readSafetensorsFile(path: string): Promise<SafetensorsContent> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new LarderError('NotFound', `No safetensors file at ${path}`, { cause });
    }
    throw cause;
  }
  return decodeSafetensors(bytes);
}

/** Files replaced all at once: written under a temporary name, then renamed over the target. */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Writes `chunks` to `target` through a temporary file in `scratch` (same file system), so
 * readers see the old file or the new one, never half of one. `durable` fsyncs the data first.
 */
export async function writeFileAtomically(
  target: string,
  chunks: readonly Uint8Array[] | string,
  scratch: string,
  durable = false,
): Promise<void> {
  const temporary = join(scratch, `${randomBytes(8).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx');
  try {
    if (typeof chunks === 'string') await handle.writeFile(chunks);
    else await handle.writev([...chunks]);
    if (durable) await handle.sync();
    await handle.close();
    await rename(temporary, target);
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(temporary, { force: true });
    throw error;
  }
}

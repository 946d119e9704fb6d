/** The file to upload: random bytes written chunk by chunk (never held in memory), hashed on the way. */
import { createHash, randomFillSync } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CHUNK_BYTES } from './disk-write.mjs';

/** @returns {Promise<{ path: string, bytes: number, sha256: string }>} */
export async function makeRandomFile(path, bytes) {
  const hash = createHash('sha256');
  const chunks = (function* () {
    for (let left = bytes; left > 0; left -= CHUNK_BYTES) {
      const chunk = randomFillSync(Buffer.allocUnsafe(Math.min(CHUNK_BYTES, left)));
      hash.update(chunk);
      yield chunk;
    }
  })();
  await pipeline(Readable.from(chunks), createWriteStream(path));
  const handle = await open(path, 'r+');
  await handle.sync();
  await handle.close();
  return { path, bytes, sha256: hash.digest('hex') };
}

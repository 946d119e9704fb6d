/** MD5 digests of files, the checksum PMF records for every file it tracks. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/**
 * The lowercase hex MD5 of a file's content, read as a stream so large checkpoints fit.
 *
 * @example
 * await md5File('model/config.yaml'); // 'd41d8cd98f00b204e9800998ecf8427e'
 */
export async function md5File(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Whether a string has the shape of an MD5 hex digest. */
export function isMd5(value: unknown): value is string {
  return typeof value === 'string' && /^[a-f0-9]{32}$/.test(value);
}

/**
 * Reads the regular files of a ustar stream as they arrive (the server's version archives):
 * each entry's name and bytes, whole, in order. Small files only: each entry is held in
 * memory until it is complete. A stream that ends inside an entry, or a header whose
 * checksum is wrong, is an error.
 *
 * @example
 * for await (const entry of tarEntries(response.body)) await writeFile(entry.name, entry.bytes);
 */
import { LarderError } from '@larder/protocol';

const BLOCK = 512;

export interface TarEntry {
  name: string;
  bytes: Buffer;
}

function octal(header: Buffer, start: number, length: number): number {
  const text = header
    .toString('ascii', start, start + length)
    .replace(/\0.*$/, '')
    .trim();
  return text === '' ? 0 : Number.parseInt(text, 8);
}

function checksumHolds(header: Buffer): boolean {
  let sum = 0;
  for (let index = 0; index < BLOCK; index += 1) sum += index >= 148 && index < 156 ? 32 : (header[index] as number);
  return sum === octal(header, 148, 8);
}

export async function* tarEntries(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  let pending = Buffer.alloc(0);
  let wanted: { name: string; size: number; padded: number } | undefined;
  const broken = (why: string) => new LarderError('BadGateway', `The archive the server sent is ${why}; run again`);
  for await (const chunk of source) {
    pending = pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([pending, chunk]);
    for (;;) {
      if (!wanted) {
        if (pending.length < BLOCK) break;
        const header = pending.subarray(0, BLOCK);
        if (header.every((byte) => byte === 0)) return;
        if (!checksumHolds(header)) throw broken('damaged (a header checksum is wrong)');
        const size = octal(header, 124, 12);
        const name = header.toString('utf8', 0, 100).replace(/\0.*$/s, '');
        wanted = { name, size, padded: Math.ceil(size / BLOCK) * BLOCK };
        pending = pending.subarray(BLOCK);
      }
      if (pending.length < wanted.padded) break;
      const entry = { name: wanted.name, bytes: Buffer.from(pending.subarray(0, wanted.size)) };
      pending = pending.subarray(wanted.padded);
      wanted = undefined;
      yield entry;
    }
  }
  throw broken('cut short');
}

/** Pack files built in memory for tests, in the layout of FORMAT.md ("Packs"). */
import { hash } from 'node:crypto';
import { ENTRY_HEADER_BYTES, packHeader, paddingAfter, writeEntryHeader } from '../packs/pack-format.js';

/** `count` distinct objects of varied small sizes (0 to ~1,300 bytes), each with its id. */
export function packObjects(count: number): [string, Buffer][] {
  return Array.from({ length: count }, (_, index) => {
    const bytes = Buffer.alloc(index === 0 ? 0 : 4 + ((index * 37) % 1300), index & 0xff);
    if (bytes.length >= 4) bytes.writeUInt32LE(index, 0);
    return [hash('sha256', bytes, 'hex'), bytes];
  });
}

/** The bytes of a pack holding `objects` in order, each padded to 8 bytes as writers pad. */
export function packBytes(objects: readonly [string, Buffer][]): Buffer {
  const parts: Buffer[] = [packHeader()];
  for (const [id, bytes] of objects) {
    const header = Buffer.alloc(ENTRY_HEADER_BYTES);
    writeEntryHeader(header, id, bytes.length);
    parts.push(header, bytes, Buffer.alloc(paddingAfter(bytes.length)));
  }
  return Buffer.concat(parts);
}

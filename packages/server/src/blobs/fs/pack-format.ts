/**
 * How a pack file lays out its blobs: each behind a 48-byte header of its own (`LBP1`, 4 bytes
 * reserved, its size as a u64, its raw SHA-256), one after the other. The headers make a pack
 * describe itself, so that a lost or damaged index can be rebuilt from the packs alone.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** Each packed blob's header: magic, 4 bytes reserved (zero), size (u64), raw SHA-256. */
export const PACKED_HEADER_BYTES = 48;
const PACKED_MAGIC = Buffer.from('LBP1', 'latin1');

/** A blob in a pack: its hash, where its bytes start (past its header), and its size. */
export interface PackEntry {
  sha256: string;
  offset: number;
  size: number;
}

/** A packed blob's header (`PACKED_HEADER_BYTES`). */
export function packedHeader(sha256: string, size: number): Buffer {
  const header = Buffer.alloc(PACKED_HEADER_BYTES);
  PACKED_MAGIC.copy(header, 0);
  header.writeUInt32LE(size % 0x1_0000_0000, 8);
  header.writeUInt32LE(Math.floor(size / 0x1_0000_0000), 12);
  header.write(sha256, 16, 32, 'hex');
  return header;
}

/**
 * The blobs a pack's headers describe that check against their hash, up to the first header
 * that is not one (or a blob running past the end: a pack cut short).
 */
export async function readPackEntries(path: string): Promise<{ size: number; valid: PackEntry[] }> {
  const bytes = await readFile(path);
  const valid: PackEntry[] = [];
  let at = 0;
  while (at + PACKED_HEADER_BYTES <= bytes.length) {
    if (!bytes.subarray(at, at + 4).equals(PACKED_MAGIC)) break;
    const size = bytes.readUInt32LE(at + 8) + bytes.readUInt32LE(at + 12) * 0x1_0000_0000;
    const offset = at + PACKED_HEADER_BYTES;
    if (offset + size > bytes.length) break;
    const sha256 = bytes.toString('hex', at + 16, at + 48);
    // Bytes that do not hash to their header's id are left out; the walk goes on past them.
    const actual = createHash('sha256')
      .update(bytes.subarray(offset, offset + size))
      .digest('hex');
    if (actual === sha256) valid.push({ sha256, offset, size });
    at = offset + size;
  }
  return { size: bytes.length, valid };
}

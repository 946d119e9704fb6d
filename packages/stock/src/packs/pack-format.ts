/**
 * The byte layout of pack files and their indexes (FORMAT.md, "Packs"). A pack holds many
 * small objects back to back, each exactly the bytes a loose object file would hold, so an
 * object's id and its check are the same wherever it lives. The index lists (id, offset,
 * length) sorted by id behind a 256-entry fan-out table, so a lookup is a binary search in
 * one bucket and a read is one `pread`.
 */
import { createHash, type Hash, hash as oneShotHash } from 'node:crypto';
import { LarderError } from '@larder/protocol';

export const PACK_MAGIC = 'LSP1';
export const INDEX_MAGIC = 'LSX1';
export const PACK_VERSION = 1;
/** Pack header: magic, version, 8 reserved bytes. */
export const PACK_HEADER_BYTES = 16;
/** Before each object: its 32-byte id, its length (u32), 4 reserved bytes. */
export const ENTRY_HEADER_BYTES = 40;
/** Index header: magic, version, count, reserved, pack SHA-256, pack size (u64). */
export const INDEX_HEADER_BYTES = 56;
export const FANOUT_BYTES = 256 * 4;
/** Per entry: id (32), offset of the object's bytes (u64), length (u32), reserved (u32). */
export const INDEX_ENTRY_BYTES = 48;
export const INDEX_TRAILER_BYTES = 32;
const ENTRIES_START = INDEX_HEADER_BYTES + FANOUT_BYTES;

/** Objects of this size or more are kept as their own files, never packed (see FORMAT.md). */
export const PACK_OBJECT_LIMIT = 1024 * 1024;

export interface IndexEntry {
  /** The object id, 32 raw bytes. */
  id: Buffer;
  /** Where the object's bytes start in the pack. */
  offset: number;
  length: number;
}

export function packHeader(): Buffer {
  const header = Buffer.alloc(PACK_HEADER_BYTES);
  header.write(PACK_MAGIC, 0, 'latin1');
  header.writeUInt32LE(PACK_VERSION, 4);
  return header;
}

/** Writes an entry's header (id given in hex) at byte `at` of `target`. */
export function writeEntryHeader(target: Buffer, hash: string, length: number, at = 0): void {
  target.write(hash, at, 32, 'hex');
  target.writeUInt32LE(length, at + 32);
  target.writeUInt32LE(0, at + 36);
}

/** Zero bytes that bring an object of `length` bytes to the next 8-byte boundary. */
export function paddingAfter(length: number): number {
  return (8 - (length % 8)) % 8;
}

/** The index of a pack whose SHA-256 is `packHash` (hex) and size `packSize`; entries by hex id. */
export function encodeIndex(
  entries: ReadonlyMap<string, { offset: number; length: number }>,
  packHash: string,
  packSize: number,
): Buffer {
  // Lower-case hex sorts as the bytes do, and strings compare faster than buffers; ids are
  // written from their hex straight into the index (no buffer per entry).
  const sorted = [...entries.keys()].sort();
  const body = Buffer.alloc(ENTRIES_START + sorted.length * INDEX_ENTRY_BYTES);
  body.write(INDEX_MAGIC, 0, 'latin1');
  body.writeUInt32LE(PACK_VERSION, 4);
  body.writeUInt32LE(sorted.length, 8);
  Buffer.from(packHash, 'hex').copy(body, 16);
  body.writeBigUInt64LE(BigInt(packSize), 48);
  const counts = new Uint32Array(256);
  for (let index = 0; index < sorted.length; index += 1) {
    const hex = sorted[index] as string;
    const { offset, length } = entries.get(hex) as { offset: number; length: number };
    const at = ENTRIES_START + index * INDEX_ENTRY_BYTES;
    body.write(hex, at, 32, 'hex');
    counts[body[at] as number] = (counts[body[at] as number] ?? 0) + 1;
    // The u64 offset as two u32 halves (offsets stay below 2^53).
    body.writeUInt32LE(offset % 0x1_0000_0000, at + 32);
    body.writeUInt32LE(Math.floor(offset / 0x1_0000_0000), at + 36);
    body.writeUInt32LE(length, at + 40);
  }
  let running = 0;
  for (let byte = 0; byte < 256; byte += 1) {
    running += counts[byte] as number;
    body.writeUInt32LE(running, INDEX_HEADER_BYTES + byte * 4);
  }
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

export interface DecodedIndex {
  count: number;
  packHash: string;
  packSize: number;
  /** The whole index file: entries are read from it in place. */
  bytes: Buffer;
}

/**
 * Checks an index completely (magic, version, checksum, fan-out, order, bounds) so that
 * lookups afterwards can trust its layout; the objects themselves are checked when read.
 */
export function decodeIndex(bytes: Buffer, where: string): DecodedIndex {
  const bad = (why: string): never => {
    throw new LarderError(
      'Unprocessable',
      `The stock pack index ${where} is damaged (${why}): run "larder stock fsck --repair" to rebuild it from its pack`,
    );
  };
  if (bytes.length < ENTRIES_START + INDEX_TRAILER_BYTES) bad('too short');
  if (bytes.toString('latin1', 0, 4) !== INDEX_MAGIC) bad('not a pack index');
  if (bytes.readUInt32LE(4) !== PACK_VERSION) bad(`version ${bytes.readUInt32LE(4)} is not known to this version`);
  const count = bytes.readUInt32LE(8);
  if (bytes.length !== ENTRIES_START + count * INDEX_ENTRY_BYTES + INDEX_TRAILER_BYTES) bad('wrong size');
  const body = bytes.subarray(0, bytes.length - INDEX_TRAILER_BYTES);
  if (!createHash('sha256').update(body).digest().equals(bytes.subarray(body.length))) bad('checksum mismatch');
  const packSize = Number(bytes.readBigUInt64LE(48));
  let previous = 0;
  for (let byte = 0; byte < 256; byte += 1) {
    const value = bytes.readUInt32LE(INDEX_HEADER_BYTES + byte * 4);
    if (value < previous) bad('fan-out not ascending');
    previous = value;
  }
  if (previous !== count) bad('fan-out does not end at the count');
  for (let index = 0; index < count; index += 1) {
    const at = ENTRIES_START + index * INDEX_ENTRY_BYTES;
    if (
      index > 0 &&
      Buffer.compare(bytes.subarray(at - INDEX_ENTRY_BYTES, at - 16), bytes.subarray(at, at + 32)) >= 0
    ) {
      bad('ids not in strictly ascending order');
    }
    const offset = Number(bytes.readBigUInt64LE(at + 32));
    if (offset < PACK_HEADER_BYTES || offset + bytes.readUInt32LE(at + 40) > packSize)
      bad('an entry lies outside the pack');
  }
  return { count, packHash: bytes.toString('hex', 16, 48), packSize, bytes };
}

/**
 * An index this process has just built with `encodeIndex` (a pack it sealed or installed),
 * taken as it is: the checks of `decodeIndex` are for indexes read from disk.
 */
export function builtIndex(bytes: Buffer): DecodedIndex {
  return {
    count: bytes.readUInt32LE(8),
    packHash: bytes.toString('hex', 16, 48),
    packSize: Number(bytes.readBigUInt64LE(48)),
    bytes,
  };
}

/** Entry `index` of a decoded index. */
export function indexEntryAt(index: DecodedIndex, position: number): IndexEntry {
  const at = ENTRIES_START + position * INDEX_ENTRY_BYTES;
  return {
    id: index.bytes.subarray(at, at + 32),
    offset: Number(index.bytes.readBigUInt64LE(at + 32)),
    length: index.bytes.readUInt32LE(at + 40),
  };
}

/**
 * The position of the object whose raw id is `id` (32 bytes) in the index, or -1: a binary
 * search within its fan-out bucket on the ids' first four bytes, the whole id compared only
 * on a tie.
 */
export function findInIndex(index: DecodedIndex, id: Buffer): number {
  const key = id.readUInt32BE(0);
  const first = key >>> 24;
  const bytes = index.bytes;
  let low = first === 0 ? 0 : bytes.readUInt32LE(INDEX_HEADER_BYTES + (first - 1) * 4);
  let high = bytes.readUInt32LE(INDEX_HEADER_BYTES + first * 4) - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const at = ENTRIES_START + middle * INDEX_ENTRY_BYTES;
    const prefix = bytes.readUInt32BE(at);
    let order = prefix < key ? -1 : prefix > key ? 1 : 0;
    for (let i = 4; order === 0 && i < 32; i += 1) order = (bytes[at + i] as number) - (id[i] as number);
    if (order === 0) return middle;
    if (order < 0) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}

/** Where each object of a pack lies, by hex id (what `encodeIndex` takes). */
export type PackEntries = Map<string, { offset: number; length: number }>;

/** A pack file already walked (every object checked against its id) and its size. */
export interface ScannedPack {
  entries: PackEntries;
  size: number;
}

/**
 * Walks a whole pack (to rebuild its index, or to check one that arrived), checking its
 * header, every entry's bounds and every object's SHA-256 against its id.
 */
export function scanPack(pack: Buffer, where: string): PackEntries {
  const scanner = packScanner(where);
  scanner.take(pack);
  return scanner.finish();
}

/** A pack checked chunk by chunk as its bytes come (see `packScanner`). */
export interface PackScanner {
  /** Checks the pack's next bytes; throws Unprocessable at the first fault. */
  take(chunk: Buffer): void;
  /** Checks that the pack ended between two entries, and answers its entries. */
  finish(): PackEntries;
}

/**
 * `scanPack`'s walk fed one chunk at a time, so that a pack arriving over the network is
 * checked while it arrives rather than read again afterwards. An object inside a chunk (the
 * common case) is hashed in one call; one cut by a chunk's end is hashed piece by piece.
 */
export function packScanner(where: string): PackScanner {
  const bad = (why: string): never => {
    throw new LarderError('Unprocessable', `The stock pack ${where} is damaged: ${why}`);
  };
  const entries: PackEntries = new Map();
  /** Bytes of the pack taken so far. */
  let position = 0;
  /** A header (the pack's, or an entry's) cut by a chunk's end, gathered until whole. */
  let pending: Buffer | undefined;
  /** An object cut by a chunk's end: its hash so far and the bytes still to come. */
  let open: { id: string; offset: number; length: number; left: number; hash: Hash } | undefined;
  let padding = 0;

  const checkPackHeader = (header: Buffer): void => {
    if (header.toString('latin1', 0, 4) !== PACK_MAGIC) bad('not a stock pack');
    if (header.readUInt32LE(4) !== PACK_VERSION) bad(`version ${header.readUInt32LE(4)} is not known to this version`);
  };
  const found = (id: string, actual: string, offset: number, length: number): void => {
    if (actual !== id) bad(`object ${id.slice(0, 12)} at byte ${offset} hashes to ${actual.slice(0, 12)}`);
    if (!entries.has(id)) entries.set(id, { offset, length });
    padding = paddingAfter(length);
  };
  const take = (chunk: Buffer): void => {
    let at = 0;
    while (at < chunk.length) {
      if (padding > 0) {
        const n = Math.min(padding, chunk.length - at);
        padding -= n;
        position += n;
        at += n;
        continue;
      }
      if (open !== undefined) {
        const n = Math.min(open.left, chunk.length - at);
        open.hash.update(chunk.subarray(at, at + n));
        open.left -= n;
        position += n;
        at += n;
        if (open.left === 0) {
          found(open.id, open.hash.digest('hex'), open.offset, open.length);
          open = undefined;
        }
        continue;
      }
      const need = position < PACK_HEADER_BYTES ? PACK_HEADER_BYTES : ENTRY_HEADER_BYTES;
      if (pending !== undefined || at + need > chunk.length) {
        // A header cut by the chunk's end (the pack's own is whatever starts at byte 0).
        const have = pending?.length ?? 0;
        const n = Math.min(need - have, chunk.length - at);
        pending = Buffer.concat([pending ?? Buffer.alloc(0), chunk.subarray(at, at + n)]);
        position += n;
        at += n;
        if (pending.length < need) continue;
        const header = pending;
        pending = undefined;
        if (need === PACK_HEADER_BYTES) checkPackHeader(header);
        else {
          const length = header.readUInt32LE(32);
          open = {
            id: header.toString('hex', 0, 32),
            offset: position,
            length,
            left: length,
            hash: createHash('sha256'),
          };
          if (length === 0) {
            found(open.id, open.hash.digest('hex'), position, 0);
            open = undefined;
          }
        }
        continue;
      }
      if (need === PACK_HEADER_BYTES) {
        checkPackHeader(chunk.subarray(at, at + need));
        position += need;
        at += need;
        continue;
      }
      // The common case: an entry's header in this chunk, and most often its whole object.
      const length = chunk.readUInt32LE(at + 32);
      const id = chunk.toString('hex', at, at + 32);
      const offset = position + ENTRY_HEADER_BYTES;
      at += ENTRY_HEADER_BYTES;
      position = offset;
      if (at + length <= chunk.length) {
        found(id, oneShotHash('sha256', chunk.subarray(at, at + length), 'hex'), offset, length);
        at += length;
        position += length;
      } else open = { id, offset, length, left: length, hash: createHash('sha256') };
    }
  };
  const finish = (): PackEntries => {
    if (position < PACK_HEADER_BYTES) bad('not a stock pack');
    if (open !== undefined) bad(`the object at byte ${open.offset} runs past its end`);
    if (pending !== undefined) bad(`it ends inside an entry header at byte ${position - pending.length}`);
    return entries;
  };
  return { take, finish };
}

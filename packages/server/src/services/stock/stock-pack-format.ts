/**
 * The server's reading of stock packs (packages/stock/FORMAT.md, "Packs"): a pack that
 * arrived is walked as a stream, every object checked against its id, and an index of the
 * same layout as a local `.idx` built from what was found. The server never trusts an index
 * a client sent; it only reads the ones it wrote.
 */
import { createHash, type Hash, hash as oneShotHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { LarderError } from '@larder/protocol';

const PACK_MAGIC = 'LSP1';
const INDEX_MAGIC = 'LSX1';
const OBJECT_MAGIC_BYTES = Buffer.from('LSO1', 'latin1');
const VERSION = 1;
const PACK_HEADER = 16;
const ENTRY_HEADER = 40;
const INDEX_HEADER = 56;
const FANOUT = 1024;
const INDEX_ENTRY = 48;
const ENTRIES_START = INDEX_HEADER + FANOUT;

/** A packed object larger than this is refused: clients pack only objects under 1 MiB. */
export const MAX_PACKED_OBJECT_BYTES = 64 * 1024 * 1024;
/** A pack may hold this many objects (its index is built in memory); clients send at most 500,000. */
export const MAX_PACKED_OBJECTS = 1_000_000;

export interface PackEntry {
  offset: number;
  length: number;
}

/**
 * Walks a pack, hashing each object as its bytes stream by (memory stays at one chunk), and
 * answers its entries by hex id. Throws Unprocessable on anything malformed or mis-hashed.
 */
export async function verifyPackStream(source: Readable, size: number): Promise<Map<string, PackEntry>> {
  const verifier = packVerifier(size);
  for await (const chunk of source) verifier.take(chunk as Buffer);
  return verifier.finish();
}

/** A pack checked chunk by chunk as it arrives (see `packVerifier`). */
export interface PackVerifier {
  /** Checks the next bytes of the pack; throws Unprocessable at the first fault. */
  take(chunk: Buffer): void;
  /** Checks that the pack ended where it should and answers its entries by hex id. */
  finish(): Map<string, PackEntry>;
}

/**
 * The walk of `verifyPackStream` fed one chunk at a time, for a pack of `size` bytes being
 * received: checked while its bytes are stored rather than read back afterwards.
 */
export function packVerifier(size: number): PackVerifier {
  const entries = new Map<string, PackEntry>();
  const bad = (why: string): never => {
    throw new LarderError('Unprocessable', `The stock pack is not valid: ${why}. Push again to send a fresh one`);
  };
  let position = 0;
  /** Header bytes that straddle two chunks, gathered until complete. */
  let pending = Buffer.alloc(0);
  /** An object whose bytes straddle chunks, hashed as they come. */
  let object:
    | { id: string; offset: number; length: number; left: number; hash: Hash; magicChecked: number }
    | undefined;
  let skip = 0;

  /** Checks an entry header (`ENTRY_HEADER` bytes of `bytes` from `at`) whose object starts at `offset`. */
  const entryAt = (bytes: Buffer, at: number, offset: number): { id: string; length: number } => {
    const length = bytes.readUInt32LE(at + 32);
    if (length < 8 || length > MAX_PACKED_OBJECT_BYTES) bad(`an object of ${length} bytes cannot be packed`);
    if (offset + length > size) bad('an object runs past its end');
    if (entries.size >= MAX_PACKED_OBJECTS) bad(`it holds more than ${MAX_PACKED_OBJECTS} objects: send smaller packs`);
    return { id: bytes.toString('hex', at, at + 32), length };
  };
  const found = (id: string, actual: string, offset: number, length: number): void => {
    if (actual !== id) bad(`object ${id.slice(0, 12)} hashes to ${actual.slice(0, 12)}`);
    if (!entries.has(id)) entries.set(id, { offset, length });
    skip = (8 - (length % 8)) % 8;
  };
  const isObjectMagic = (bytes: Buffer, at: number): boolean =>
    bytes[at] === 0x4c && bytes[at + 1] === 0x53 && bytes[at + 2] === 0x4f && bytes[at + 3] === 0x31;
  /** The object's first bytes in `bytes[at, at + n)` checked against the object magic, however the chunks cut them. */
  const checkMagicPiece = (bytes: Buffer, at: number, n: number): void => {
    if (object === undefined) return;
    for (let i = 0; i < n && object.magicChecked < 4; i += 1) {
      if (bytes[at + i] !== OBJECT_MAGIC_BYTES[object.magicChecked]) {
        bad(`object ${object.id.slice(0, 12)} is not a stock object`);
      }
      object.magicChecked += 1;
    }
  };

  const take = (chunk: Buffer): void => {
    let at = 0;
    while (at < chunk.length) {
      if (skip > 0) {
        const end = Math.min(at + skip, chunk.length);
        for (let i = at; i < end; i += 1) if (chunk[i] !== 0) bad('padding holds non-zero bytes');
        skip -= end - at;
        position += end - at;
        at = end;
        continue;
      }
      if (object !== undefined) {
        const n = Math.min(object.left, chunk.length - at);
        checkMagicPiece(chunk, at, n);
        object.hash.update(chunk.subarray(at, at + n));
        object.left -= n;
        at += n;
        position += n;
        if (object.left === 0) {
          found(object.id, object.hash.digest('hex'), object.offset, object.length);
          object = undefined;
        }
        continue;
      }
      if (position < PACK_HEADER || pending.length > 0 || at + ENTRY_HEADER > chunk.length) {
        // The pack's header, or an entry header cut by the chunk's end: gathered first (the
        // pack's header is whatever starts at byte 0, however few bytes a chunk brings).
        const need = position - pending.length === 0 ? PACK_HEADER : ENTRY_HEADER;
        const n = Math.min(need - pending.length, chunk.length - at);
        pending = Buffer.concat([pending, chunk.subarray(at, at + n)]);
        at += n;
        position += n;
        if (pending.length < need) continue;
        if (position === PACK_HEADER) {
          if (pending.toString('latin1', 0, 4) !== PACK_MAGIC) bad('it does not start with the pack magic');
          if (pending.readUInt32LE(4) !== VERSION) bad(`version ${pending.readUInt32LE(4)} is unknown`);
        } else {
          const { id, length } = entryAt(pending, 0, position);
          object = { id, offset: position, length, left: length, hash: createHash('sha256'), magicChecked: 0 };
        }
        pending = Buffer.alloc(0);
        continue;
      }
      // The common case: an entry header inside this chunk, and most often its whole object
      // too, hashed in one call.
      const offset = position + ENTRY_HEADER;
      const { id, length } = entryAt(chunk, at, offset);
      at += ENTRY_HEADER;
      position = offset;
      if (at + length <= chunk.length) {
        if (length >= 4 && !isObjectMagic(chunk, at)) bad(`object ${id.slice(0, 12)} is not a stock object`);
        found(id, oneShotHash('sha256', chunk.subarray(at, at + length), 'hex'), offset, length);
        at += length;
        position += length;
      } else {
        object = { id, offset, length, left: length, hash: createHash('sha256'), magicChecked: 0 };
      }
    }
  };
  const finish = (): Map<string, PackEntry> => {
    if (position !== size) bad('it is not the size it was stored with');
    if (pending.length > 0 || object !== undefined || skip > 0 || position < PACK_HEADER)
      bad('it ends inside an entry');
    return entries;
  };
  return { take, finish };
}

/** The index of a verified pack, byte for byte what a local `.idx` holds. */
export function encodePackIndex(entries: ReadonlyMap<string, PackEntry>, packHash: string, packSize: number): Buffer {
  // Lower-case hex sorts as the bytes do; ids go from their hex straight into the index.
  const ids = [...entries.keys()].sort();
  const body = Buffer.alloc(ENTRIES_START + ids.length * INDEX_ENTRY);
  body.write(INDEX_MAGIC, 0, 'latin1');
  body.writeUInt32LE(VERSION, 4);
  body.writeUInt32LE(ids.length, 8);
  body.write(packHash, 16, 32, 'hex');
  body.writeBigUInt64LE(BigInt(packSize), 48);
  const counts = new Uint32Array(256);
  for (let index = 0; index < ids.length; index += 1) {
    const id = ids[index] as string;
    const entry = entries.get(id) as PackEntry;
    const at = ENTRIES_START + index * INDEX_ENTRY;
    body.write(id, at, 32, 'hex');
    counts[body[at] as number] = (counts[body[at] as number] as number) + 1;
    // The u64 offset as two u32 halves (offsets stay far below 2^53): no BigInt per entry.
    body.writeUInt32LE(entry.offset % 0x1_0000_0000, at + 32);
    body.writeUInt32LE(Math.floor(entry.offset / 0x1_0000_0000), at + 36);
    body.writeUInt32LE(entry.length, at + 40);
  }
  let running = 0;
  for (let byte = 0; byte < 256; byte += 1) {
    running += counts[byte] as number;
    body.writeUInt32LE(running, INDEX_HEADER + byte * 4);
  }
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

/** An index this server wrote: its count, checked only for shape. */
export function indexCount(index: Buffer): number {
  if (index.length < ENTRIES_START + 32 || index.toString('latin1', 0, 4) !== INDEX_MAGIC) {
    throw new LarderError('Unavailable', 'A stock pack index on the server is damaged: ask an administrator');
  }
  return index.readUInt32LE(8);
}

/** The raw id being looked up, written once per lookup rather than allocated. */
const wantedId = Buffer.alloc(32);

/**
 * Where object `hash` (64 lowercase hex characters) lies in the pack an index describes, or
 * undefined (see `findIdInPackIndex`).
 */
export function findInPackIndex(index: Buffer, hash: string): PackEntry | undefined {
  if (!rawId(hash, wantedId)) return undefined;
  return findIdInPackIndex(index, wantedId);
}

/**
 * Writes the 32 raw bytes of `hash` into `target`; false when `hash` is not 64 hex characters
 * (callers have checked the ids they were sent). A lookup in several indexes converts once.
 */
export function rawId(hash: string, target: Buffer): boolean {
  return hash.length === 64 && target.write(hash, 0, 32, 'hex') === 32;
}

/**
 * Where the object whose raw id is `id` (32 bytes) lies in the pack an index describes, or
 * undefined: a binary search in its fan-out bucket on the ids' first four bytes, the whole id
 * compared only on a tie (a push or pull asks this for every sample).
 */
export function findIdInPackIndex(index: Buffer, id: Buffer): PackEntry | undefined {
  const key = id.readUInt32BE(0);
  const first = key >>> 24;
  let low = first === 0 ? 0 : index.readUInt32LE(INDEX_HEADER + (first - 1) * 4);
  let high = index.readUInt32LE(INDEX_HEADER + first * 4) - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const at = ENTRIES_START + middle * INDEX_ENTRY;
    const prefix = index.readUInt32BE(at);
    let order = prefix < key ? -1 : prefix > key ? 1 : 0;
    if (order === 0) order = index.compare(id, 0, 32, at, at + 32);
    if (order === 0) {
      const offset = index.readUInt32LE(at + 32) + index.readUInt32LE(at + 36) * 0x1_0000_0000;
      return { offset, length: index.readUInt32LE(at + 40) };
    }
    if (order < 0) low = middle + 1;
    else high = middle - 1;
  }
  return undefined;
}

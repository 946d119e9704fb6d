/**
 * Writes one pack: objects are laid out in memory slabs of a few MiB (encoded straight into
 * them by `reserve` and `commit`), each slab written to a temporary file in the scratch folder
 * while the next fills, and the pack becomes visible only when `seal` renames it and
 * then its index into the packs folder. A writer that never seals (a crash) leaves only a
 * temporary file nobody reads.
 */
import { createHash, type Hash, randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ENTRY_HEADER_BYTES,
  encodeIndex,
  PACK_HEADER_BYTES,
  packHeader,
  paddingAfter,
  writeEntryHeader,
} from './pack-format.js';

/** Objects are laid out in slabs of this size, each written (and hashed) whole. */
const SLAB_BYTES = 4 * 1024 * 1024;
/** Slabs handed to the file and not yet written before `add` waits for them. */
const SLABS_IN_FLIGHT = 2;

export interface SealedPack {
  /** The pack's SHA-256 (hex), which is also its file name. */
  name: string;
  objects: number;
  bytes: number;
  /** The index written beside it (none for a transfer pack), so the store need not read it back. */
  index?: Buffer;
  /** The entries the index was encoded from, by hex id (see `PackSet.load`). */
  entries?: ReadonlyMap<string, { offset: number; length: number }>;
}

/**
 * Room for one object in the pack's open slab, reserved by `reserve`: the caller writes the
 * object's bytes into `bytes`, then `commit`s it under its id (or drops it, a copy already held).
 */
export interface PackSlot {
  readonly bytes: Buffer;
  readonly length: number;
}

export class PackWriter {
  readonly #scratch: string;
  readonly #path: string;
  readonly #hash: Hash = createHash('sha256');
  readonly #entries = new Map<string, { offset: number; length: number }>();
  #handle: FileHandle | undefined;
  /** The slab being filled, which starts at byte `#slabStart` of the pack; `#used` bytes so far. */
  #slab: Buffer = Buffer.allocUnsafeSlow(SLAB_BYTES);
  #slabStart = 0;
  #used = 0;
  /** A reserved slot, not yet committed: its entry header starts at `#used`. */
  #reserved: { bytes: Buffer; length: number } | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #inFlight = 0;

  constructor(scratch: string) {
    this.#scratch = scratch;
    this.#path = join(scratch, `${randomBytes(8).toString('hex')}.pack.tmp`);
    packHeader().copy(this.#slab, 0);
    this.#used = PACK_HEADER_BYTES;
  }

  get count(): number {
    return this.#entries.size;
  }

  /** Bytes of the pack so far. */
  get size(): number {
    return this.#slabStart + this.#used;
  }

  has(hash: string): boolean {
    return this.#entries.has(hash);
  }

  /**
   * Reserves room for an object of `length` bytes (under `PACK_OBJECT_LIMIT`) and answers
   * where to write it: encoding straight into the pack saves a copy per object. Valid until
   * the next `reserve`, `add` or `commit`.
   */
  reserve(length: number): PackSlot {
    const needed = ENTRY_HEADER_BYTES + length + paddingAfter(length);
    if (this.#used + needed > this.#slab.length) this.#nextSlab(needed);
    const start = this.#used + ENTRY_HEADER_BYTES;
    const slot = { bytes: this.#slab.subarray(start, start + length), length };
    this.#reserved = slot;
    return slot;
  }

  /**
   * Adds the object written into the last reserved slot under `hash`, its SHA-256; answers a
   * promise only when the writer wants the caller to wait for the disk.
   */
  commit(slot: PackSlot, hash: string): Promise<void> | undefined {
    if (this.#reserved !== slot) throw new Error('PackWriter.commit: not the slot last reserved');
    this.#reserved = undefined;
    if (this.#entries.has(hash)) return undefined;
    const { length } = slot;
    writeEntryHeader(this.#slab, hash, length, this.#used);
    const end = this.#used + ENTRY_HEADER_BYTES + length;
    const padded = end + paddingAfter(length);
    for (let at = end; at < padded; at += 1) this.#slab[at] = 0;
    this.#entries.set(hash, { offset: this.#slabStart + this.#used + ENTRY_HEADER_BYTES, length });
    this.#used = padded;
    return this.#inFlight >= SLABS_IN_FLIGHT ? this.#flushing : undefined;
  }

  /** Gives back the last reserved slot unused (the object is stored elsewhere already). */
  release(slot: PackSlot): void {
    if (this.#reserved === slot) this.#reserved = undefined;
  }

  /** Appends an object (its id already computed from `chunks`); a second copy is skipped. */
  async add(hash: string, chunks: readonly Uint8Array[], length: number): Promise<void> {
    if (this.#entries.has(hash)) return;
    const slot = this.reserve(length);
    let at = 0;
    for (const chunk of chunks) {
      slot.bytes.set(chunk, at);
      at += chunk.byteLength;
    }
    await this.commit(slot, hash);
  }

  /** The bytes of an object added to this writer, or undefined. */
  async read(hash: string): Promise<Buffer | undefined> {
    const entry = this.#entries.get(hash);
    if (entry === undefined) return undefined;
    if (entry.offset >= this.#slabStart) {
      const at = entry.offset - this.#slabStart;
      return Buffer.from(this.#slab.subarray(at, at + entry.length));
    }
    // Rare (a scope reading what it wrote a few MiB ago): read back once the slab is written.
    await this.#flushing;
    const bytes = Buffer.alloc(entry.length);
    await (this.#handle as FileHandle).read(bytes, 0, entry.length, entry.offset);
    return bytes;
  }

  /** Every object's id and bytes, for a writer too small to be worth a pack. */
  async *objects(): AsyncGenerator<[string, Buffer]> {
    for (const hash of this.#entries.keys()) yield [hash, (await this.read(hash)) as Buffer];
  }

  /**
   * Makes the pack visible in `folder` as `<sha256>.pack` + `<sha256>.idx` (the index last:
   * it is what readers look for). `durable` fsyncs both files and the folder first.
   */
  async seal(folder: string, durable: boolean): Promise<SealedPack> {
    await this.#flushAll();
    const name = this.#hash.digest('hex');
    const index = encodeIndex(this.#entries, name, this.size);
    const handle = this.#handle as FileHandle;
    const indexPath = `${this.#path.slice(0, -'.pack.tmp'.length)}.idx.tmp`;
    const indexHandle = await open(indexPath, 'wx');
    try {
      await indexHandle.writeFile(index);
      if (durable) await Promise.all([handle.sync(), indexHandle.sync()]);
    } finally {
      await indexHandle.close();
      await handle.close();
      this.#handle = undefined;
    }
    await mkdir(folder, { recursive: true });
    await rename(this.#path, join(folder, `${name}.pack`));
    await rename(indexPath, join(folder, `${name}.idx`));
    if (durable) await syncFolder(folder);
    return { name, objects: this.#entries.size, bytes: this.size, index, entries: this.#entries };
  }

  /** Writes the pack to `path` alone (a transfer pack: no index, not in any store); answers its SHA-256. */
  async finish(path: string): Promise<SealedPack> {
    await this.#flushAll();
    await (this.#handle as FileHandle).close();
    this.#handle = undefined;
    await rename(this.#path, path);
    return { name: this.#hash.digest('hex'), objects: this.#entries.size, bytes: this.size };
  }

  /** Drops the temporary file. */
  async discard(): Promise<void> {
    await this.#flushing.catch(() => {});
    await this.#handle?.close().catch(() => {});
    this.#handle = undefined;
    await rm(this.#path, { force: true });
  }

  /** Hands the full slab to the file and starts another one, large enough for `needed` bytes. */
  #nextSlab(needed: number): void {
    this.#write(this.#slab.subarray(0, this.#used), this.#slabStart);
    this.#slabStart += this.#used;
    this.#used = 0;
    this.#slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, needed));
  }

  /** Writes what the open slab holds and waits for every write. */
  async #flushAll(): Promise<void> {
    if (this.#used > 0) {
      this.#write(this.#slab.subarray(0, this.#used), this.#slabStart);
      this.#slabStart += this.#used;
      this.#used = 0;
    }
    this.#write(undefined, 0);
    await this.#flushing;
  }

  /**
   * Queues `bytes` to be written at `position` (writes run one after another, in order, so
   * the pack's hash sees the bytes as they lie in the file); `undefined` only opens the file.
   */
  #write(bytes: Buffer | undefined, position: number): void {
    if (bytes !== undefined) {
      // Hashed in file order as slabs are handed over, a few MiB at a time.
      this.#hash.update(bytes);
      this.#inFlight += 1;
    }
    const run = this.#flushing.then(async () => {
      if (this.#handle === undefined) {
        await mkdir(this.#scratch, { recursive: true });
        // Read as well as written: a scope may read back an object of a slab already written.
        this.#handle = await open(this.#path, 'wx+');
      }
      if (bytes === undefined) return;
      try {
        await this.#handle.write(bytes, 0, bytes.byteLength, position);
      } finally {
        this.#inFlight -= 1;
      }
    });
    // A failed write fails every later wait (the pack is incomplete); nobody waiting is no crash.
    run.catch(() => {});
    this.#flushing = run;
  }
}

/** Fsyncs a folder, so that renames into it survive a power cut. */
export async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

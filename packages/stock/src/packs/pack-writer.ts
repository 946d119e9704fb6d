/**
 * Writes one pack: objects are appended to a temporary file in the scratch folder (buffered,
 * written a few MiB at a time), and the pack becomes visible only when `seal` renames it and
 * then its index into the packs folder. A writer that never seals (a crash) leaves only a
 * temporary file nobody reads.
 */
import { createHash, type Hash, randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ENTRY_HEADER_BYTES, encodeIndex, packHeader, paddingAfter, writeEntryHeader } from './pack-format.js';

const FLUSH_BYTES = 4 * 1024 * 1024;
const KEPT_IN_MEMORY = 16;

export interface SealedPack {
  /** The pack's SHA-256 (hex), which is also its file name. */
  name: string;
  objects: number;
  bytes: number;
}

export class PackWriter {
  readonly #scratch: string;
  readonly #path: string;
  readonly #hash: Hash = createHash('sha256');
  readonly #entries = new Map<string, { offset: number; length: number }>();
  #handle: FileHandle | undefined;
  #buffered: Buffer[] = [];
  #bufferedBytes = 0;
  #flushing: Promise<void> = Promise.resolve();
  #flushed = 0;
  /** The first objects, kept: a scope too small for a pack writes them loose without touching the file. */
  readonly #first = new Map<string, Buffer>();
  #size = 0;

  constructor(scratch: string) {
    this.#scratch = scratch;
    this.#path = join(scratch, `${randomBytes(8).toString('hex')}.pack.tmp`);
    this.#append(packHeader());
  }

  get count(): number {
    return this.#entries.size;
  }

  /** Bytes of the pack so far. */
  get size(): number {
    return this.#size;
  }

  has(hash: string): boolean {
    return this.#entries.has(hash);
  }

  /** Appends an object (its id already computed from `chunks`); a second copy is skipped. */
  async add(hash: string, chunks: readonly Uint8Array[], length: number): Promise<void> {
    if (this.#entries.has(hash)) return;
    // One copy per object: the caller may change its arrays once `add` returns.
    const entry = Buffer.allocUnsafe(ENTRY_HEADER_BYTES + length + paddingAfter(length));
    writeEntryHeader(entry, hash, length);
    let at = ENTRY_HEADER_BYTES;
    for (const chunk of chunks) {
      entry.set(chunk, at);
      at += chunk.byteLength;
    }
    entry.fill(0, at);
    this.#entries.set(hash, { offset: this.#size + ENTRY_HEADER_BYTES, length });
    if (this.#first.size < KEPT_IN_MEMORY) this.#first.set(hash, entry);
    this.#append(entry);
    if (this.#bufferedBytes >= FLUSH_BYTES) await this.#flush();
  }

  /** The bytes of an object added to this writer, or undefined. */
  async read(hash: string): Promise<Buffer | undefined> {
    const entry = this.#entries.get(hash);
    if (entry === undefined) return undefined;
    const kept = this.#first.get(hash);
    if (kept !== undefined) return Buffer.from(kept.subarray(ENTRY_HEADER_BYTES, ENTRY_HEADER_BYTES + entry.length));
    // Rare (a scope reading what it just wrote): written out first, then read like the rest.
    if (entry.offset >= this.#flushed) await this.#flush();
    else await this.#flushing;
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
    await this.#flush();
    const name = this.#hash.digest('hex');
    const index = encodeIndex(this.#entries, name, this.#size);
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
    return { name, objects: this.#entries.size, bytes: this.#size };
  }

  /** Writes the pack to `path` alone (a transfer pack: no index, not in any store); answers its SHA-256. */
  async finish(path: string): Promise<SealedPack> {
    await this.#flush();
    await (this.#handle as FileHandle).close();
    this.#handle = undefined;
    await rename(this.#path, path);
    return { name: this.#hash.digest('hex'), objects: this.#entries.size, bytes: this.#size };
  }

  /** Drops the temporary file. */
  async discard(): Promise<void> {
    await this.#handle?.close().catch(() => {});
    this.#handle = undefined;
    await rm(this.#path, { force: true });
  }

  #append(bytes: Buffer): void {
    this.#buffered.push(bytes);
    this.#bufferedBytes += bytes.byteLength;
    this.#size += bytes.byteLength;
  }

  /** Writes the buffered bytes; flushes run one after another. */
  #flush(): Promise<void> {
    const run = this.#flushing.then(() => this.#write());
    this.#flushing = run.catch(() => {});
    return run;
  }

  async #write(): Promise<void> {
    if (this.#handle === undefined) {
      await mkdir(this.#scratch, { recursive: true });
      this.#handle = await open(this.#path, 'wx');
    }
    if (this.#bufferedBytes === 0) return;
    const chunks = this.#buffered;
    this.#buffered = [];
    this.#bufferedBytes = 0;
    const joined = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    // Hashed as written, a few MiB at a time: the same bytes in the same order.
    this.#hash.update(joined);
    await this.#handle.write(joined, 0, joined.byteLength, this.#flushed);
    this.#flushed += joined.byteLength;
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

/**
 * The packs of one repository (`.stock/packs/<sha256>.pack` + `.idx`): their indexes held in
 * memory (fixed-width entries, read in place), so finding an object is a binary search and
 * reading it one `pread`. Packs never change once visible; `refresh` picks up packs another
 * process sealed since.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LarderError } from '@larder/protocol';
import {
  builtIndex,
  type DecodedIndex,
  decodeIndex,
  FANOUT_BYTES,
  findInIndex,
  INDEX_ENTRY_BYTES,
  INDEX_HEADER_BYTES,
  indexEntryAt,
} from './pack-format.js';

const INDEX_FILE = /^([0-9a-f]{64})\.idx$/;

export interface PackedObject {
  pack: string;
  offset: number;
  length: number;
}

/** Where each object of a pack lies, by hex id: what the process that built the pack knew. */
export type PackEntries = ReadonlyMap<string, { offset: number; length: number }>;

interface LoadedPack {
  name: string;
  index: DecodedIndex;
  /** The pack's entries by hex id, for a pack this process built (a lookup without a search). */
  entries: PackEntries | undefined;
  fd: number | undefined;
  /** Bytes read ahead, from byte `windowStart` of the pack (sequential reads: see `read`). */
  window: Buffer | undefined;
  windowStart: number;
  /** Where the previous read ended, to tell a sequential walk from random reads. */
  lastEnd: number;
}

/**
 * Entries kept by hex id, over all packs (about 150 bytes each): beyond it, the oldest packs'
 * entries are dropped and their objects found through the index, as for any other pack.
 */
const KEPT_ENTRIES = 500_000;

/** How much a sequential walk reads at once: one `pread` serves about a thousand small samples. */
const READ_AHEAD_BYTES = 1024 * 1024;
/** An entry's header and padding: the gap between one object and the next in a pack. */
const NEXT_OBJECT_GAP = 48;

export class PackSet {
  readonly #folder: string;
  readonly #packs = new Map<string, LoadedPack>();
  readonly #id = Buffer.alloc(32);
  #refreshed = false;
  /** How many entries the loaded packs keep by hex id in all. */
  #keptEntries = 0;

  constructor(folder: string) {
    this.#folder = folder;
  }

  get folder(): string {
    return this.#folder;
  }

  /** Names of the packs loaded so far. */
  names(): string[] {
    return [...this.#packs.keys()];
  }

  /** Loads packs that appeared since the last look (the first call loads them all). */
  async refresh(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.#folder);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') names = [];
      else throw cause;
    }
    for (const file of names) {
      const name = INDEX_FILE.exec(file)?.[1];
      if (name !== undefined && !this.#packs.has(name)) await this.load(name);
    }
    this.#refreshed = true;
  }

  /** Whether the folder has been read at least once. */
  get loaded(): boolean {
    return this.#refreshed;
  }

  /** Refreshes once, the first time the packs are needed. */
  async ready(): Promise<void> {
    if (!this.#refreshed) await this.refresh();
  }

  /**
   * Loads one pack by name, checking its index and that its pack file has the size it names.
   * `built`: the index bytes, when this process has just written them (not read back), and
   * `entries` the map they were encoded from (`encodeIndex`), which then serves lookups: a push
   * or a read in the process that wrote the samples finds each one by its id's text.
   */
  async load(name: string, built?: Buffer, entries?: PackEntries): Promise<void> {
    const where = join(this.#folder, `${name}.idx`);
    const index = built === undefined ? decodeIndex(await readFile(where), where) : builtIndex(built);
    if (index.packHash !== name) {
      throw damaged(where, `it describes pack ${index.packHash.slice(0, 12)}, not ${name.slice(0, 12)}`);
    }
    const fd = openPack(join(this.#folder, `${name}.pack`), where);
    if (fstatSync(fd).size !== index.packSize) {
      closeSync(fd);
      throw damaged(where, `its pack is not the ${index.packSize} bytes the index names`);
    }
    const replaced = this.#packs.get(name)?.entries;
    if (replaced !== undefined) this.#keptEntries -= replaced.size;
    const kept = built !== undefined && entries !== undefined && this.#keep(entries.size) ? entries : undefined;
    this.#packs.set(name, { name, index, entries: kept, fd, window: undefined, windowStart: 0, lastEnd: -1 });
  }

  /** Makes room for `count` more kept entries, dropping the oldest packs' ones; false when they do not fit at all. */
  #keep(count: number): boolean {
    if (count > KEPT_ENTRIES) return false;
    for (const pack of this.#packs.values()) {
      if (this.#keptEntries + count <= KEPT_ENTRIES) break;
      if (pack.entries === undefined) continue;
      this.#keptEntries -= pack.entries.size;
      pack.entries = undefined;
    }
    this.#keptEntries += count;
    return true;
  }

  find(hash: string): PackedObject | undefined {
    if (this.#packs.size === 0) return undefined;
    // The raw id, written once into a buffer kept for it (lookups run once per sample), when
    // a pack without kept entries is searched.
    const id = this.#id;
    let written = false;
    for (const pack of this.#packs.values()) {
      if (pack.entries !== undefined) {
        const entry = pack.entries.get(hash);
        if (entry !== undefined) return { pack: pack.name, offset: entry.offset, length: entry.length };
        continue;
      }
      if (!written) {
        if (hash.length !== 64 || id.write(hash, 0, 32, 'hex') !== 32) return undefined;
        written = true;
      }
      const position = findInIndex(pack.index, id);
      if (position >= 0) {
        const at = INDEX_HEADER_BYTES + FANOUT_BYTES + position * INDEX_ENTRY_BYTES;
        const bytes = pack.index.bytes;
        return { pack: pack.name, offset: Number(bytes.readBigUInt64LE(at + 32)), length: bytes.readUInt32LE(at + 40) };
      }
    }
    return undefined;
  }

  /**
   * An object's bytes as stored (not yet checked against its id), a copy the caller owns.
   * Synchronous on purpose: packed objects are small (under `PACK_OBJECT_LIMIT`), and a
   * thread-pool round trip would cost more than the read. A read that starts where the
   * previous one ended (a walk in pack order: samples written together, read together) reads
   * a megabyte ahead, so that the next thousand small objects cost no system call.
   */
  read(object: PackedObject): Buffer {
    const pack = this.#packs.get(object.pack);
    if (pack === undefined) throw new LarderError('NotFound', `Stock pack ${object.pack.slice(0, 12)} is not loaded`);
    const { offset, length } = object;
    const end = offset + length;
    const sequential = offset >= pack.lastEnd && offset - pack.lastEnd <= NEXT_OBJECT_GAP;
    pack.lastEnd = end;
    const window = pack.window;
    if (window !== undefined && offset >= pack.windowStart && end <= pack.windowStart + window.length) {
      const bytes = Buffer.allocUnsafe(length);
      bytes.set(window.subarray(offset - pack.windowStart, end - pack.windowStart));
      return bytes;
    }
    pack.fd ??= openPack(join(this.#folder, `${pack.name}.pack`), pack.name);
    if (!sequential || length >= READ_AHEAD_BYTES) {
      pack.window = undefined;
      return readFully(pack.fd, length, offset, pack.name);
    }
    const ahead = Math.max(length, Math.min(READ_AHEAD_BYTES, pack.index.packSize - offset));
    const next = readFully(pack.fd, ahead, offset, pack.name, length);
    pack.window = next;
    pack.windowStart = offset;
    const bytes = Buffer.allocUnsafe(length);
    next.copy(bytes, 0, 0, length);
    return bytes;
  }

  /** Every packed object id (hex), pack by pack, each in ascending order. */
  *ids(): Generator<string> {
    for (const pack of this.#packs.values()) {
      for (let position = 0; position < pack.index.count; position += 1) {
        yield indexEntryAt(pack.index, position).id.toString('hex');
      }
    }
  }

  /** Ids that start with `prefix` (2+ hex characters). */
  withPrefix(prefix: string): string[] {
    const found: string[] = [];
    const first = Number.parseInt(prefix.slice(0, 2), 16);
    for (const pack of this.#packs.values()) {
      const bytes = pack.index.bytes;
      const start = first === 0 ? 0 : bytes.readUInt32LE(INDEX_HEADER_BYTES + (first - 1) * 4);
      const end = bytes.readUInt32LE(INDEX_HEADER_BYTES + first * 4);
      for (let position = start; position < end; position += 1) {
        const hex = indexEntryAt(pack.index, position).id.toString('hex');
        if (hex.startsWith(prefix)) found.push(hex);
      }
    }
    return found;
  }

  /**
   * Splits `hashes` into whole packs of at most `maxObjects` (every object of the pack is
   * among them: such a pack can be sent as it is) and the rest. `packOf` answers which pack
   * holds a hash, when the caller has looked them up already (`ObjectStore.places`).
   */
  covering(
    hashes: readonly string[],
    maxObjects: number,
    packOf: (hash: string) => string | undefined = (hash) => this.find(hash)?.pack,
  ): { packs: { name: string; path: string }[]; rest: string[] } {
    // A pack is whole when as many distinct wanted ids lie in it as it holds (ids are unique
    // within a pack). An id held by two packs counts for one: the other is then repacked.
    const wantedIn = new Map<string, number>();
    for (const hash of new Set(hashes)) {
      const pack = packOf(hash);
      if (pack !== undefined) wantedIn.set(pack, (wantedIn.get(pack) ?? 0) + 1);
    }
    const whole = new Set<string>();
    const packs: { name: string; path: string }[] = [];
    for (const [name, wanted] of wantedIn) {
      const count = this.#packs.get(name)?.index.count;
      if (count === undefined || wanted !== count || count > maxObjects) continue;
      whole.add(name);
      packs.push({ name, path: join(this.#folder, `${name}.pack`) });
    }
    const rest = hashes.filter((hash) => {
      const pack = packOf(hash);
      return pack === undefined || !whole.has(pack);
    });
    return { packs, rest };
  }

  /** The object count of a loaded pack. */
  countOf(name: string): number | undefined {
    return this.#packs.get(name)?.index.count;
  }

  /** Closes the open pack files; packs are reopened when read again. */
  close(): void {
    for (const pack of this.#packs.values()) {
      if (pack.fd !== undefined) closeSync(pack.fd);
      pack.fd = undefined;
      pack.window = undefined;
    }
  }

  /** Forgets every pack (after a repair rewrote the folder). */
  forget(): void {
    this.close();
    this.#packs.clear();
    this.#keptEntries = 0;
    this.#refreshed = false;
  }
}

/** `size` bytes at `offset` (at least `needed` of them, else the pack is short: damaged). */
function readFully(fd: number, size: number, offset: number, name: string, needed = size): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  const read = readSync(fd, bytes, 0, size, offset);
  if (read < needed) throw damaged(name, 'it is shorter than its index says');
  return read === size ? bytes : bytes.subarray(0, read);
}

function openPack(path: string, where: string): number {
  try {
    return openSync(path, 'r');
  } catch (cause) {
    throw damaged(where, `its pack file is missing (${(cause as NodeJS.ErrnoException).code ?? cause})`);
  }
}

function damaged(where: string, why: string): LarderError {
  return new LarderError(
    'Unprocessable',
    `The stock pack index ${where} is damaged (${why}): run "larder stock fsck --repair"`,
  );
}

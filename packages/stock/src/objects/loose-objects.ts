/**
 * Loose objects: one file each, `<dir>/<first 2 hex>/<other 62 hex>`, written once through a
 * temporary file and a rename. Large objects always live here, and so did every object
 * before packs; `ObjectStore` looks here after the packs.
 */
import { mkdir, open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from './atomic-file.js';
import { type EncodedObject, HASH_PATTERN, type ObjectKind, objectKind } from './object-codec.js';

export class LooseObjects {
  readonly #directory: string;
  readonly #scratch: string;
  readonly #madeDirectories = new Set<string>();

  constructor(directory: string, scratch: string) {
    this.#directory = directory;
    this.#scratch = scratch;
  }

  /** Where the object with this (already checked) hash lives. */
  pathOf(hash: string): string {
    return join(this.#directory, hash.slice(0, 2), hash.slice(2));
  }

  async has(hash: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(hash))).isFile();
    } catch {
      return false;
    }
  }

  async size(hash: string): Promise<number> {
    return (await stat(this.pathOf(hash))).size;
  }

  /** The stored bytes (unchecked); rejects with ENOENT when absent. */
  read(hash: string): Promise<Buffer> {
    return readFile(this.pathOf(hash));
  }

  /** The kind an object declares, from its first bytes only. */
  async kindOf(hash: string): Promise<ObjectKind> {
    const handle = await open(this.pathOf(hash), 'r');
    try {
      const prefix = new Uint8Array(8);
      await handle.read(prefix, 0, 8, 0);
      const length = new DataView(prefix.buffer).getUint32(4, true);
      const head = new Uint8Array(8 + Math.min(length, 1 << 20));
      const { bytesRead } = await handle.read(head, 0, head.byteLength, 0);
      return objectKind(head.subarray(0, bytesRead), hash);
    } finally {
      await handle.close();
    }
  }

  async write(object: EncodedObject, durable: boolean): Promise<void> {
    const target = this.pathOf(object.hash);
    // An existing file of the right size is the same content; a short one (a crash on a
    // machine without `durable`) is rewritten.
    const existing = await stat(target).catch(() => undefined);
    if (existing?.size === object.size) return;
    const folder = join(this.#directory, object.hash.slice(0, 2));
    if (!this.#madeDirectories.has(folder)) {
      await mkdir(folder, { recursive: true });
      this.#madeDirectories.add(folder);
    }
    await writeFileAtomically(target, object.chunks, this.#scratch, durable);
  }

  /** Every loose hash. */
  async *hashes(): AsyncGenerator<string> {
    let folders: string[];
    try {
      folders = await readdir(this.#directory);
    } catch {
      return;
    }
    for (const folder of folders.sort()) yield* await this.withPrefix(folder);
  }

  /** Loose hashes that start with `prefix` (2+ hex characters). */
  async withPrefix(prefix: string): Promise<string[]> {
    const folder = prefix.slice(0, 2);
    let names: string[];
    try {
      names = await readdir(join(this.#directory, folder));
    } catch {
      return [];
    }
    return names.map((name) => folder + name).filter((hash) => HASH_PATTERN.test(hash) && hash.startsWith(prefix));
  }
}

/**
 * The content-addressed object store: `<dir>/<first 2 hex>/<other 62 hex>`, each file written
 * once through a temporary file and a rename, never modified, and checked against its hash
 * whenever it is read.
 *
 * @example
 * const store = new ObjectStore('.stock/objects', '.stock/tmp');
 * const hash = await store.putTensor(tensor([1, 2, 3]));
 * const same = await store.getTensor(hash);
 */
import { mkdir, open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LarderError } from '@larder/protocol';
import type { Tensor } from '../tensor/tensor.js';
import { writeFileAtomically } from './atomic-file.js';
import {
  corrupt,
  type DecodedObject,
  decodeObject,
  type EncodedObject,
  encodeJsonObject,
  encodeTensorObject,
  HASH_PATTERN,
  type JsonObjectKind,
  type ObjectKind,
  objectKind,
  sha256,
} from './object-codec.js';

export interface ObjectStoreOptions {
  /** Fsync every object before it is renamed into place (slower; the commit itself is always fsynced). */
  durable?: boolean;
}

export class ObjectStore {
  readonly #directory: string;
  readonly #scratch: string;
  readonly #durable: boolean;
  readonly #madeDirectories = new Set<string>();

  constructor(directory: string, scratch: string, options: ObjectStoreOptions = {}) {
    this.#directory = directory;
    this.#scratch = scratch;
    this.#durable = options.durable ?? false;
  }

  /** Where the object with this hash lives. */
  pathOf(hash: string): string {
    assertHash(hash);
    return join(this.#directory, hash.slice(0, 2), hash.slice(2));
  }

  async has(hash: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(hash))).isFile();
    } catch {
      return false;
    }
  }

  /** Stores a tensor (a no-op when an identical one is stored) and answers its hash. */
  putTensor(t: Tensor): Promise<string> {
    return this.#put(encodeTensorObject(t));
  }

  putJson(kind: JsonObjectKind, value: unknown): Promise<string> {
    return this.#put(encodeJsonObject(kind, value));
  }

  /** An object's bytes exactly as stored, after checking them against the hash. */
  async readRaw(hash: string): Promise<Uint8Array> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.pathOf(hash));
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new LarderError('NotFound', `Stock object ${hash.slice(0, 12)} is missing from this repository`, {
          data: { hash },
          cause,
        });
      }
      throw cause;
    }
    const actual = sha256([bytes]);
    if (actual !== hash) corrupt(hash, `its content hashes to ${actual.slice(0, 12)}`);
    return bytes;
  }

  /**
   * Stores bytes received from elsewhere (a pull), refusing them unless they hash to `hash` and
   * decode as a stock object.
   */
  async writeRaw(hash: string, bytes: Uint8Array): Promise<void> {
    assertHash(hash);
    const actual = sha256([bytes]);
    if (actual !== hash) {
      throw new LarderError(
        'Unprocessable',
        `Received object ${hash.slice(0, 12)} hashes to ${actual.slice(0, 12)}: it was damaged in transit`,
        { data: { hash } },
      );
    }
    decodeObject(bytes, hash);
    await this.#put({ hash, chunks: [bytes], size: bytes.byteLength });
  }

  async get(hash: string): Promise<DecodedObject> {
    return decodeObject(await this.readRaw(hash), hash);
  }

  async getTensor(hash: string): Promise<Tensor> {
    const decoded = await this.get(hash);
    if (decoded.kind !== 'tensor') corrupt(hash, `a tensor was expected, it holds a ${decoded.kind}`);
    return decoded.tensor;
  }

  async getJson(kind: JsonObjectKind, hash: string): Promise<unknown> {
    const decoded = await this.get(hash);
    if (decoded.kind !== kind) corrupt(hash, `a ${kind} was expected, it holds a ${decoded.kind}`);
    return decoded.value;
  }

  /** The kind an object declares, read from its first bytes only (not checked against its hash). */
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

  /** Hashes of stored objects that start with `prefix` (at least 2 hex characters). */
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

  /** Every stored hash. */
  async *all(): AsyncGenerator<string> {
    let folders: string[];
    try {
      folders = await readdir(this.#directory);
    } catch {
      return;
    }
    for (const folder of folders.sort()) yield* await this.withPrefix(folder);
  }

  async #put(object: EncodedObject): Promise<string> {
    const target = this.pathOf(object.hash);
    // An existing file of the right size is the same content; a short one (a crash on a
    // machine without `durable`) is rewritten.
    const existing = await stat(target).catch(() => undefined);
    if (existing?.size === object.size) return object.hash;
    const folder = join(this.#directory, object.hash.slice(0, 2));
    if (!this.#madeDirectories.has(folder)) {
      await mkdir(folder, { recursive: true });
      this.#madeDirectories.add(folder);
    }
    await writeFileAtomically(target, object.chunks, this.#scratch, this.#durable);
    return object.hash;
  }
}

function assertHash(hash: string): void {
  if (!HASH_PATTERN.test(hash)) {
    throw new LarderError('BadRequest', `"${hash.slice(0, 80)}" is not an object hash (64 lowercase hex characters)`);
  }
}

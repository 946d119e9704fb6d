/**
 * The content-addressed object store. Objects live loose (`<dir>/<first 2 hex>/<other 62
 * hex>`, one file each, written through a temporary file and a rename) or, when small and
 * written inside a batch (a StockRoom write scope), in packs (`packs/<sha256>.pack` + `.idx`,
 * see FORMAT.md). Nothing is modified once visible, and every object is checked against its
 * hash whenever it is read, wherever it lives.
 *
 * @example
 * const store = new ObjectStore('.stock/objects', '.stock/tmp');
 * const hash = await store.putTensor(tensor([1, 2, 3]));
 * const same = await store.getTensor(hash);
 */
import { hash as oneShotHash } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { LarderError } from '@larder/protocol';
import { checkPacks, type PackCheck } from '../packs/pack-check.js';
import { PACK_OBJECT_LIMIT, type ScannedPack } from '../packs/pack-format.js';
import { installPack } from '../packs/pack-install.js';
import { PackSet } from '../packs/pack-set.js';
import { PackWriter, type SealedPack, syncFolder } from '../packs/pack-writer.js';
import type { Tensor } from '../tensor/tensor.js';
import { tensorBytes } from '../tensor/tensor-bytes.js';
import { LooseObjects } from './loose-objects.js';
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
  tensorHead,
} from './object-codec.js';

export interface ObjectStoreOptions {
  /** Fsync every object before it is renamed into place (slower; the commit itself is always fsynced). */
  durable?: boolean;
  /** The packs folder (default: `packs` beside the loose objects' folder). */
  packs?: string;
}

/** Where a stored object lives: its size, and the pack holding it (undefined: a loose file). */
export interface ObjectPlace {
  size: number;
  pack: string | undefined;
}

/** How one object is written. */
export interface PutOptions {
  /** Its own file even inside a batch (commits: head.stock names them alone). */
  loose?: boolean;
  /** Fsync it before it is renamed into place. */
  durable?: boolean;
}

/** A batch with fewer objects than this writes them loose: a pack of two would only add a file to search. */
export const SMALLEST_PACK = 16;
/** A batch seals its pack at this size and starts another. */
export const LARGEST_PACK_BYTES = 256 * 1024 * 1024;

export class ObjectStore {
  readonly #loose: LooseObjects;
  readonly #scratch: string;
  readonly #durable: boolean;
  readonly #packs: PackSet;
  #batch = false;
  #writer: PackWriter | undefined;
  #sealed: SealedPack[] = [];

  constructor(directory: string, scratch: string, options: ObjectStoreOptions = {}) {
    this.#loose = new LooseObjects(directory, scratch);
    this.#scratch = scratch;
    this.#durable = options.durable ?? false;
    this.#packs = new PackSet(options.packs ?? join(dirname(directory), 'packs'));
  }

  /** The repository's packs. */
  get packs(): PackSet {
    return this.#packs;
  }

  /**
   * From now until `endBatch`, small objects go into a pack rather than a file each. The
   * pack is invisible to other processes until the batch ends.
   */
  async beginBatch(): Promise<void> {
    await this.#packs.refresh();
    this.#batch = true;
  }

  /**
   * Makes the batch's objects visible (one pack, or loose files when there are few) and ends
   * it; answers the packs it sealed, which a commit fsyncs (`syncPacks`).
   */
  async endBatch(options: { durable?: boolean } = {}): Promise<SealedPack[]> {
    try {
      await this.sealBatch(options);
    } finally {
      this.#batch = false;
    }
    return this.#sealed.splice(0);
  }

  /** Drops what the batch wrote and has not sealed (a scope that failed). */
  async discardBatch(): Promise<void> {
    const writer = this.#writer;
    this.#writer = undefined;
    this.#batch = false;
    this.#sealed = [];
    await writer?.discard();
  }

  /** Seals the batch's open pack now and keeps the batch open (a commit inside a scope). */
  async sealBatch(options: { durable?: boolean } = {}): Promise<void> {
    const writer = this.#writer;
    if (writer === undefined) return;
    this.#writer = undefined;
    const durable = options.durable ?? this.#durable;
    if (writer.count < SMALLEST_PACK) {
      for await (const [hash, bytes] of writer.objects()) {
        await this.#put({ hash, chunks: [bytes], size: bytes.byteLength }, { loose: true, durable });
      }
      await writer.discard();
      return;
    }
    const sealed = await writer.seal(this.#packs.folder, durable);
    await this.#packs.load(sealed.name, sealed.index, sealed.entries);
    this.#sealed.push({ name: sealed.name, objects: sealed.objects, bytes: sealed.bytes });
  }

  /** Fsyncs packs sealed earlier without `durable` (a commit makes the packs it needs durable). */
  async syncPacks(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    // All at once: the files were renamed into the folder when sealed, and nothing depends on
    // them until the commit that follows (a commit's wait is one fsync, not three per pack).
    const files = names.flatMap((name) => [`${name}.pack`, `${name}.idx`]);
    await Promise.all([
      ...files.map(async (file) => {
        const handle = await open(join(this.#packs.folder, file), 'r').catch(() => undefined);
        if (handle === undefined) return;
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
      }),
      syncFolder(this.#packs.folder),
    ]);
  }

  /**
   * Installs a pack file that arrived (a pull), checking every object in it first; the file
   * is moved. `checkedName`: the file's SHA-256, when the caller has just checked the file
   * against it (a download does), so that it is not hashed twice; `scanned`: its objects,
   * when the caller checked them as it wrote the file (a download does), so that it is not
   * read back.
   */
  async installPack(path: string, checkedName?: string, scanned?: ScannedPack): Promise<SealedPack> {
    await mkdir(this.#packs.folder, { recursive: true });
    const sealed = await installPack(path, this.#packs.folder, this.#durable, checkedName, scanned);
    if (this.#packs.countOf(sealed.name) === undefined) {
      await this.#packs.load(sealed.name, sealed.index, sealed.entries);
    }
    return sealed;
  }

  /**
   * Checks every object (packed ones through `checkPacks`, loose ones by reading them);
   * `repair` rebuilds missing or damaged pack indexes and removes unfinished files.
   */
  async check(options: { repair?: boolean } = {}): Promise<PackCheck & { loose: number }> {
    await mkdir(this.#scratch, { recursive: true });
    const result = { ...(await checkPacks(this.#packs.folder, this.#scratch, options.repair ?? false)), loose: 0 };
    for await (const hash of this.#loose.hashes()) {
      result.loose += 1;
      try {
        decodeObject(await this.readRaw(hash), hash);
      } catch (error) {
        result.problems.push((error as Error).message);
      }
    }
    if (options.repair) this.#packs.forget();
    return result;
  }

  /** Whether the object is stored as its own file (push uploads those one by one). */
  isLoose(hash: string): Promise<boolean> {
    assertHash(hash);
    return this.#loose.has(hash);
  }

  /** The stored size of an object, wherever it lives. */
  async sizeOf(hash: string): Promise<number> {
    const packed = await this.#packed(hash);
    if (packed !== undefined) return packed.length;
    return this.#loose.size(hash);
  }

  /**
   * The stored size of each of `hashes` and the pack holding it (undefined: a loose file), in
   * one pass: a push asks this for every sample. Rejects when one is not stored.
   */
  async places(hashes: Iterable<string>): Promise<Map<string, ObjectPlace>> {
    await this.#packs.ready();
    const places = new Map<string, ObjectPlace>();
    for (const hash of hashes) {
      assertHash(hash);
      const packed = this.#packs.find(hash);
      if (packed !== undefined) places.set(hash, { size: packed.length, pack: packed.pack });
      else places.set(hash, await this.#placeOutsidePacks(hash));
    }
    return places;
  }

  /** A loose object's place, else one in a pack sealed since the packs were loaded. */
  async #placeOutsidePacks(hash: string): Promise<ObjectPlace> {
    try {
      return { size: await this.#loose.size(hash), pack: undefined };
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw cause;
      await this.#packs.refresh();
      const late = this.#packs.find(hash);
      if (late !== undefined) return { size: late.length, pack: late.pack };
      throw new LarderError('NotFound', `Stock object ${hash.slice(0, 12)} is missing from this repository`, {
        data: { hash },
        cause,
      });
    }
  }

  /** Where the object with this hash lives. */
  pathOf(hash: string): string {
    assertHash(hash);
    return this.#loose.pathOf(hash);
  }

  async has(hash: string): Promise<boolean> {
    assertHash(hash);
    if (this.#writer?.has(hash)) return true;
    await this.#packs.ready();
    if (this.#packs.find(hash) !== undefined) return true;
    if (await this.isLoose(hash)) return true;
    await this.#packs.refresh();
    return this.#packs.find(hash) !== undefined;
  }

  /** The hashes among `hashes` this store lacks, looked up in bulk (a pull asks about every sample). */
  async missing(hashes: Iterable<string>): Promise<string[]> {
    await this.#packs.refresh();
    const absent = [...new Set(hashes)].filter((hash) => {
      assertHash(hash);
      return !this.#writer?.has(hash) && this.#packs.find(hash) === undefined;
    });
    if (absent.length > 1024) {
      const loose = new Set<string>();
      for await (const hash of this.#loose.hashes()) loose.add(hash);
      return absent.filter((hash) => !loose.has(hash));
    }
    const missing: string[] = [];
    for (const hash of absent) if (!(await this.isLoose(hash))) missing.push(hash);
    return missing;
  }

  /** Stores a tensor (a no-op when an identical one is stored) and answers its hash. */
  putTensor(t: Tensor): Promise<string> {
    const head = tensorHead(t);
    const payload = tensorBytes(t);
    const size = head.byteLength + payload.byteLength;
    if (this.#batch && size < PACK_OBJECT_LIMIT) return this.#putPacked(head, payload, size);
    return this.#put(encodeTensorObject(t));
  }

  /**
   * Stores many tensors and answers their hashes in the same order, with one promise for the
   * lot: inside a batch, small tensors are encoded straight into the open pack one after
   * another, waiting only when the pack's writes fall behind (or a pack is sealed).
   */
  async putTensors(tensors: readonly Tensor[]): Promise<string[]> {
    const hashes = new Array<string>(tensors.length);
    for (let index = 0; index < tensors.length; index += 1) {
      const t = tensors[index] as Tensor;
      const head = tensorHead(t);
      const payload = tensorBytes(t);
      const size = head.byteLength + payload.byteLength;
      if (!this.#batch || size >= PACK_OBJECT_LIMIT) {
        hashes[index] = await this.#put(encodeTensorObject(t));
        continue;
      }
      // As #putPacked does, without a promise per tensor.
      this.#writer ??= new PackWriter(this.#scratch);
      const writer = this.#writer;
      const slot = writer.reserve(size);
      slot.bytes.set(head, 0);
      slot.bytes.set(payload, head.byteLength);
      const hash = oneShotHash('sha256', slot.bytes, 'hex');
      hashes[index] = hash;
      if (this.#packs.find(hash) !== undefined) {
        writer.release(slot);
        continue;
      }
      const waiting = writer.commit(slot, hash);
      if (waiting !== undefined) await waiting;
      if (writer.size >= LARGEST_PACK_BYTES) await this.sealBatch();
    }
    return hashes;
  }

  putJson(kind: JsonObjectKind, value: unknown, options: PutOptions = {}): Promise<string> {
    return this.#put(encodeJsonObject(kind, value), options);
  }

  /** An object's bytes exactly as stored, after checking them against the hash. */
  async readRaw(hash: string): Promise<Uint8Array> {
    // The common case, a packed object read by a data loader, is checked by its hash alone:
    // bytes that hash to `hash` prove it a well-formed id (digests are lower-case hex).
    const packed = typeof hash === 'string' ? this.#packedNow(hash) : undefined;
    if (packed !== undefined && sha256([packed]) === hash) return packed;
    assertHash(hash);
    const bytes = packed ?? (await this.#stored(hash));
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
    const decoded = decodeObject(await this.readRaw(hash), hash);
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
    if (!(await this.isLoose(hash))) return objectKind(await this.#stored(hash), hash);
    return this.#loose.kindOf(hash);
  }

  /** Hashes of stored objects that start with `prefix` (at least 2 hex characters). */
  async withPrefix(prefix: string): Promise<string[]> {
    await this.#packs.refresh();
    return [...new Set([...(await this.#loose.withPrefix(prefix)), ...this.#packs.withPrefix(prefix)])];
  }

  /** Every stored hash, loose and packed (each once). */
  async *all(): AsyncGenerator<string> {
    const seen = new Set<string>();
    for await (const hash of this.#loose.hashes()) {
      seen.add(hash);
      yield hash;
    }
    await this.#packs.refresh();
    for (const hash of this.#packs.ids()) {
      if (!seen.has(hash)) yield hash;
      seen.add(hash);
    }
  }

  /** Where a packed (or pending) object is, refreshing the packs once if needed. */
  async #packed(hash: string): Promise<{ length: number } | undefined> {
    await this.#packs.ready();
    return this.#packs.find(hash);
  }

  /**
   * A packed object's stored bytes (unchecked), read at once without a promise: the common
   * case of a read, which a data loader makes per sample. Undefined when the object is not
   * in a loaded pack (or may be in the open batch).
   */
  #packedNow(hash: string): Buffer | undefined {
    if (!this.#packs.loaded || this.#writer !== undefined) return undefined;
    const packed = this.#packs.find(hash);
    return packed === undefined ? undefined : this.#packs.read(packed);
  }

  /** An object's stored bytes, unchecked: the open batch, the packs, the loose file, then packs again. */
  async #stored(hash: string): Promise<Buffer> {
    if (this.#writer?.has(hash)) return (await this.#writer.read(hash)) as Buffer;
    if (!this.#packs.loaded) await this.#packs.refresh();
    const packed = this.#packs.find(hash);
    if (packed !== undefined) return this.#packs.read(packed);
    try {
      return await this.#loose.read(hash);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw cause;
      await this.#packs.refresh();
      const late = this.#packs.find(hash);
      if (late !== undefined) return this.#packs.read(late);
      throw new LarderError('NotFound', `Stock object ${hash.slice(0, 12)} is missing from this repository`, {
        data: { hash },
        cause,
      });
    }
  }

  /** A small tensor written inside a batch: encoded straight into the open pack, hashed there. */
  async #putPacked(head: Uint8Array, payload: Uint8Array, size: number): Promise<string> {
    this.#writer ??= new PackWriter(this.#scratch);
    const slot = this.#writer.reserve(size);
    slot.bytes.set(head, 0);
    slot.bytes.set(payload, head.byteLength);
    const hash = oneShotHash('sha256', slot.bytes, 'hex');
    if (this.#packs.find(hash) !== undefined) {
      this.#writer.release(slot);
      return hash;
    }
    const waiting = this.#writer.commit(slot, hash);
    if (waiting !== undefined) await waiting;
    if (this.#writer.size >= LARGEST_PACK_BYTES) await this.sealBatch();
    return hash;
  }

  async #put(object: EncodedObject, options: PutOptions = {}): Promise<string> {
    if (this.#batch && !options.loose && object.size < PACK_OBJECT_LIMIT) {
      if (this.#writer?.has(object.hash) || this.#packs.find(object.hash) !== undefined) return object.hash;
      this.#writer ??= new PackWriter(this.#scratch);
      await this.#writer.add(object.hash, object.chunks, object.size);
      if (this.#writer.size >= LARGEST_PACK_BYTES) await this.sealBatch();
      return object.hash;
    }
    await this.#loose.write(object, options.durable ?? this.#durable);
    return object.hash;
  }
}

function assertHash(hash: string): void {
  if (!HASH_PATTERN.test(hash)) {
    throw new LarderError(
      'BadRequest',
      `"${String(hash).slice(0, 80)}" is not an object hash (64 lowercase hex characters)`,
    );
  }
}

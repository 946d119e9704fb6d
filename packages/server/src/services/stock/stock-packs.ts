/**
 * Packs of small stock objects pushed to a repository. A pack travels as one blob (uploaded,
 * resumable and hash-checked, through `PUT /blobs`), then is registered here: the server walks
 * it, checks every object against its id, writes its own index of it as a second blob, makes
 * the repository hold both (blob references, so garbage collection keeps them) and records
 * `stock-packs` `{ repo, pack, index, objects, bytes }`. A repository holds every object of
 * its packs; indexes are kept in memory (they never change) for lookups.
 */
import { Readable } from 'node:stream';
import { eq, LarderError } from '@larder/protocol';
import type { Actor } from '../../auth/actor.js';
import { canReadBlob } from '../../auth/blob-access.js';
import type { BlobStore } from '../../blobs/blob-store.js';
import { startBlobBatch } from '../../blobs/blob-store-batch.js';
import { BlobReferences } from '../../blobs/lifecycle/blob-references.js';
import { recordUpload, survivesCollection } from '../../blobs/lifecycle/blob-uploads.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { repositoryOwner, STOCK_PACKS } from './stock-names.js';
import {
  encodePackIndex,
  findIdInPackIndex,
  indexCount,
  type PackEntry,
  type PackVerifier,
  rawId,
  verifyPackStream,
} from './stock-pack-format.js';

/** One pack may be this large; clients send packs of at most 256 MiB. */
export const MAX_PACK_BYTES = 1024 * 1024 * 1024;
const INDEX_CACHE_BYTES = 256 * 1024 * 1024;
/** Entries (by hex id) kept of the packs this process verified, at most this many in all (~150 B each). */
const ENTRY_CACHE_COUNT = 500_000;

export interface StockPackRecord {
  pack: string;
  index: string;
  objects: number;
  bytes: number;
}

export interface PackedLocation extends PackEntry {
  pack: string;
}

export class StockPacks {
  private readonly references: BlobReferences;
  private readonly indexes = new Map<string, Buffer>();
  private cachedBytes = 0;
  /**
   * The entries of packs this process verified, by pack: exactly what their indexes say (the
   * index is encoded from them), so a lookup is one `Map.get` instead of a search.
   */
  private readonly verified = new Map<string, ReadonlyMap<string, PackEntry>>();
  private verifiedCount = 0;

  constructor(
    private readonly store: DocumentStore,
    private readonly blobs: BlobStore,
  ) {
    this.references = new BlobReferences(store);
  }

  /**
   * Verifies an uploaded pack and makes repository `repo` hold it. The caller must have
   * uploaded the pack (a blob claim) and be allowed to push to `repo` (checked by the route).
   */
  async register(actor: Actor, repo: string, pack: string, pusher: string | null): Promise<StockPackRecord> {
    const existing = await this.record(repo, pack);
    if (existing) return existing;
    const info = await this.blobs.stat(pack);
    if (info === undefined || !(await canReadBlob(this.store, actor, pack))) {
      throw new LarderError(
        'NotFound',
        `No uploaded stock pack ${pack.slice(0, 12)}: upload it first (PUT /blobs/<sha256>)`,
      );
    }
    return this.verifyAndRecord(repo, pack, info.size, pusher);
  }

  /**
   * Stores and registers a pack the route is receiving (`PUT /stock-packs/<repo>/<pack>`,
   * from a caller who may push to `repo`): `body` is the pack's bytes, which pass through
   * `verifier` on their way in, so the pack is checked as it is stored rather than read back.
   * The pack and its index are stored as one batch (made durable together), and only when
   * the bytes hash to `pack` and every object checks: a refused pack leaves nothing behind.
   */
  async receive(
    repo: string,
    pack: string,
    body: Readable,
    verifier: PackVerifier,
    maxBytes: number,
    pusher: string | null,
  ): Promise<StockPackRecord> {
    const batch = startBlobBatch(this.blobs);
    let stored: { size: number; entries: Map<string, PackEntry>; index: string; indexBytes: Buffer };
    try {
      const { size } = await batch.add(body, { expectedSha256: pack, maxBytes });
      const entries = verifier.finish();
      const indexBytes = encodePackIndex(entries, pack, size);
      const { sha256: index } = await batch.add(Readable.from([indexBytes]));
      await batch.commit();
      stored = { size, entries, index, indexBytes };
    } catch (error) {
      await batch.abort().catch(() => {});
      throw error;
    }
    await recordUpload(this.store, pack);
    await recordUpload(this.store, stored.index);
    this.keepEntries(pack, stored.entries);
    return this.hold(repo, pack, stored.index, stored.indexBytes, stored.entries.size, stored.size, pusher);
  }

  private async verifyAndRecord(
    repo: string,
    pack: string,
    size: number,
    pusher: string | null,
  ): Promise<StockPackRecord> {
    if (size > MAX_PACK_BYTES) {
      throw new LarderError(
        'PayloadTooLarge',
        `A stock pack may hold at most ${MAX_PACK_BYTES} bytes; send smaller ones`,
      );
    }
    const entries = await verifyPackStream(await this.blobs.get(pack), size);
    const indexBytes = encodePackIndex(entries, pack, size);
    const index = await this.blobs.put(Readable.from([indexBytes]));
    await recordUpload(this.store, index.sha256);
    this.keepEntries(pack, entries);
    return this.hold(repo, pack, index.sha256, indexBytes, entries.size, size, pusher);
  }

  /** Makes repository `repo` hold a stored, verified pack and its index, and records it. */
  private async hold(
    repo: string,
    pack: string,
    index: string,
    indexBytes: Buffer,
    objects: number,
    size: number,
    pusher: string | null,
  ): Promise<StockPackRecord> {
    const added = await this.references.add(repositoryOwner(repo), [pack, index]);
    // Both, whether this call added their reference or found it there.
    for (const sha256 of [pack, index]) {
      if (!(await survivesCollection(this.store, this.blobs, sha256))) {
        await this.references.remove(added);
        throw new LarderError('Unavailable', 'The pack was garbage-collected while it was registered: push again');
      }
    }
    const now = new Date().toISOString();
    const record: StoredDocument = {
      _id: `${repo}:${pack}`,
      repo,
      pack,
      index,
      objects,
      bytes: size,
      pushedBy: pusher,
      createdAt: now,
      updatedAt: now,
    };
    await this.store.ensureCollection(STOCK_PACKS);
    try {
      await this.store.insert(STOCK_PACKS, [record]);
    } catch (error) {
      if (!(error instanceof LarderError && error.name === 'Conflict')) throw error;
    }
    this.remember(index, indexBytes);
    return summary(record);
  }

  /** The packs repository `repo` holds (its readers may list and download them). */
  async packsOf(repo: string): Promise<StockPackRecord[]> {
    await this.store.ensureCollection(STOCK_PACKS);
    const records = await this.store.find(STOCK_PACKS, { filter: eq(['repo'], repo) });
    return records.map(summary);
  }

  async record(repo: string, pack: string): Promise<StockPackRecord | undefined> {
    await this.store.ensureCollection(STOCK_PACKS);
    const [record] = await this.store.find(STOCK_PACKS, { filter: eq(['_id'], `${repo}:${pack}`), limit: 1 });
    return record ? summary(record) : undefined;
  }

  /** Where the repository's packs hold each of `hashes` (those in none are left out). */
  async locate(repo: string, hashes: Iterable<string>): Promise<Map<string, PackedLocation>> {
    const found = new Map<string, PackedLocation>();
    const packs = await this.packsOf(repo);
    if (packs.length === 0) return found;
    const searched = await Promise.all(
      packs.map(async (record) => {
        const entries = this.verified.get(record.pack);
        return { pack: record.pack, entries, index: entries ? undefined : await this.index(record.index) };
      }),
    );
    const id = Buffer.alloc(32);
    for (const hash of hashes) {
      if (found.has(hash)) continue;
      // The hash is converted once, whatever the number of packs searched through their index.
      let converted = false;
      for (const { pack, entries, index } of searched) {
        let entry: PackEntry | undefined;
        if (entries) entry = entries.get(hash);
        else {
          if (!converted && !rawId(hash, id)) break;
          converted = true;
          entry = findIdInPackIndex(index as Buffer, id);
        }
        if (entry) {
          found.set(hash, { pack, offset: entry.offset, length: entry.length });
          break;
        }
      }
    }
    return found;
  }

  /** The bytes of a packed object (checked against its id when the pack was registered). */
  async read(location: PackedLocation): Promise<Buffer> {
    const range = { start: location.offset, end: location.offset + location.length - 1 };
    const chunks: Buffer[] = [];
    for await (const chunk of await this.blobs.get(location.pack, range)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** A packed object of repository `repo`, or undefined when its packs do not hold it. */
  async objectOf(repo: string, hash: string): Promise<Buffer | undefined> {
    const location = (await this.locate(repo, [hash])).get(hash);
    return location ? this.read(location) : undefined;
  }

  private async index(sha256: string): Promise<Buffer> {
    const cached = this.indexes.get(sha256);
    if (cached) return cached;
    const chunks: Buffer[] = [];
    for await (const chunk of await this.blobs.get(sha256)) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    indexCount(bytes);
    this.remember(sha256, bytes);
    return bytes;
  }

  /** Keeps a verified pack's entries for lookups, dropping the oldest packs' past the cap. */
  private keepEntries(pack: string, entries: ReadonlyMap<string, PackEntry>): void {
    if (entries.size > ENTRY_CACHE_COUNT || this.verified.has(pack)) return;
    while (this.verifiedCount + entries.size > ENTRY_CACHE_COUNT) {
      const [oldest] = this.verified;
      if (!oldest) break;
      this.verified.delete(oldest[0]);
      this.verifiedCount -= oldest[1].size;
    }
    this.verified.set(pack, entries);
    this.verifiedCount += entries.size;
  }

  private remember(sha256: string, bytes: Buffer): void {
    if (bytes.length > INDEX_CACHE_BYTES) return;
    while (this.cachedBytes + bytes.length > INDEX_CACHE_BYTES) {
      const [oldest] = this.indexes;
      if (!oldest) break;
      this.indexes.delete(oldest[0]);
      this.cachedBytes -= oldest[1].length;
    }
    if (!this.indexes.has(sha256)) this.cachedBytes += bytes.length;
    this.indexes.set(sha256, bytes);
  }
}

function summary(record: StoredDocument): StockPackRecord {
  return {
    pack: String(record.pack),
    index: String(record.index),
    objects: Number(record.objects),
    bytes: Number(record.bytes),
  };
}

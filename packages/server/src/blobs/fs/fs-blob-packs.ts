/**
 * Small blobs of a batch packed together: one file per commit, `<root>/packs/<id>.pack`,
 * holding the blobs one after the other, each behind a header of its own (`pack-format.ts`),
 * and an index, the SQLite database `<root>/packs/index.db` (`pack-index.ts`), saying where
 * each is (hash -> pack, offset, size) and how many of each pack's bytes are still live.
 * Creating a file per small blob costs the kernel ~60 syscalls (open, write, fsync, link,
 * unlink, stat, a share of a directory sync): a form of a thousand thumbnails is one write,
 * one fsync of the pack and its directory, and one index transaction instead.
 *
 * Durability: a pack is written and fsynced (its directory too) before its rows are committed,
 * in one transaction, so a blob is never visible before its bytes are on disk; the commit is
 * answered only once the index's write-ahead log is fsynced too (`durable`), so an
 * acknowledged blob survives a power cut. A crash in between leaves a pack no row names, which
 * the next `open()` removes.
 *
 * Rewriting packs, one at a time in the background: a pack whose live bytes fall under half
 * its size after deletes is compacted, and once enough small packs gather (a commit each) they
 * are merged (`pack-merging.ts`); either way the live blobs are copied into a new pack, synced,
 * their rows moved in one transaction, and the old packs unlinked. A pack with no blob left is
 * unlinked at once. Readers hold their pack's descriptor until their stream ends, so a `get`
 * answered before a rewrite or an unlink still completes.
 *
 * A row whose pack is missing (removed by hand, a lost disk) still answers `stat`; `get` then
 * fails with a GeneralError naming the pack. An index that is missing while packs are there
 * (deleted by hand, or lost), or there but damaged (`pack-index-check.ts`: moved aside, kept),
 * is rebuilt from the packs' headers at `open()`, every blob checked against its hash; a blob
 * that does not check, and a pack's bytes from its first bad header on, are left out. Only
 * one store repairs at a time, and none under another store using the index
 * (`pack-index-lock.ts`).
 *
 * @example
 * const packs = new FsBlobPacks(root);
 * await packs.open();
 * const created = await packs.store([{ sha256, size, bytes }], async () => false);
 * (await packs.read(sha256, 0, size))?.pipe(response);
 */
import * as fs from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { LarderError } from '@larder/protocol';
import { closeDescriptor, exists, removeFileIfPresent, syncDirectory, writeNewFile } from './durable-files.js';
import type { HeldBlob } from './fs-blob-writes.js';
import { errorCode, toStoreError } from './fs-errors.js';
import { PACKED_HEADER_BYTES, packedHeader, readPackEntries } from './pack-format.js';
import {
  type Index,
  type IndexedBlob,
  indexPack,
  moveBlobs,
  openIndex,
  type PackedBlob,
  type PackRow,
  raisePackIds,
  reservePack,
} from './pack-index.js';
import { checkIndex, type IndexCheck, moveIndexAside } from './pack-index-check.js';
import { PackIndexLock } from './pack-index-lock.js';
import { MERGE_LIMITS, packsToMerge } from './pack-merging.js';
import { PackRangeStream, type PackReader, PackReaders, readEntries } from './pack-reads.js';

export type { PackedBlob } from './pack-index.js';

export interface FsBlobPacksOptions {
  /** Told what the store repaired (an index damaged or lost, rebuilt); a process warning by default. */
  onWarning?: (message: string) => void;
}

const PACK_NAME = /^(\d+)\.pack$/;
const LIST_PAGE = 1000;

/**
 * A pack no row names is looked at once it is this old (see `reclaimOrphan`); a younger one may
 * be a commit under way in another process sharing the folder (its pack is written before its
 * rows).
 */
const ORPHAN_AGE_MS = 10 * 60_000;

/** The directory of packs and their index. */
export function packsDirectory(root: string): string {
  return join(root, 'packs');
}

function packPath(root: string, pack: number): string {
  return join(packsDirectory(root), `${pack}.pack`);
}

function indexPath(root: string): string {
  return join(packsDirectory(root), 'index.db');
}

export class FsBlobPacks {
  private index: Index | undefined;
  /** Held shared from the first time the packs directory is seen (see `PackIndexLock`). */
  private lock: PackIndexLock | undefined;
  /** The index being created by the first commit that packs anything. */
  private creating: Promise<Index> | undefined;
  private readonly readers: PackReaders;
  /** Packs queued for compaction, and whether a merge is queued (not yet started). */
  private readonly queued = new Set<number>();
  private mergeQueued = false;
  private compactions: Promise<void> = Promise.resolve();
  private opened = false;
  /** Index commits made, and how many of them are known fsynced (see `durable`). */
  private committed = 0;
  private synced = 0;
  private syncing: Promise<void> | undefined;
  private readonly warn: (message: string) => void;

  constructor(
    private readonly root: string,
    options: FsBlobPacksOptions = {},
  ) {
    this.warn = options.onWarning ?? ((message) => process.emitWarning(message, 'LarderWarning'));
    this.readers = new PackReaders((pack) => packPath(root, pack));
  }

  /**
   * Opens the index when the store has one (a store that never packed a blob gets none until
   * its first pack), repairing it when damaged or lost (see the module's header), removes packs
   * no row names once they are old (a crash before their index commit), and queues the
   * rewrites that packs left under half live, or many and small, call for.
   */
  async open(): Promise<void> {
    this.opened = true;
    const directory = packsDirectory(this.root);
    if (!(await exists(directory))) return;
    try {
      this.lock = PackIndexLock.open(directory);
      const found = await packFiles(directory);
      const check = await checkIndex(indexPath(this.root), found.length > 0);
      if (check.state === 'usable') await this.adopt(check.index, found);
      else if (check.state === 'damaged' || found.length > 0) await this.repair(check);
    } catch (error) {
      // A store that failed to open holds nothing: no lock that would stop another's repair.
      await this.close();
      throw error;
    }
  }

  /** Waits for the rewrites under way, then closes the index, the lock and every pack descriptor. */
  async close(): Promise<void> {
    this.opened = false;
    await this.settled();
    await this.creating?.catch(() => undefined);
    this.readers.retireAll();
    await this.syncing?.catch(() => undefined);
    const index = this.index;
    this.index = undefined;
    index?.db.close();
    if (index?.walDescriptor !== undefined) await closeDescriptor(index.walDescriptor).catch(() => undefined);
    // Released only once the index is closed (its last checkpoint written).
    this.lock?.close();
    this.lock = undefined;
    this.creating = undefined;
  }

  /** Resolves once every rewrite queued so far, and every one those queue in turn, has ended. */
  async settled(): Promise<void> {
    for (let seen: Promise<void> | undefined; seen !== this.compactions; ) {
      seen = this.compactions;
      await seen;
    }
  }

  /** Where a packed blob lies, or undefined: one indexed lookup. */
  find(sha256: string): PackedBlob | undefined {
    return this.currentIndex()?.statements.find.get(sha256);
  }

  /**
   * The index, opened here once another store sharing the folder has made it: a store opened
   * before the folder held any pack would otherwise never see what the others pack. One `stat`
   * a lookup until then (a store that never packs, or shares with none, pays only that).
   */
  private currentIndex(): Index | undefined {
    if (this.index !== undefined || !this.opened || this.creating !== undefined) return this.index;
    const file = indexPath(this.root);
    if (!fs.existsSync(file)) return undefined;
    this.lock ??= PackIndexLock.open(packsDirectory(this.root));
    this.index = openIndex(file);
    return this.index;
  }

  /**
   * Resolves once every index commit made so far is on disk: one fsync of the write-ahead log
   * on the pool, shared by the commits that wait on it together. An answer resting on a packed
   * row (a blob stored, or found already stored) waits on it first.
   */
  async durable(): Promise<void> {
    const target = this.committed;
    while (this.synced < target) {
      if (this.syncing === undefined) {
        const upTo = this.committed;
        this.syncing = this.syncWal().then(
          () => {
            this.synced = Math.max(this.synced, upTo);
            this.syncing = undefined;
          },
          (error: unknown) => {
            this.syncing = undefined;
            throw toStoreError(error, 'sync the pack index');
          },
        );
      }
      await this.syncing;
    }
  }

  /**
   * Resolves once every index row visible now is on disk, whoever committed it (this process
   * or another sharing the folder): for an answer resting on rows this call did not write.
   */
  async durableNow(): Promise<void> {
    this.committed += 1;
    await this.durable();
  }

  private async syncWal(): Promise<void> {
    const index = this.index;
    if (index === undefined) return;
    if (index.walDescriptor === undefined) {
      const fd = await new Promise<number>((resolve, reject) =>
        fs.open(index.wal, 'r+', (error, opened) => (error ? reject(error) : resolve(opened))),
      );
      if (this.index !== index || index.walDescriptor !== undefined) await closeDescriptor(fd);
      else index.walDescriptor = fd;
    }
    const fd = index.walDescriptor;
    if (fd === undefined) return;
    await new Promise<void>((resolve, reject) => fs.fsync(fd, (error) => (error ? reject(error) : resolve())));
  }

  /** Notes a committed index transaction, made durable by the next `durable()`. */
  private wrote(): void {
    this.committed += 1;
  }

  /**
   * Packs `held` into one new pack, answering for each whether it was created: false for a
   * blob already packed, found loose by `isLoose`, or held twice (its first copy counts). The
   * pack and its directory are fsynced before the index commit that makes the blobs visible.
   */
  async store(held: readonly HeldBlob[], isLoose: (sha256: string) => Promise<boolean>): Promise<boolean[]> {
    const created = held.map(() => false);
    if (held.length === 0) return created;
    const index = await this.ensureIndex();
    const { statements } = index;
    const firsts = new Map<string, number>();
    held.forEach((blob, at) => {
      if (!firsts.has(blob.sha256) && statements.find.get(blob.sha256) === undefined) firsts.set(blob.sha256, at);
    });
    const loose = await Promise.all([...firsts.keys()].map(isLoose));
    const fresh = [...firsts.values()].filter((_, at) => !loose[at]);
    if (fresh.length === 0) {
      // Found packed by a commit that may still be syncing its index (here or in another
      // process): answered once those rows are durable.
      await this.durableNow();
      return created;
    }
    const pack = reservePack(index);
    const path = packPath(this.root, pack);
    const offsets: number[] = [];
    const pieces: Buffer[] = [];
    let size = 0;
    for (const at of fresh) {
      const blob = held[at] as HeldBlob;
      pieces.push(packedHeader(blob.sha256, blob.size), blob.bytes);
      offsets.push(size + PACKED_HEADER_BYTES);
      size += PACKED_HEADER_BYTES + blob.size;
    }
    let rows: PackRow;
    try {
      await writeNewFile(path, pieces, true);
      await syncDirectory(packsDirectory(this.root));
      const entries = fresh.map((at, position) => {
        const blob = held[at] as HeldBlob;
        return { sha256: blob.sha256, offset: offsets[position] as number, size: blob.size };
      });
      // A commit running alongside may have packed some of the same bytes meanwhile.
      const indexed = indexPack(index, pack, size, entries);
      fresh.forEach((at, position) => {
        if (indexed.inserted[position]) created[at] = true;
      });
      rows = indexed.row;
    } catch (error) {
      await removeFileIfPresent(path).catch(() => undefined);
      throw toStoreError(error, 'store a pack of small blobs');
    }
    this.wrote();
    await this.durable();
    await this.settleNewPack(pack, rows);
    return created;
  }

  /**
   * Streams `length` bytes of a packed blob from `start`, or answers undefined when it is not
   * packed. The stream holds the pack's descriptor until it ends or is destroyed.
   */
  async read(sha256: string, start: number, length: number): Promise<Readable | undefined> {
    for (let attempt = 0; ; attempt += 1) {
      const located = this.find(sha256);
      if (located === undefined) return undefined;
      let reader: PackReader;
      try {
        reader = await this.readers.acquire(located.pack);
      } catch (error) {
        // A compaction may have moved the blob and unlinked its pack between the lookup and the open.
        const moved = this.find(sha256);
        if (errorCode(error) === 'ENOENT' && attempt < 3 && moved?.pack !== located.pack) continue;
        throw new LarderError(
          'GeneralError',
          `Blob ${sha256} is recorded in pack ${located.pack}, which cannot be read: ` +
            `${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
      return new PackRangeStream(reader, located.offset + start, length, sha256, located.pack, () =>
        this.readers.release(reader),
      );
    }
  }

  /**
   * Deletes a packed blob, answering whether it was packed. Its pack is unlinked once it holds
   * no blob, or queued for compaction once under half live.
   */
  async delete(sha256: string): Promise<boolean> {
    const index = this.currentIndex();
    if (index === undefined) return false;
    const { db, statements } = index;
    const outcome = db.transaction(() => {
      const located = statements.find.get(sha256);
      if (located === undefined) return undefined;
      statements.deleteBlob.run(sha256);
      const pack = statements.lowerPack.get(PACKED_HEADER_BYTES + located.size, located.pack);
      if (pack !== undefined && pack.blobs <= 0) statements.deletePack.run(located.pack);
      return { id: located.pack, pack };
    })();
    if (outcome === undefined) return false;
    this.wrote();
    const { id, pack } = outcome;
    if (pack === undefined || pack.blobs <= 0) {
      // The rows' removal durable first: a power cut must not leave rows naming a removed pack.
      await this.durable();
      this.readers.retire(id);
      await removeFileIfPresent(packPath(this.root, id));
    } else if (pack.live * 2 < pack.size) this.scheduleCompaction(id);
    return true;
  }

  /** Every packed hash, in ascending order, read a page at a time. */
  async *list(): AsyncGenerator<string> {
    let after = '';
    for (;;) {
      const page = this.currentIndex()?.statements.listPage.all(after, LIST_PAGE) ?? [];
      for (const hash of page) yield hash;
      if (page.length < LIST_PAGE) return;
      after = page[page.length - 1] as string;
    }
  }

  private ensureIndex(): Promise<Index> {
    if (this.index) return Promise.resolve(this.index);
    this.creating ??= (async () => {
      const directory = packsDirectory(this.root);
      await mkdir(directory, { recursive: true });
      this.lock ??= PackIndexLock.open(directory);
      const index = openIndex(indexPath(this.root));
      // The directory's entry in the root and the database's own files in it, made durable once.
      await syncDirectory(directory);
      await syncDirectory(this.root);
      this.index = index;
      return index;
    })();
    this.creating.catch(() => {
      this.creating = undefined;
    });
    return this.creating;
  }

  /**
   * A usable index found at open: packs no row names (or whose row counts no blob) are
   * reclaimed once old, and the rewrites it calls for are queued.
   */
  private async adopt(index: Index, found: readonly number[]): Promise<void> {
    this.index = index;
    const packs = index.statements.allPacks.all();
    const known = new Map(packs.map((row) => [row.id, row]));
    raisePackIds(index, [...found, ...packs.map((row) => row.id)]);
    for (const pack of found) {
      const row = known.get(pack);
      if (row === undefined || row.blobs === 0) await this.reclaimOrphan(index, pack, row !== undefined);
    }
    for (const row of packs) {
      if (row.blobs > 0 && row.live * 2 < row.size) this.scheduleCompaction(row.id);
    }
    this.scheduleMerge();
  }

  /**
   * An old pack no row names. Most often a crash's leftover: a pack written before the
   * transaction that would have indexed it, or one whose blobs were all moved or deleted before
   * its file was removed. But an index older than its packs (restored from a copy, or commits
   * the disk lost) leaves acknowledged blobs in such packs too, so the pack is never removed
   * unread: its blobs the index does not name are indexed again, each checked against its hash,
   * as a rebuild does (one deleted before comes back, for the garbage collector to take again),
   * and only a pack left with none is removed.
   */
  private async reclaimOrphan(index: Index, pack: number, hasRow: boolean): Promise<void> {
    const path = packPath(this.root, pack);
    const info = await stat(path).catch(() => undefined);
    if (info === undefined || Date.now() - info.mtimeMs <= ORPHAN_AGE_MS) return;
    const entries = await readPackEntries(path);
    const { row } = index.db.transaction(() => {
      if (hasRow) index.statements.deletePack.run(pack);
      return indexPack(index, pack, entries.size, entries.valid);
    })();
    this.wrote();
    await this.durable();
    if (row.blobs > 0) {
      this.warn(
        `Pack ${path} held ${row.blobs} blobs its index did not name (an index older than its packs?): ` +
          'indexed again, each checked against its hash.',
      );
    }
    await this.settleNewPack(pack, row);
  }

  /**
   * Moves a damaged index aside and rebuilds it from the packs (or rebuilds a lost one), under
   * the exclusive lock: with another store on the folder, the index is its to go on using,
   * and this one fails to open with a sentence saying what to do.
   */
  private async repair(first: Exclude<IndexCheck, { state: 'usable' }>): Promise<void> {
    const lock = this.lock as PackIndexLock;
    const file = indexPath(this.root);
    if (!lock.tryExclusive()) {
      // The lock is shared again, after any repair under way elsewhere: that one may have mended it.
      const found = await packFiles(packsDirectory(this.root));
      const check = await checkIndex(file, found.length > 0);
      if (check.state === 'usable') return this.adopt(check.index, found);
      if (check.state === 'missing' && found.length === 0) return;
      throw new LarderError(
        'Unavailable',
        `The pack index ${file} is ${explain(first)}, but another Larder store has this folder open, so ` +
          `it is not repaired under it: stop every server using ${this.root}, then start one alone; it ` +
          'will move the index aside and rebuild it from the packs.',
      );
    }
    try {
      // Checked again under the lock: another store may have repaired it since the first look.
      const found = await packFiles(packsDirectory(this.root));
      const check = await checkIndex(file, found.length > 0);
      if (check.state === 'usable') return await this.adopt(check.index, found);
      if (check.state === 'missing' && found.length === 0) return;
      const moved = await moveIndexAside(file);
      this.warn(
        `The pack index ${file} is ${explain(check)}` +
          (moved.length > 0 ? `; moved aside to ${moved.join(', ')} (kept, not deleted)` : '') +
          `. Rebuilding it from the ${found.length} packs, every blob checked against its hash.`,
      );
      await this.rebuild(file, found);
    } finally {
      lock.share();
    }
  }

  private scheduleCompaction(pack: number): void {
    if (this.queued.has(pack)) return;
    this.queued.add(pack);
    this.enqueue(async () => {
      try {
        await this.compact(pack);
      } finally {
        this.queued.delete(pack);
      }
    });
  }

  private scheduleMerge(): void {
    if (this.mergeQueued) return;
    this.mergeQueued = true;
    this.enqueue(() => {
      // Queued again by a commit from now on: this merge may not see that commit's pack.
      this.mergeQueued = false;
      return this.mergeSmallPacks();
    });
  }

  /** Runs `rewrite` after every one queued before it: one rewrite at a time, in the background. */
  private enqueue(rewrite: () => Promise<void>): void {
    this.compactions = this.compactions.then(rewrite).catch(() => {
      // A failed rewrite leaves its packs as they were, every blob in them readable: it is
      // tried again when a later delete or commit calls for it, or at the next open.
    });
  }

  /** Rewrites a pack left under half live after deletes. */
  private async compact(pack: number): Promise<void> {
    const index = this.index;
    if (!this.opened || index === undefined) return;
    const row = index.statements.findPack.get(pack);
    if (row === undefined || row.blobs <= 0 || row.live * 2 >= row.size) return;
    await this.rewrite(index, [pack]);
  }

  /** Merges the oldest small packs into one, once there are enough of them (`packsToMerge`). */
  private async mergeSmallPacks(): Promise<void> {
    const index = this.index;
    if (!this.opened || index === undefined) return;
    const small = index.statements.smallPacks.all(MERGE_LIMITS.smallPackBytes, MERGE_LIMITS.packsPerMerge);
    const chosen = packsToMerge(small);
    if (chosen.length === 0) return;
    await this.rewrite(index, chosen);
    // More small packs than one merge takes: the next goes on with them (a look, if none).
    this.scheduleMerge();
  }

  /**
   * Copies the live blobs of `packs` into one new pack, synced with its directory, moves their
   * rows there in one transaction, and unlinks the old packs once the move is durable. A read
   * that looked a blob up before the move holds its old pack's descriptor, or finds the pack
   * gone and looks again (`read`).
   */
  private async rewrite(index: Index, packs: readonly number[]): Promise<void> {
    const sources: { pack: number; blobs: IndexedBlob[] }[] = [];
    const pieces: Buffer[] = [];
    for (const pack of packs) {
      const blobs = index.statements.packBlobs.all(pack);
      const copied = blobs.length > 0 ? await this.copyLive(pack, blobs) : undefined;
      if (copied === undefined) continue;
      sources.push({ pack, blobs });
      pieces.push(...copied);
    }
    if (sources.length === 0) return;
    const target = reservePack(index);
    const path = packPath(this.root, target);
    let moved: PackRow;
    try {
      await writeNewFile(path, pieces, true);
      await syncDirectory(packsDirectory(this.root));
      moved = moveBlobs(index, target, sources);
    } catch (error) {
      await removeFileIfPresent(path).catch(() => undefined);
      throw error;
    }
    // The moved rows durable before the old packs go.
    this.wrote();
    await this.durable();
    for (const { pack } of sources) {
      this.readers.retire(pack);
      await removeFileIfPresent(packPath(this.root, pack));
    }
    await this.settleNewPack(target, moved);
  }

  /**
   * The live blobs of `pack`, each with its header, or undefined when the pack cannot be
   * found (unlinked since it was chosen, by a delete or another store's rewrite, or lost): it
   * is left out, its rows as they are.
   */
  private async copyLive(pack: number, blobs: readonly IndexedBlob[]): Promise<Buffer[] | undefined> {
    let reader: PackReader;
    try {
      reader = await this.readers.acquire(pack);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw error;
    }
    try {
      return await readEntries(reader.fd, blobs);
    } finally {
      this.readers.release(reader);
    }
  }

  /**
   * Indexes the packs again from their headers (the index file is gone): each blob read and
   * checked against its hash (one that does not check is left out), a pack's entries from its
   * first bad header on left out (a pack a crash cut short), a hash in two packs indexed once.
   * A pack left with nothing is removed; a blob deleted before the index was lost comes back,
   * for the garbage collector to take again.
   */
  private async rebuild(file: string, packs: readonly number[]): Promise<void> {
    const index = openIndex(file);
    this.index = index;
    raisePackIds(index, packs);
    for (const pack of [...packs].sort((a, b) => a - b)) {
      const entries = await readPackEntries(packPath(this.root, pack));
      const { row } = indexPack(index, pack, entries.size, entries.valid);
      this.wrote();
      await this.settleNewPack(pack, row);
    }
    await this.durable();
    await syncDirectory(packsDirectory(this.root));
  }

  /**
   * A pack just indexed or written by a rewrite: removed when it holds nothing (every blob
   * packed already, or deleted since the copy), queued for compaction when under half live,
   * and for a merge when small.
   */
  private async settleNewPack(pack: number, row: PackRow): Promise<void> {
    if (row.blobs === 0) await removeFileIfPresent(packPath(this.root, pack));
    else if (row.live * 2 < row.size) this.scheduleCompaction(pack);
    else if (row.size < MERGE_LIMITS.smallPackBytes) this.scheduleMerge();
  }
}

/** What `IndexCheck` found wrong, as a sentence's end. */
function explain(check: Exclude<IndexCheck, { state: 'usable' }>): string {
  return check.state === 'damaged' ? `damaged (${check.reason})` : 'missing while packs are there';
}

async function packFiles(directory: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
  return names.flatMap((name) => {
    const match = PACK_NAME.exec(name);
    return match ? [Number(match[1])] : [];
  });
}

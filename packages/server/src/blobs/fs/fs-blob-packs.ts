/**
 * Small blobs of a batch packed together: one file per commit, `<root>/packs/<id>.pack`,
 * holding the blobs one after the other, each behind a header of its own (`LBP1`, its size,
 * its raw SHA-256: 48 bytes), and an index, the SQLite database
 * `<root>/packs/index.db`, saying where each is (hash -> pack, offset, size) and how many of
 * each pack's bytes are still live. Creating a file per small blob costs the kernel ~60
 * syscalls (open, write, fsync, link, unlink, stat, a share of a directory sync): a form of a
 * thousand thumbnails is one write, one fsync of the pack and its directory, and one index
 * transaction instead.
 *
 * Durability: a pack is written and fsynced (its directory too) before its rows are committed,
 * in one transaction, so a blob is never visible before its bytes are on disk; the commit is
 * answered only once the index's write-ahead log is fsynced too (`durable`), so an
 * acknowledged blob survives a power cut. A crash in between leaves a pack no row names, which
 * the next `open()` removes.
 *
 * Deleting: a blob's row goes and its pack's live bytes fall; a pack with no blob left is
 * unlinked, and one whose live bytes fall under half its size is compacted (its live blobs
 * copied to a new pack, synced, their rows moved in one transaction, the old pack unlinked),
 * one pack at a time in the background. Readers hold their pack's descriptor until their stream
 * ends, so a `get` answered before a compaction or an unlink still completes.
 *
 * A row whose pack is missing (removed by hand, a lost disk) still answers `stat`; `get` then
 * fails with a GeneralError naming the pack. An index that is missing while packs are there
 * (deleted by hand, or lost) is rebuilt from the packs' headers at `open()`, every blob
 * checked against its hash; a blob that does not check, and a pack's bytes from its first bad
 * header on, are left out.
 *
 * @example
 * const packs = new FsBlobPacks(root);
 * await packs.open();
 * const created = await packs.store([{ sha256, size, bytes }], async () => false);
 * (await packs.read(sha256, 0, size))?.pipe(response);
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LarderError } from '@larder/protocol';
import Database from 'better-sqlite3';
import { closeDescriptor, exists, removeFileIfPresent, syncDirectory, writeNewFile } from './durable-files.js';
import type { HeldBlob } from './fs-blob-writes.js';
import { errorCode, toStoreError } from './fs-errors.js';

/** Where a packed blob lies. */
export interface PackedBlob {
  pack: number;
  offset: number;
  size: number;
}

interface PackRow {
  size: number;
  live: number;
  blobs: number;
}

/** An open pack file, shared by the reads of it; closed once retired and no read holds it. */
interface PackReader {
  fd: number;
  refs: number;
  retired: boolean;
}

const PACK_NAME = /^(\d+)\.pack$/;
/** Each packed blob's header: magic, 4 bytes reserved (zero), size (u64), raw SHA-256. */
export const PACKED_HEADER_BYTES = 48;
const PACKED_MAGIC = Buffer.from('LBP1', 'latin1');
/** Pack descriptors kept open between reads (least recently used closed first). */
const KEPT_OPEN_PACKS = 64;
const LIST_PAGE = 1000;
const READ_BYTES = 64 * 1024;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS packs (
    id INTEGER PRIMARY KEY,
    size INTEGER NOT NULL,
    live INTEGER NOT NULL,
    blobs INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS blobs (
    hash TEXT PRIMARY KEY,
    pack INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    size INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS blobs_by_pack ON blobs (pack, offset);
  CREATE TABLE IF NOT EXISTS pack_ids (id INTEGER PRIMARY KEY AUTOINCREMENT);
`;

/**
 * A pack no row names is a crash's leftover once it is this old; a younger one may be a commit
 * under way in another process sharing the folder (its pack is written before its rows).
 */
const ORPHAN_AGE_MS = 10 * 60_000;

/** The directory of packs and their index. */
export function packsDirectory(root: string): string {
  return join(root, 'packs');
}

function packPath(root: string, pack: number): string {
  return join(packsDirectory(root), `${pack}.pack`);
}

function prepareStatements(db: Database.Database) {
  return {
    find: db.prepare<[string], PackedBlob>('SELECT pack, offset, size FROM blobs WHERE hash = ?'),
    insertBlob: db.prepare<[string, number, number, number]>(
      'INSERT OR IGNORE INTO blobs (hash, pack, offset, size) VALUES (?, ?, ?, ?)',
    ),
    deleteBlob: db.prepare<[string]>('DELETE FROM blobs WHERE hash = ?'),
    moveBlob: db.prepare<[number, number, string, number]>(
      'UPDATE blobs SET pack = ?, offset = ? WHERE hash = ? AND pack = ?',
    ),
    packBlobs: db.prepare<[number], { hash: string; offset: number; size: number }>(
      'SELECT hash, offset, size FROM blobs WHERE pack = ? ORDER BY offset',
    ),
    listPage: db
      .prepare<[string, number], string>('SELECT hash FROM blobs WHERE hash > ? ORDER BY hash LIMIT ?')
      .pluck(),
    insertPack: db.prepare<[number, number, number, number]>(
      'INSERT INTO packs (id, size, live, blobs) VALUES (?, ?, ?, ?)',
    ),
    findPack: db.prepare<[number], PackRow>('SELECT size, live, blobs FROM packs WHERE id = ?'),
    lowerPack: db.prepare<[number, number], PackRow>(
      'UPDATE packs SET live = live - ?, blobs = blobs - 1 WHERE id = ? RETURNING size, live, blobs',
    ),
    deletePack: db.prepare<[number]>('DELETE FROM packs WHERE id = ?'),
    allPacks: db.prepare<[], PackRow & { id: number }>('SELECT id, size, live, blobs FROM packs'),
    // Pack numbers come from the index, so that processes sharing the folder never pick the same.
    reservePackId: db.prepare<[], number>('INSERT INTO pack_ids DEFAULT VALUES RETURNING id').pluck(),
    dropPackId: db.prepare<[number]>('DELETE FROM pack_ids WHERE id = ?'),
    seedPackIds: db.prepare<[]>(
      "INSERT INTO sqlite_sequence (name, seq) SELECT 'pack_ids', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'pack_ids')",
    ),
    raisePackIds: db.prepare<[number]>("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'pack_ids'"),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

interface Index {
  db: Database.Database;
  statements: Statements;
  /** The database's write-ahead log, fsynced after commits (see `durable`). */
  wal: string;
  walDescriptor?: number;
}

export class FsBlobPacks {
  private index: Index | undefined;
  /** The index being created by the first commit that packs anything. */
  private creating: Promise<Index> | undefined;
  private readonly readers = new Map<number, Promise<PackReader>>();
  private readonly queued = new Set<number>();
  private compactions: Promise<void> = Promise.resolve();
  private opened = false;
  /** Index commits made, and how many of them are known fsynced (see `durable`). */
  private committed = 0;
  private synced = 0;
  private syncing: Promise<void> | undefined;

  constructor(private readonly root: string) {}

  /**
   * Opens the index when the store has one (a store that never packed a blob gets none until
   * its first pack), removes packs no row names once they are old (a crash before their index
   * commit), and queues the compaction of packs left under half live.
   */
  async open(): Promise<void> {
    const directory = packsDirectory(this.root);
    const file = join(directory, 'index.db');
    this.opened = true;
    const found = await packFiles(directory);
    if (!(await exists(file))) {
      // A crash before the first index commit, or an index lost: what the packs hold is
      // indexed again from their headers (a blob no upload confirmed is the collector's).
      if (found.length > 0) await this.rebuild(file, found);
      return;
    }
    const index = openIndex(file);
    this.index = index;
    const packs = index.statements.allPacks.all();
    const known = new Map(packs.map((row) => [row.id, row]));
    for (const pack of found) {
      const row = known.get(pack);
      if (row === undefined || row.blobs === 0) await removeIfOrphaned(packPath(this.root, pack));
    }
    for (const row of packs) {
      if (row.blobs > 0 && row.live * 2 < row.size) this.scheduleCompaction(row.id);
    }
    raisePackIds(index, [...found, ...packs.map((row) => row.id)]);
  }

  /** A pack number no process sharing the index has had or will have. */
  private reservePack(index: Index): number {
    const id = index.statements.reservePackId.get() as number;
    index.statements.dropPackId.run(id);
    return id;
  }

  /** Waits for the compactions under way, then closes the index and every pack descriptor. */
  async close(): Promise<void> {
    this.opened = false;
    await this.compactions;
    await this.creating?.catch(() => undefined);
    for (const pack of [...this.readers.keys()]) this.retire(pack);
    await this.syncing?.catch(() => undefined);
    const index = this.index;
    this.index = undefined;
    index?.db.close();
    if (index?.walDescriptor !== undefined) await closeDescriptor(index.walDescriptor).catch(() => undefined);
    this.creating = undefined;
  }

  /** Resolves once every compaction scheduled so far has ended. */
  settled(): Promise<void> {
    return this.compactions;
  }

  /** Where a packed blob lies, or undefined: one indexed lookup, no file touched. */
  find(sha256: string): PackedBlob | undefined {
    return this.index?.statements.find.get(sha256);
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
    const pack = this.reservePack(index);
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
        reader = await this.acquire(located.pack);
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
        this.release(reader),
      );
    }
  }

  /**
   * Deletes a packed blob, answering whether it was packed. Its pack is unlinked once it holds
   * no blob, or queued for compaction once under half live.
   */
  async delete(sha256: string): Promise<boolean> {
    const index = this.index;
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
      this.retire(id);
      await removeFileIfPresent(packPath(this.root, id));
    } else if (pack.live * 2 < pack.size) this.scheduleCompaction(id);
    return true;
  }

  /** Every packed hash, in ascending order, read a page at a time. */
  async *list(): AsyncGenerator<string> {
    let after = '';
    for (;;) {
      const page = this.index?.statements.listPage.all(after, LIST_PAGE) ?? [];
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
      const index = openIndex(join(directory, 'index.db'));
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

  private scheduleCompaction(pack: number): void {
    if (this.queued.has(pack)) return;
    this.queued.add(pack);
    this.compactions = this.compactions
      .then(() => this.compact(pack))
      // A failed compaction leaves the pack as it was, every blob in it readable: it is tried
      // again when a later delete lowers it, or at the next open.
      .catch(() => undefined)
      .finally(() => this.queued.delete(pack));
  }

  /** Copies a pack's live blobs into a new pack, moves their rows, and unlinks the old one. */
  private async compact(pack: number): Promise<void> {
    const index = this.index;
    if (!this.opened || index === undefined) return;
    const { db, statements } = index;
    const row = statements.findPack.get(pack);
    if (row === undefined || row.blobs <= 0 || row.live * 2 >= row.size) return;
    const blobs = statements.packBlobs.all(pack);
    const reader = await this.acquire(pack);
    const buffers: Buffer[] = [];
    try {
      // Each with its header, as it lies in the pack.
      for (const blob of blobs) {
        buffers.push(await readExactly(reader.fd, blob.offset - PACKED_HEADER_BYTES, PACKED_HEADER_BYTES + blob.size));
      }
    } finally {
      this.release(reader);
    }
    const target = this.reservePack(index);
    const path = packPath(this.root, target);
    let moved: PackRow;
    try {
      await writeNewFile(path, buffers, true);
      await syncDirectory(packsDirectory(this.root));
      moved = db.transaction(() => {
        let offset = 0;
        let live = 0;
        let count = 0;
        for (const blob of blobs) {
          const entry = PACKED_HEADER_BYTES + blob.size;
          // A blob deleted since the copy stays behind, and its bytes are dead in the new pack.
          if (statements.moveBlob.run(target, offset + PACKED_HEADER_BYTES, blob.hash, pack).changes === 1) {
            live += entry;
            count += 1;
          }
          offset += entry;
        }
        if (count > 0) statements.insertPack.run(target, offset, live, count);
        statements.deletePack.run(pack);
        return { size: offset, live, blobs: count };
      })();
    } catch (error) {
      await removeFileIfPresent(path).catch(() => undefined);
      throw error;
    }
    // The moved rows durable before the old pack goes.
    this.wrote();
    await this.durable();
    this.retire(pack);
    await removeFileIfPresent(packPath(this.root, pack));
    if (moved.blobs === 0) await removeFileIfPresent(path);
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

  /** A pack just indexed: removed when it holds nothing (every blob packed already), queued for compaction when under half live. */
  private async settleNewPack(pack: number, row: PackRow): Promise<void> {
    if (row.blobs === 0) await removeFileIfPresent(packPath(this.root, pack));
    else if (row.live * 2 < row.size) this.scheduleCompaction(pack);
  }

  /** The pack's shared reader, opened on first use; the caller releases it. */
  private async acquire(pack: number): Promise<PackReader> {
    for (;;) {
      let opening = this.readers.get(pack);
      if (opening === undefined) {
        opening = openReader(packPath(this.root, pack));
        this.readers.set(pack, opening);
        opening.catch(() => {
          if (this.readers.get(pack) === opening) this.readers.delete(pack);
        });
        this.trimReaders();
      } else {
        // Most recently used last, so that trimming closes the coldest.
        this.readers.delete(pack);
        this.readers.set(pack, opening);
      }
      const reader = await opening;
      if (reader.retired) continue;
      reader.refs += 1;
      return reader;
    }
  }

  private release(reader: PackReader): void {
    reader.refs -= 1;
    if (reader.retired && reader.refs === 0) void closeDescriptor(reader.fd).catch(() => undefined);
  }

  /** Drops a pack's reader from the cache: closed now if unused, else when its last read ends. */
  private retire(pack: number): void {
    const opening = this.readers.get(pack);
    if (opening === undefined) return;
    this.readers.delete(pack);
    opening.then(
      (reader) => {
        reader.retired = true;
        if (reader.refs === 0) void closeDescriptor(reader.fd).catch(() => undefined);
      },
      () => undefined,
    );
  }

  private trimReaders(): void {
    for (const pack of this.readers.keys()) {
      if (this.readers.size <= KEPT_OPEN_PACKS) return;
      this.retire(pack);
    }
  }
}

function openIndex(file: string): Index {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    // An acknowledged blob must survive a power cut, so each commit's WAL frames are fsynced
    // before it is answered: by `durable()`, on the pool, not by SQLite (`synchronous = FULL`),
    // whose fsync blocks the event loop for the disk's latency, ~11 ms a commit on the VM
    // measured (1.6 s of a 10 s run of 20,000 small files). NORMAL keeps the database
    // consistent and syncs at checkpoints; `durable()` adds the sync of each commit.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
    return { db, statements: prepareStatements(db), wal: `${file}-wal` };
  } catch (error) {
    db.close();
    throw error;
  }
}

async function openReader(path: string): Promise<PackReader> {
  const fd = await new Promise<number>((resolve, reject) =>
    fs.open(path, 'r', (error, opened) => (error ? reject(error) : resolve(opened))),
  );
  return { fd, refs: 0, retired: false };
}

function readAt(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.read(fd, buffer, offset, length, position, (error, bytes) => (error ? reject(error) : resolve(bytes))),
  );
}

async function readExactly(fd: number, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const bytes = await readAt(fd, buffer, done, length - done, position + done);
    if (bytes === 0) throw new Error(`the pack ends before byte ${position + length}`);
    done += bytes;
  }
  return buffer;
}

/** Positional reads of one range of a pack, through a descriptor shared with other reads. */
class PackRangeStream extends Readable {
  private position: number;
  private remaining: number;
  /** Whether a read is in flight: the descriptor is given back only once it has settled. */
  private reading = false;
  private released = false;

  constructor(
    private readonly reader: PackReader,
    start: number,
    length: number,
    private readonly sha256: string,
    private readonly pack: number,
    private readonly onRelease: () => void,
  ) {
    super({ highWaterMark: READ_BYTES });
    this.position = start;
    this.remaining = length;
  }

  override _read(size: number): void {
    if (this.remaining === 0) {
      this.push(null);
      return;
    }
    const length = Math.min(Math.max(size, READ_BYTES), this.remaining);
    const buffer = Buffer.allocUnsafe(length);
    this.reading = true;
    readAt(this.reader.fd, buffer, 0, length, this.position).then(
      (bytes) => {
        this.reading = false;
        if (this.destroyed) {
          this.releaseOnce();
          return;
        }
        if (bytes === 0) {
          this.destroy(new LarderError('GeneralError', `Blob ${this.sha256} is cut short in pack ${this.pack}.`));
          return;
        }
        this.position += bytes;
        this.remaining -= bytes;
        this.push(bytes === length ? buffer : buffer.subarray(0, bytes));
        if (this.remaining === 0) this.push(null);
      },
      (error: unknown) => {
        this.reading = false;
        if (this.destroyed) this.releaseOnce();
        else this.destroy(toStoreError(error, `read blob ${this.sha256}`));
      },
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.reading) this.releaseOnce();
    callback(error);
  }

  private releaseOnce(): void {
    if (this.released) return;
    this.released = true;
    this.onRelease();
  }
}

/**
 * Indexes the blobs of a written pack of `size` bytes in one transaction, each counted live
 * with its header; a hash already packed is skipped (`inserted` false). The pack's row is
 * written when any blob went in.
 */
function indexPack(
  index: Index,
  pack: number,
  size: number,
  entries: readonly { sha256: string; offset: number; size: number }[],
): { inserted: boolean[]; row: PackRow } {
  const { db, statements } = index;
  return db.transaction(() => {
    let live = 0;
    let blobs = 0;
    const inserted = entries.map((entry) => {
      if (statements.insertBlob.run(entry.sha256, pack, entry.offset, entry.size).changes === 0) return false;
      live += PACKED_HEADER_BYTES + entry.size;
      blobs += 1;
      return true;
    });
    if (blobs > 0) statements.insertPack.run(pack, size, live, blobs);
    return { inserted, row: { size, live, blobs } };
  })();
}

/** New pack numbers go past every one in `seen` (files and rows found at open). */
function raisePackIds(index: Index, seen: readonly number[]): void {
  index.statements.seedPackIds.run();
  index.statements.raisePackIds.run(seen.reduce((highest, id) => Math.max(highest, id), 0));
}

/** Removes a pack no row names once it is older than `ORPHAN_AGE_MS` (see there). */
async function removeIfOrphaned(path: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (info !== undefined && Date.now() - info.mtimeMs > ORPHAN_AGE_MS) await removeFileIfPresent(path);
}

/** A packed blob's header (`PACKED_HEADER_BYTES`). */
function packedHeader(sha256: string, size: number): Buffer {
  const header = Buffer.alloc(PACKED_HEADER_BYTES);
  PACKED_MAGIC.copy(header, 0);
  header.writeUInt32LE(size % 0x1_0000_0000, 8);
  header.writeUInt32LE(Math.floor(size / 0x1_0000_0000), 12);
  header.write(sha256, 16, 32, 'hex');
  return header;
}

/**
 * The blobs a pack's headers describe that check against their hash, up to the first header
 * that is not one (or a blob running past the end: a pack cut short).
 */
async function readPackEntries(
  path: string,
): Promise<{ size: number; valid: { sha256: string; offset: number; size: number }[] }> {
  const bytes = await fs.promises.readFile(path);
  const valid: { sha256: string; offset: number; size: number }[] = [];
  let at = 0;
  while (at + PACKED_HEADER_BYTES <= bytes.length) {
    if (!bytes.subarray(at, at + 4).equals(PACKED_MAGIC)) break;
    const size = bytes.readUInt32LE(at + 8) + bytes.readUInt32LE(at + 12) * 0x1_0000_0000;
    const offset = at + PACKED_HEADER_BYTES;
    if (offset + size > bytes.length) break;
    const sha256 = bytes.toString('hex', at + 16, at + 48);
    // Bytes that do not hash to their header's id are left out; the walk goes on past them.
    const actual = createHash('sha256')
      .update(bytes.subarray(offset, offset + size))
      .digest('hex');
    if (actual === sha256) valid.push({ sha256, offset, size });
    at = offset + size;
  }
  return { size: bytes.length, valid };
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

/**
 * The packs' index, the SQLite database `packs/index.db` (WAL): where each packed blob lies
 * (hash -> pack, offset, size), each pack's size and live bytes, and the pack numbers drawn so
 * far. Its writes are the few transactions a pack's life needs: a new pack indexed, a blob
 * deleted, blobs moved into a rewritten pack.
 */
import Database from 'better-sqlite3';
import { PACKED_HEADER_BYTES, type PackEntry } from './pack-format.js';

/** Where a packed blob lies. */
export interface PackedBlob {
  pack: number;
  offset: number;
  size: number;
}

export interface PackRow {
  size: number;
  live: number;
  blobs: number;
}

/** A pack's row, with its number. */
export type NumberedPack = PackRow & { id: number };

/** A packed blob as a compaction copies it: its hash and where it lies in its pack. */
export interface IndexedBlob {
  hash: string;
  offset: number;
  size: number;
}

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
  CREATE INDEX IF NOT EXISTS packs_by_size ON packs (size);
  CREATE TABLE IF NOT EXISTS pack_ids (id INTEGER PRIMARY KEY AUTOINCREMENT);
`;

type Statement<Parameters extends unknown[], Result = unknown> = Database.Statement<Parameters, Result>;

/** The index's statements, prepared once per connection. */
interface Statements {
  find: Statement<[string], PackedBlob>;
  insertBlob: Statement<[string, number, number, number]>;
  deleteBlob: Statement<[string]>;
  moveBlob: Statement<[number, number, string, number]>;
  packBlobs: Statement<[number], IndexedBlob>;
  listPage: Statement<[string, number], string>;
  insertPack: Statement<[number, number, number, number]>;
  findPack: Statement<[number], PackRow>;
  lowerPack: Statement<[number, number], PackRow>;
  deletePack: Statement<[number]>;
  allPacks: Statement<[], NumberedPack>;
  smallPacks: Statement<[number, number], NumberedPack>;
  reservePackId: Statement<[], number>;
  dropPackId: Statement<[number]>;
  seedPackIds: Statement<[]>;
  raisePackIds: Statement<[number]>;
}

function prepareStatements(db: Database.Database): Statements {
  return {
    find: db.prepare<[string], PackedBlob>('SELECT pack, offset, size FROM blobs WHERE hash = ?'),
    insertBlob: db.prepare<[string, number, number, number]>(
      'INSERT OR IGNORE INTO blobs (hash, pack, offset, size) VALUES (?, ?, ?, ?)',
    ),
    deleteBlob: db.prepare<[string]>('DELETE FROM blobs WHERE hash = ?'),
    moveBlob: db.prepare<[number, number, string, number]>(
      'UPDATE blobs SET pack = ?, offset = ? WHERE hash = ? AND pack = ?',
    ),
    packBlobs: db.prepare<[number], IndexedBlob>('SELECT hash, offset, size FROM blobs WHERE pack = ? ORDER BY offset'),
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
    allPacks: db.prepare<[], NumberedPack>('SELECT id, size, live, blobs FROM packs'),
    /** Packs under a size, oldest first: through `packs_by_size`, a few rows whatever the store holds. */
    smallPacks: db.prepare<[number, number], NumberedPack>(
      'SELECT id, size, live, blobs FROM packs INDEXED BY packs_by_size WHERE size < ? AND blobs > 0 ORDER BY id LIMIT ?',
    ),
    // Pack numbers come from the index, so that processes sharing the folder never pick the same.
    reservePackId: db.prepare<[], number>('INSERT INTO pack_ids DEFAULT VALUES RETURNING id').pluck(),
    dropPackId: db.prepare<[number]>('DELETE FROM pack_ids WHERE id = ?'),
    seedPackIds: db.prepare<[]>(
      "INSERT INTO sqlite_sequence (name, seq) SELECT 'pack_ids', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'pack_ids')",
    ),
    raisePackIds: db.prepare<[number]>("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'pack_ids'"),
  };
}

export interface Index {
  db: Database.Database;
  statements: Statements;
  /** The database's write-ahead log, fsynced after commits (see `FsBlobPacks.durable`). */
  wal: string;
  walDescriptor?: number;
}

/** How long a statement waits on a lock another connection holds before answering SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/** Opens (or creates) the index at `file`, its tables made when missing. */
export function openIndex(file: string): Index {
  return indexOver(openIndexDatabase(file), file);
}

/** The index's database, configured but not yet read: `checkIndex` checks it before any write. */
export function openIndexDatabase(file: string): Database.Database {
  const db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma('journal_mode = WAL');
    // An acknowledged blob must survive a power cut, so each commit's WAL frames are fsynced
    // before it is answered: by `durable()`, on the pool, not by SQLite (`synchronous = FULL`),
    // whose fsync blocks the event loop for the disk's latency, ~11 ms a commit on the VM
    // measured (1.6 s of a 10 s run of 20,000 small files). NORMAL keeps the database
    // consistent and syncs at checkpoints; `durable()` adds the sync of each commit.
    db.pragma('synchronous = NORMAL');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** The index over an open database `db` of the file `file`: its tables made, its statements prepared. */
export function indexOver(db: Database.Database, file: string): Index {
  try {
    db.exec(SCHEMA);
    return { db, statements: prepareStatements(db), wal: `${file}-wal` };
  } catch (error) {
    db.close();
    throw error;
  }
}

/** A pack number no process sharing the index has had or will have. */
export function reservePack(index: Index): number {
  const id = index.statements.reservePackId.get() as number;
  index.statements.dropPackId.run(id);
  return id;
}

/**
 * Indexes the blobs of a written pack of `size` bytes in one transaction, each counted live
 * with its header; a hash already packed is skipped (`inserted` false). The pack's row is
 * written when any blob went in.
 */
export function indexPack(
  index: Index,
  pack: number,
  size: number,
  entries: readonly PackEntry[],
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

/**
 * Moves the rows of blobs copied from `sources` into the pack `target` (laid out one after
 * the other in that order, each behind its header), in one transaction, and drops the sources'
 * rows. A blob no longer in its source (deleted since the copy, or moved by another process's
 * compaction) stays behind: its bytes are dead in the new pack.
 */
export function moveBlobs(
  index: Index,
  target: number,
  sources: readonly { pack: number; blobs: readonly IndexedBlob[] }[],
): PackRow {
  const { db, statements } = index;
  return db.transaction(() => {
    let offset = 0;
    let live = 0;
    let blobs = 0;
    for (const source of sources) {
      for (const blob of source.blobs) {
        const entry = PACKED_HEADER_BYTES + blob.size;
        if (statements.moveBlob.run(target, offset + PACKED_HEADER_BYTES, blob.hash, source.pack).changes === 1) {
          live += entry;
          blobs += 1;
        }
        offset += entry;
      }
      statements.deletePack.run(source.pack);
    }
    if (blobs > 0) statements.insertPack.run(target, offset, live, blobs);
    return { size: offset, live, blobs };
  })();
}

/** New pack numbers go past every one in `seen` (files and rows found at open). */
export function raisePackIds(index: Index, seen: readonly number[]): void {
  index.statements.seedPackIds.run();
  index.statements.raisePackIds.run(seen.reduce((highest, id) => Math.max(highest, id), 0));
}

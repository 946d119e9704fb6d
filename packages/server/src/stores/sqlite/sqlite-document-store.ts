/**
 * The embedded metadata store: one SQLite file in WAL mode, documents stored as JSONB.
 * better-sqlite3 is synchronous; every method is still async so that callers are written
 * once for this adapter and for networked ones.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type FieldPath, type Filter, type JsonValue, LarderError, writePath } from '@larder/protocol';
import Database from 'better-sqlite3';
import {
  type DocumentStore,
  type Modification,
  type Page,
  pageAndTotal,
  type StoredDocument,
  type StoreFindOptions,
} from '../document-store.js';
import { isIdPath } from '../filter-leaves.js';
import { StampedCache } from '../stamped-cache.js';
import { SqliteFieldIndex } from './sqlite-field-index.js';
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js';
import { compilePostingsCount, matchBound } from './sqlite-postings-set.js';
import {
  type CompileContext,
  type CompiledSql,
  compileFilter,
  compileSort,
  constrainsId,
  sqliteJsonPath,
} from './sqlite-query-compiler.js';
import {
  CACHE_SIZE_PRAGMA,
  type KeptRows,
  keepSecondColumn,
  type ReadMode,
  SqliteReaderPool,
} from './sqlite-reader-pool.js';
import { SqliteSortWalk } from './sqlite-sort-walk.js';
import { SqliteWalCheckpointer, type WalCheckpointProgress } from './sqlite-wal-checkpointer.js';

export interface SqliteDocumentStoreOptions {
  /** Database file, or `:memory:`. */
  file: string;
  /** Read-only connections in worker threads for scans (default 2; none for `:memory:`). */
  readers?: number;
  /** Index fields that equality filters use often (default true). */
  autoIndex?: boolean;
  /**
   * Use a field index when the values asked for should match at most this share of the
   * collection (default 0.2; 1 always uses it, 0 never).
   */
  maxIndexSelectivity?: number;
  /**
   * Pages the main connection keeps in memory, in MiB (default 32). Loading a large store in
   * bulk goes several times faster when the tables being filled fit.
   */
  cacheMiB?: number;
  /**
   * WAL pages not yet copied back into the database file after which a worker thread copies
   * them (default 10,000, about 40 MiB); past four times as many, the commit that passes them
   * copies them itself (SQLite's `wal_autocheckpoint`).
   */
  walCheckpointPages?: number;
  /** Milliseconds without a write after which the whole WAL is copied back (default 1,000). */
  walIdleCheckpointMs?: number;
}

const STATEMENT_CACHE_SIZE = 500;
/**
 * Matches the field index bounds to at most this many are paged in one query (documents and
 * total together); more are sorted by id first and counted apart.
 */
const MAX_ONE_QUERY_PAGE = 20_000;
/** Listings whose filter and sort take more characters than this are not kept between pages. */
const MAX_LISTING_KEY_CHARS = 4096;
/**
 * Bulk writes of random keys (a lake's hashes) dirty a page per row, and each commit appends
 * its pages to the WAL again; a checkpoint copies each page once however often it was written
 * since the last one. SQLite's 1,000 pages (4 MiB) checkpointed every few forms of small
 * files, about half of each commit's time, on the main thread; at 10,000 a 20,000-file fill
 * writes 27% fewer bytes and reads 55% fewer (measured 3 Dec). A worker thread does the
 * copying (`sqlite-wal-checkpointer.ts`), not the commit.
 */
const WAL_CHECKPOINT_PAGES = 10_000;
/** The writer checkpoints inside its commit only when the worker is this far behind. */
const WAL_HARD_CAP_FACTOR = 4;
const WAL_IDLE_CHECKPOINT_MS = 1000;

export class SqliteDocumentStore implements DocumentStore {
  readonly kind = 'sqlite';
  private db: Database.Database | undefined;
  private readonly statements = new Map<string, Database.Statement>();
  private readers: SqliteReaderPool | undefined;
  /** `PRAGMA data_version`, prepared once: `db.pragma()` prepares its statement on every call. */
  private dataVersion: Database.Statement<[], number> | undefined;
  private fieldIndex: SqliteFieldIndex | undefined;
  private checkpointer: SqliteWalCheckpointer | undefined;
  private sortWalk: SqliteSortWalk | undefined;
  /** Collections known to be recorded, so that creates skip a write. */
  private readonly knownCollections = new Set<string>();
  /** Writes made through this store, by collection: part of a listing's stamp. */
  private readonly writes = new Map<string, number>();
  /**
   * The sorted ids of recent narrowed listings (filter and sort), under the collection's write
   * stamp, so that a listing's later pages read only their own documents: ~10 MB of ids.
   */
  private readonly listings = new StampedCache<readonly string[]>(250_000, (ids) => ids.length);

  constructor(private readonly options: SqliteDocumentStoreOptions) {}

  async open(): Promise<void> {
    if (this.db) return;
    if (this.options.file !== ':memory:') mkdirSync(dirname(this.options.file), { recursive: true });
    const db = new Database(this.options.file);
    db.pragma('journal_mode = WAL');
    // WAL + NORMAL: a killed process loses nothing committed; only a power cut may lose
    // the last transactions, never the database's integrity.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    const walPages = Math.max(1, Math.round(this.options.walCheckpointPages ?? WAL_CHECKPOINT_PAGES));
    db.pragma(`wal_autocheckpoint = ${walPages}`);
    const cacheMiB = this.options.cacheMiB;
    db.pragma(`cache_size = ${cacheMiB === undefined ? CACHE_SIZE_PRAGMA : -Math.round(cacheMiB * 1024)}`);
    this.db = db;
    this.dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
    this.migrate(db);
    this.fieldIndex = new SqliteFieldIndex(db, this.options.maxIndexSelectivity);
    this.sortWalk = new SqliteSortWalk(db, this.fieldIndex);
    const readers = this.options.file === ':memory:' ? 0 : (this.options.readers ?? 2);
    if (readers > 0) this.readers = new SqliteReaderPool(this.options.file, readers);
    if (this.options.file !== ':memory:') {
      this.checkpointer = new SqliteWalCheckpointer(db, this.options.file, {
        pages: walPages,
        hardPages: walPages * WAL_HARD_CAP_FACTOR,
        idleMs: this.options.walIdleCheckpointMs ?? WAL_IDLE_CHECKPOINT_MS,
      });
    }
  }

  /** How the WAL is being copied back off the main thread (for tests and diagnostics). */
  get walCheckpoints(): WalCheckpointProgress {
    return this.checkpointer?.progress ?? { passes: 0, catchUps: 0, running: false };
  }

  async close(): Promise<void> {
    if (!this.db) return;
    await this.readers?.close();
    this.readers = undefined;
    await this.checkpointer?.close();
    this.checkpointer = undefined;
    this.statements.clear();
    this.dataVersion = undefined;
    this.listings.clear();
    this.fieldIndex = undefined;
    this.sortWalk = undefined;
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
    this.db = undefined;
  }

  private migrate(db: Database.Database): void {
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    const applied = new Set(
      db
        .prepare('SELECT version FROM schema_migrations')
        .all()
        .map((row) => (row as { version: number }).version),
    );
    for (const migration of SQLITE_MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      db.transaction(() => {
        db.exec(migration.sql);
        db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(
          migration.version,
          new Date().toISOString(),
        );
      }).immediate();
    }
  }

  private get database(): Database.Database {
    if (!this.db) throw new LarderError('Unavailable', 'The metadata store is closed');
    return this.db;
  }

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (statement) {
      // Refresh its place in the LRU order.
      this.statements.delete(sql);
      this.statements.set(sql, statement);
      return statement;
    }
    statement = this.database.prepare(sql);
    this.statements.set(sql, statement);
    if (this.statements.size > STATEMENT_CACHE_SIZE) {
      const oldest = this.statements.keys().next().value;
      if (oldest !== undefined) this.statements.delete(oldest);
    }
    return statement;
  }

  async listCollections(): Promise<string[]> {
    return this.statement('SELECT name FROM collections ORDER BY name')
      .all()
      .map((row) => (row as { name: string }).name);
  }

  async ensureCollection(collection: string): Promise<void> {
    if (this.knownCollections.has(collection)) return;
    this.statement('INSERT OR IGNORE INTO collections (name, created_at) VALUES (?, ?)').run(
      collection,
      new Date().toISOString(),
    );
    this.knownCollections.add(collection);
  }

  /**
   * Runs a read. Scans go to a reader thread; lookups by id (and everything, when there are
   * no reader threads) run on the main connection, where they take microseconds.
   */
  private read<T>(sql: string, params: unknown[], mode: ReadMode, scan: boolean, kept?: KeptRows): Promise<T> {
    if (this.readers && scan) return this.readers.run<T>(sql, params, mode, kept);
    const statement = this.statement(sql);
    if (mode === 'raw')
      return Promise.resolve(keepSecondColumn(statement.raw(true).all(...params) as unknown[][], kept) as T);
    statement.raw(false).pluck(mode === 'pluck');
    return Promise.resolve((mode === 'get' ? statement.get(...params) : statement.all(...params)) as T);
  }

  /**
   * What the compiler knows of a collection's field indexes. A count (`counting`) uses an
   * index however many documents match: it reads postings and keys, never the JSON.
   */
  private context(collection: string, counting = false): CompileContext {
    const index = this.fieldIndex;
    if (!index?.paths(collection)) return { collection };
    return {
      collection,
      index: {
        indexed: (jsonPath) => index.paths(collection)?.has(jsonPath) === true,
        useful: (jsonPath, values) =>
          index.paths(collection)?.has(jsonPath) === true && (counting || index.useful(collection, jsonPath, values)),
        term: (jsonPath, value) => index.term(collection, jsonPath, value),
      },
    };
  }

  /** Indexes a field now (its values, or an array field's elements), filling the index from the stored documents. */
  async indexField(collection: string, path: FieldPath): Promise<void> {
    if (!this.fieldIndex) throw new LarderError('Unavailable', 'The metadata store is closed');
    this.fieldIndex.create(collection, sqliteJsonPath(path));
    this.checkpointer?.wrote();
  }

  private compileMatches(collection: string, options: StoreFindOptions, columns: string): CompiledSql {
    const params: unknown[] = [collection];
    const where = compileFilter(options.filter, params, this.context(collection));
    let sql = `SELECT ${columns} FROM documents WHERE collection = ? AND ${where}`;
    if (options.sort && options.sort.length > 0) sql += ` ORDER BY ${compileSort(options.sort, params)}`;
    else sql += ' ORDER BY id ASC';
    if (options.limit !== undefined || options.skip) {
      sql += ' LIMIT ? OFFSET ?';
      params.push(options.limit ?? -1, options.skip ?? 0);
    }
    return { sql, params };
  }

  /** Synchronous, on the main connection: for reads inside write transactions. */
  private selectMatches(collection: string, options: StoreFindOptions): StoredDocument[] {
    const { sql, params } = this.compileMatches(collection, options, 'json(data)');
    return this.statement(sql)
      .pluck()
      .all(...params)
      .map((text) => JSON.parse(text as string) as StoredDocument);
  }

  async find(collection: string, options: StoreFindOptions): Promise<StoredDocument[]> {
    this.noteQuery(collection, options);
    const texts = await this.matches(collection, options, 'json(data)');
    return texts.map((text) => JSON.parse(text) as StoredDocument);
  }

  private noteQuery(collection: string, options: StoreFindOptions): void {
    if (this.options.autoIndex === false) return;
    this.fieldIndex?.noteQuery(collection, options.filter);
    this.sortWalk?.noteSort(collection, options.sort);
  }

  /** One column of the page's matches: read by a walk of the sort field's index where it is sure, else by the query. */
  private async matches(collection: string, options: StoreFindOptions, columns: string): Promise<string[]> {
    const scan = !constrainsId(options.filter);
    const walk = this.sortWalk?.compile(collection, options, columns, this.context(collection));
    if (walk) {
      const rows = await this.read<string[]>(walk.sql, walk.params, 'pluck', scan);
      // Fewer: the numbers ran out before the page did, and documents without one follow.
      if (rows.length === options.limit) return rows;
    }
    const { sql, params } = this.compileMatches(collection, options, columns);
    return this.read<string[]>(sql, params, 'pluck', scan);
  }

  /**
   * The page (top-N by the sort, ids only) and the total on the reader threads, at the same
   * time for a small page (see `pageAndTotal`); then the page's documents are read by
   * primary key.
   */
  async findPage(collection: string, options: StoreFindOptions): Promise<Page> {
    this.noteQuery(collection, options);
    const narrowed = await this.narrowedPage(collection, options);
    if (narrowed) return narrowed;
    const { total, page } = await pageAndTotal(
      options,
      () => this.matches(collection, options, 'id'),
      () => this.count(collection, options.filter),
    );
    return { total, documents: this.documentsById(collection, page, options.select) };
  }

  /**
   * The documents of `ids`, in that order; one removed since the ids were read is left out.
   * With `select` (of named fields), only those fields are read out of each document (SQLite's
   * `->`, SQL NULL where a path is missing), so a page of a few fields never parses whole
   * documents.
   */
  private documentsById(collection: string, ids: readonly string[], select?: readonly FieldPath[]): StoredDocument[] {
    if (ids.length === 0) return [];
    // A path through an array element is kept whole: `$select` rebuilds it as an object, which
    // a second projection (the caller's) would not read again.
    const named = select?.every((path) => path.every((segment) => typeof segment === 'string'));
    const paths = named ? select?.filter((path) => !isIdPath(path)) : undefined;
    const columns = paths ? paths.map(() => ', data -> ?').join('') : ', json(data)';
    const rows = this.statement(
      `SELECT id${columns} FROM documents WHERE collection = ? AND id IN (SELECT value FROM json_each(?))`,
    )
      .raw(true)
      .all(...(paths ?? []).map(sqliteJsonPath), collection, JSON.stringify(ids)) as (string | null)[][];
    const byId = new Map(
      rows.map((row) => [
        row[0] as string,
        paths ? projectedDocument(row, paths) : (JSON.parse(row[1] as string) as StoredDocument),
      ]),
    );
    return ids.map((id) => byId.get(id)).filter((doc): doc is StoredDocument => doc !== undefined);
  }

  /**
   * A page of few matches (the field index bounds them: all of two tags, say): one query
   * reads each match once, for the filter, the sort and its JSON, and the reader thread
   * answers every match's id in sort order with only the page's documents. The ids are kept
   * while the collection is unchanged, so the next pages of the same listing read only their
   * own documents, by primary key. `undefined`: the usual two reads.
   */
  private async narrowedPage(collection: string, options: StoreFindOptions): Promise<Page | undefined> {
    if (options.limit === 0) return undefined;
    const context = this.context(collection);
    if (!context.index || matchBound(options.filter, context.index) > MAX_ONE_QUERY_PAGE) return undefined;
    // The sort walk answers sorted pages of an indexed number field without reading the other matches.
    if (this.sortWalk?.compile(collection, options, 'id', context)) return undefined;
    const key = JSON.stringify([collection, options.filter, options.sort ?? null]);
    const start = options.skip ?? 0;
    const end = options.limit === undefined ? undefined : start + options.limit;
    // Taken before the read: a write while it runs leaves the entry stale at once.
    const stamp = this.writeStamp(collection);
    const listed = this.listings.get(key, stamp);
    if (listed) {
      return {
        total: listed.length,
        documents: this.documentsById(collection, listed.slice(start, end), options.select),
      };
    }
    const listing = { filter: options.filter, sort: options.sort };
    const { sql, params } = this.compileMatches(collection, listing, 'id, json(data)');
    const rows = await this.read<[string, string | null][]>(sql, params, 'raw', !constrainsId(options.filter), [
      start,
      end ?? Number.POSITIVE_INFINITY,
    ]);
    // A filter naming thousands of values (an `$in` of ids) is not kept: its key alone is large.
    if (key.length <= MAX_LISTING_KEY_CHARS) {
      this.listings.set(
        key,
        stamp,
        rows.map(([id]) => id),
      );
    }
    const documents: StoredDocument[] = [];
    for (const [, text] of rows) if (text !== null) documents.push(JSON.parse(text) as StoredDocument);
    return { total: rows.length, documents };
  }

  /**
   * What changes whenever the collection may have: this store's writes to it, and SQLite's
   * `data_version`, which moves when another connection to the file commits.
   */
  private writeStamp(collection: string): string {
    if (!this.dataVersion) throw new LarderError('Unavailable', 'The metadata store is closed');
    const external = this.dataVersion.get();
    return `${this.writes.get(collection) ?? 0}:${external}`;
  }

  /** Called before each write (the write runs in the same tick: no read sees it unstamped). */
  private wrote(collection: string): void {
    this.writes.set(collection, (this.writes.get(collection) ?? 0) + 1);
  }

  /**
   * A filter the field index answers whole (its equalities, the permission filter's
   * included) is counted from postings, without reading a document; any other through the
   * documents, with the index narrowing them where it can.
   */
  async count(collection: string, filter: Filter): Promise<number> {
    const context = this.context(collection, true);
    const fromPostings = context.index && compilePostingsCount(collection, filter, context.index);
    if (fromPostings) {
      const row = await this.read<{ n: number }>(fromPostings.sql, fromPostings.params, 'get', true);
      return row.n;
    }
    const params: unknown[] = [collection];
    const where = compileFilter(filter, params, context);
    const row = await this.read<{ n: number }>(
      `SELECT count(*) AS n FROM documents WHERE collection = ? AND ${where}`,
      params,
      'get',
      !constrainsId(filter),
    );
    return row.n;
  }

  async distinct(collection: string, path: FieldPath, filter: Filter): Promise<JsonValue[]> {
    const params: unknown[] = [sqliteJsonPath(path), collection];
    const where = compileFilter(filter, params, this.context(collection));
    const rows = await this.read<(string | null)[]>(
      `SELECT DISTINCT data -> ? AS value FROM documents WHERE collection = ? AND ${where} ORDER BY 1`,
      params,
      'pluck',
      true,
    );
    const seen = new Map<string, JsonValue>();
    for (const text of rows) {
      if (text === null) continue;
      const value = JSON.parse(text) as JsonValue;
      for (const item of Array.isArray(value) ? value : [value]) {
        if (item === null) continue;
        const key = JSON.stringify(item);
        if (!seen.has(key)) seen.set(key, item);
      }
    }
    return [...seen.values()];
  }

  async insert(collection: string, documents: readonly StoredDocument[]): Promise<void> {
    const insert = this.statement('INSERT INTO documents (collection, id, data) VALUES (?, ?, jsonb(?))');
    this.wrote(collection);
    try {
      this.database.transaction(() => {
        for (const document of documents) {
          const json = JSON.stringify(document);
          insert.run(collection, document._id, json);
          this.fieldIndex?.written(collection, document._id, document, undefined);
          this.sortWalk?.written(collection, json);
        }
      })();
    } catch (error) {
      throw translateDriverError(error);
    } finally {
      this.checkpointer?.wrote();
    }
  }

  async modify(
    collection: string,
    filter: Filter,
    change: (document: StoredDocument) => StoredDocument,
  ): Promise<Modification[]> {
    const update = this.statement('UPDATE documents SET data = jsonb(?) WHERE collection = ? AND id = ?');
    this.wrote(collection);
    try {
      return this.database
        .transaction(() => {
          const modifications: Modification[] = [];
          for (const before of this.selectMatches(collection, { filter })) {
            const after = change(structuredClone(before));
            if (after._id !== before._id) throw new LarderError('BadRequest', 'A record id cannot be changed');
            const json = JSON.stringify(after);
            update.run(json, collection, before._id);
            this.fieldIndex?.written(collection, before._id, after, before);
            this.sortWalk?.written(collection, json);
            modifications.push({ before, after });
          }
          return modifications;
        })
        .immediate();
    } finally {
      this.checkpointer?.wrote();
    }
  }

  async remove(collection: string, filter: Filter): Promise<StoredDocument[]> {
    const remove = this.statement('DELETE FROM documents WHERE collection = ? AND id = ?');
    this.wrote(collection);
    try {
      return this.database
        .transaction(() => {
          const removed = this.selectMatches(collection, { filter });
          for (const document of removed) {
            remove.run(collection, document._id);
            this.fieldIndex?.removed(collection, document._id, document);
          }
          return removed;
        })
        .immediate();
    } finally {
      this.checkpointer?.wrote();
    }
  }
}

/** A document of `_id` (the row's first column) and the JSON text of each path (`null`: missing). */
function projectedDocument(row: readonly (string | null)[], paths: readonly FieldPath[]): StoredDocument {
  const document: StoredDocument = { _id: row[0] as string };
  paths.forEach((path, at) => {
    const text = row[at + 1];
    if (text !== null && text !== undefined) writePath(document, path, JSON.parse(text));
  });
  return document;
}

function translateDriverError(error: unknown): LarderError {
  const code = (error as { code?: unknown }).code;
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') {
    return new LarderError('Conflict', 'A record with this id already exists', { cause: error });
  }
  if (error instanceof LarderError) return error;
  return new LarderError('GeneralError', 'The metadata store failed', { cause: error });
}

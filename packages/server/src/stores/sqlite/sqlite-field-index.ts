/**
 * Field indexes for the SQLite store. SQLite can index a JSON expression only when the path
 * is written into the SQL, and field names are never spliced into SQL; so values of
 * indexed fields are kept in a side table, `field_values(collection, path, kind, value, id)`,
 * one row per scalar (or per element of an array), with the path as data.
 *
 * A field becomes indexed once equality filters (`field = v`, `$in`) have used it a few
 * times in a collection; the index is filled in one statement and then kept in step with
 * every insert, change and removal inside the same transaction. Equality leaves on indexed
 * fields compile to index lookups; everything else still reads the documents.
 */
import type { Filter } from '@larder/protocol';
import type Database from 'better-sqlite3';
import { sqliteJsonPath } from './sqlite-query-compiler.js';

/** Uses of a field in equality filters after which it is indexed. */
const USES_BEFORE_INDEXING = 3;
/** Most fields indexed per collection (each costs a little on every write). */
const MAX_INDEXED_FIELDS = 16;

/** By default an index is used only when the values asked for should match at most this share. */
export const DEFAULT_MAX_SELECTIVITY = 0.2;
/** Writes to a collection after which its distinct-value counts are refreshed. */
const WRITES_BEFORE_NEW_STATISTICS = 5000;

/** `kind` column: the JSON type of the stored value, so that comparisons stay type-bracketed. */
export const KIND = { null: 0, number: 1, string: 2, false: 3, true: 4 } as const;

const KIND_OF_TYPE = `CASE e.type WHEN 'integer' THEN 1 WHEN 'real' THEN 1 WHEN 'text' THEN 2 WHEN 'false' THEN 3 WHEN 'true' THEN 4 ELSE 0 END`;
const VALUE_OF_TYPE = `CASE WHEN e.type IN ('integer', 'real', 'text') THEN e.value END`;
const SCALAR_ELEMENTS = `typeof(e.key) <> 'text' AND e.type IN ('integer', 'real', 'text', 'true', 'false', 'null')`;

/** Paths (JSON path strings) that equality leaves of a filter test, outside any NOT. */
export function equalityPaths(filter: Filter, out: Set<string> = new Set()): Set<string> {
  switch (filter.op) {
    case 'eq':
      if (!(filter.path.length === 1 && filter.path[0] === '_id') && filter.value !== null) {
        out.add(sqliteJsonPath(filter.path));
      }
      break;
    case 'and':
    case 'or':
      for (const part of filter.filters) equalityPaths(part, out);
      break;
    default:
      break;
  }
  return out;
}

export class SqliteFieldIndex {
  /** collection → indexed JSON paths. */
  private readonly indexed = new Map<string, Set<string>>();
  private readonly uses = new Map<string, number>();
  /** `collection\0path` → distinct values in the index: the statistic that decides its use. */
  private readonly distinct = new Map<string, number>();
  private readonly writesSinceStatistics = new Map<string, number>();
  private readonly insertValues: Database.Statement;
  private readonly deleteValues: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly maxSelectivity: number = DEFAULT_MAX_SELECTIVITY,
  ) {
    this.insertValues = db.prepare(
      `INSERT INTO field_values (collection, path, kind, value, id)
       SELECT ?, ?, ${KIND_OF_TYPE}, ${VALUE_OF_TYPE}, ? FROM json_each(?, ?) e WHERE ${SCALAR_ELEMENTS}`,
    );
    this.deleteValues = db.prepare('DELETE FROM field_values WHERE collection = ? AND id = ?');
    const rows = db.prepare('SELECT collection, path FROM indexed_fields').all() as {
      collection: string;
      path: string;
    }[];
    for (const row of rows) this.pathsOf(row.collection).add(row.path);
    for (const collection of this.indexed.keys()) this.refreshStatistics(collection);
  }

  private refreshStatistics(collection: string): void {
    const rows = this.db
      .prepare(
        "SELECT path, count(DISTINCT kind || ':' || coalesce(value, '')) AS n FROM field_values WHERE collection = ? GROUP BY path",
      )
      .all(collection) as { path: string; n: number }[];
    for (const path of this.pathsOf(collection)) this.distinct.set(`${collection}\u0000${path}`, 0);
    for (const row of rows) this.distinct.set(`${collection}\u0000${row.path}`, row.n);
    this.writesSinceStatistics.set(collection, 0);
  }

  /**
   * Whether looking `values` up in the index beats reading the documents: each match costs a
   * primary-key read, so an index helps only when few documents match. With `d` distinct
   * values, one value matches about 1/d of them.
   */
  useful(collection: string, path: string, values: number): boolean {
    const distinct = this.distinct.get(`${collection}\u0000${path}`) ?? 0;
    return distinct > 0 && values / distinct <= this.maxSelectivity;
  }

  private pathsOf(collection: string): Set<string> {
    let paths = this.indexed.get(collection);
    if (!paths) {
      paths = new Set();
      this.indexed.set(collection, paths);
    }
    return paths;
  }

  /** The indexed paths of a collection (for the query compiler). */
  paths(collection: string): ReadonlySet<string> | undefined {
    const paths = this.indexed.get(collection);
    return paths && paths.size > 0 ? paths : undefined;
  }

  /** Counts the equality fields a query uses, indexing those used often enough. */
  noteQuery(collection: string, filter: Filter): void {
    if ((this.writesSinceStatistics.get(collection) ?? 0) > WRITES_BEFORE_NEW_STATISTICS) {
      this.refreshStatistics(collection);
    }
    for (const path of equalityPaths(filter)) {
      const indexed = this.pathsOf(collection);
      if (indexed.has(path) || indexed.size >= MAX_INDEXED_FIELDS) continue;
      const key = `${collection}\u0000${path}`;
      const uses = (this.uses.get(key) ?? 0) + 1;
      this.uses.set(key, uses);
      if (uses >= USES_BEFORE_INDEXING) this.create(collection, path);
    }
  }

  /** Indexes a field now, filling the index from the stored documents. */
  create(collection: string, path: string): void {
    if (this.pathsOf(collection).has(path)) return;
    this.db
      .transaction(() => {
        this.db
          .prepare('INSERT OR IGNORE INTO indexed_fields (collection, path, created_at) VALUES (?, ?, ?)')
          .run(collection, path, new Date().toISOString());
        this.db
          .prepare(
            `INSERT INTO field_values (collection, path, kind, value, id)
             SELECT d.collection, ?, ${KIND_OF_TYPE}, ${VALUE_OF_TYPE}, d.id
             FROM documents d, json_each(d.data, ?) e WHERE d.collection = ? AND ${SCALAR_ELEMENTS}`,
          )
          .run(path, path, collection);
      })
      .immediate();
    this.pathsOf(collection).add(path);
    this.refreshStatistics(collection);
  }

  /** Call inside the write transaction, after a document was inserted or replaced. */
  written(collection: string, id: string, json: string, replaced: boolean): void {
    const paths = this.paths(collection);
    if (replaced) this.removed(collection, id);
    if (!paths) return;
    this.writesSinceStatistics.set(collection, (this.writesSinceStatistics.get(collection) ?? 0) + 1);
    for (const path of paths) this.insertValues.run(collection, path, id, json, path);
  }

  /** Call inside the write transaction, after a document was removed. */
  removed(collection: string, id: string): void {
    if (!this.paths(collection)) return;
    this.deleteValues.run(collection, id);
  }
}

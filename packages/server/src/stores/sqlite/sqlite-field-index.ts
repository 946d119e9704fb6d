/**
 * Field indexes for the SQLite store: an inverted index of the values of chosen fields. SQLite
 * can index a JSON expression only when the path is written into the SQL, and field names are
 * never spliced into SQL; so the values live in side tables, with the path as data:
 * - `field_terms(term, collection, path, kind, value, postings)`: one row per distinct scalar
 *   value of an indexed field (an array field contributes each element), with the number of
 *   documents holding it;
 * - `document_numbers(no, collection, id)`: a small integer for each document of a collection
 *   that has indexed fields;
 * - `field_postings(term, no)`: which documents hold which term, clustered by term.
 * Postings are pairs of integers, so a term's documents are read as one short range and an
 * all-of query intersects them by probing the rarer list into the others.
 *
 * A field becomes indexed when the store is told so (`indexField`) or once equality filters
 * have used it a few times in a collection; the index is filled in one statement and then
 * kept in step with every insert, change and removal inside the same transaction.
 */
import type { Filter } from '@larder/protocol';
import type Database from 'better-sqlite3';
import type { StoredDocument } from '../document-store.js';
import { type IndexedValue, sqliteJsonPath } from './sqlite-query-compiler.js';

/** Uses of a field in equality filters after which it is indexed. */
const USES_BEFORE_INDEXING = 3;
/** Most fields indexed per collection (each costs a little on every write). */
const MAX_INDEXED_FIELDS = 16;

/** By default an index is used only when the values asked for should match at most this share. */
export const DEFAULT_MAX_SELECTIVITY = 0.2;
/** Writes to a collection after which its distinct-value counts are refreshed. */
const WRITES_BEFORE_NEW_STATISTICS = 5000;

/** `kind` column: the JSON type of the stored value, so that comparisons stay type-bracketed. */
export const KIND = { number: 1, string: 2, false: 3, true: 4 } as const;

const KIND_OF_TYPE = `CASE e.type WHEN 'integer' THEN 1 WHEN 'real' THEN 1 WHEN 'text' THEN 2 WHEN 'false' THEN 3 ELSE 4 END`;
const VALUE_OF_TYPE = `CASE WHEN e.type IN ('integer', 'real', 'text') THEN e.value WHEN e.type = 'true' THEN 1 ELSE 0 END`;
const SCALAR_ELEMENTS = `typeof(e.key) <> 'text' AND e.type IN ('integer', 'real', 'text', 'true', 'false')`;
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
  private readonly statements: ReturnType<typeof prepareStatements>;

  constructor(
    private readonly db: Database.Database,
    private readonly maxSelectivity: number = DEFAULT_MAX_SELECTIVITY,
  ) {
    this.statements = prepareStatements(db);
    const rows = db.prepare('SELECT collection, path FROM indexed_fields').all() as {
      collection: string;
      path: string;
    }[];
    for (const row of rows) this.pathsOf(row.collection).add(row.path);
    for (const collection of this.indexed.keys()) this.refreshStatistics(collection);
  }

  private refreshStatistics(collection: string): void {
    const rows = this.db
      .prepare('SELECT path, count(*) AS n FROM field_terms WHERE collection = ? AND postings > 0 GROUP BY path')
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

  /** The term of a value and how many documents hold it; `undefined`: no document does. */
  term(collection: string, path: string, value: IndexedValue): { term: number; postings: number } | undefined {
    return this.statements.term.get(collection, path, value.kind, value.value) as
      | { term: number; postings: number }
      | undefined;
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

  /** Indexes a field now, filling the index from the stored documents in a few set-wise statements. */
  create(collection: string, path: string): void {
    if (this.pathsOf(collection).has(path)) return;
    const db = this.db;
    db.transaction(() => {
      db.prepare('INSERT OR IGNORE INTO indexed_fields (collection, path, created_at) VALUES (?, ?, ?)').run(
        collection,
        path,
        new Date().toISOString(),
      );
      db.prepare(
        `INSERT OR IGNORE INTO document_numbers (collection, id)
         SELECT collection, id FROM documents WHERE collection = ? ORDER BY id`,
      ).run(collection);
      db.prepare(
        `INSERT OR IGNORE INTO field_terms (collection, path, kind, value, postings)
         SELECT DISTINCT ?, ?, ${KIND_OF_TYPE}, ${VALUE_OF_TYPE}, 0
         FROM documents d, json_each(d.data, ?) e WHERE d.collection = ? AND ${SCALAR_ELEMENTS}`,
      ).run(collection, path, path, collection);
      db.prepare(
        `INSERT OR IGNORE INTO field_postings (term, no)
         SELECT t.term, n.no
         FROM documents d
         JOIN document_numbers n ON n.collection = d.collection AND n.id = d.id
         JOIN json_each(d.data, ?) e
         CROSS JOIN field_terms t ON t.collection = d.collection AND t.path = ?
           AND t.kind = ${KIND_OF_TYPE} AND t.value = ${VALUE_OF_TYPE}
         WHERE d.collection = ? AND ${SCALAR_ELEMENTS}`,
      ).run(path, path, collection);
      db.prepare(
        `UPDATE field_terms SET postings = (SELECT count(*) FROM field_postings p WHERE p.term = field_terms.term)
         WHERE collection = ? AND path = ?`,
      ).run(collection, path);
    }).immediate();
    this.pathsOf(collection).add(path);
    this.refreshStatistics(collection);
  }

  /**
   * Call inside the write transaction, after a document was inserted (`previous` undefined)
   * or replaced (`previous`: the document it replaced). A path's postings change only where
   * its values did: the values are read from the documents in JavaScript and each term is
   * one primary-key read or write, so a change that leaves the tags alone writes no posting.
   */
  written(collection: string, id: string, document: StoredDocument, previous: StoredDocument | undefined): void {
    const paths = this.paths(collection);
    if (!paths) return;
    const s = this.statements;
    this.writesSinceStatistics.set(collection, (this.writesSinceStatistics.get(collection) ?? 0) + 1);
    let no = s.number.pluck().get(collection, id) as number | undefined;
    const fresh = no === undefined;
    if (no === undefined) no = Number(s.newNumber.run(collection, id).lastInsertRowid);
    for (const path of paths) {
      const after = termValues(document, path);
      const before = fresh || previous === undefined ? new Map<string, IndexedValue>() : termValues(previous, path);
      for (const [key, value] of before) if (!after.has(key)) this.dropPosting(collection, path, value, no);
      for (const [key, value] of after) if (!before.has(key)) this.addPosting(collection, path, value, no);
    }
  }

  /** Call inside the write transaction, after a document was removed. */
  removed(collection: string, id: string, document: StoredDocument): void {
    const paths = this.paths(collection);
    if (!paths) return;
    const no = this.statements.number.pluck().get(collection, id) as number | undefined;
    if (no === undefined) return;
    for (const path of paths) {
      for (const value of termValues(document, path).values()) this.dropPosting(collection, path, value, no);
    }
    this.statements.dropNumber.run(no);
  }

  private addPosting(collection: string, path: string, value: IndexedValue, no: number): void {
    const s = this.statements;
    const found = s.termOf.get(collection, path, value.kind, value.value) as number | undefined;
    if (found === undefined) {
      const term = Number(s.newTerm.run(collection, path, value.kind, value.value).lastInsertRowid);
      s.addPosting.run(term, no);
    } else if (s.addPosting.run(found, no).changes > 0) s.countBy.run(1, found);
  }

  private dropPosting(collection: string, path: string, value: IndexedValue, no: number): void {
    const s = this.statements;
    const term = s.termOf.get(collection, path, value.kind, value.value) as number | undefined;
    if (term !== undefined && s.dropPosting.run(term, no).changes > 0) s.countBy.run(-1, term);
  }
}

/**
 * The distinct scalar values a document holds at a JSON path, as the index stores them and
 * as `json_each` reads them (the SQL that fills a new index): each scalar element of an array
 * (nested arrays and objects left out), or the value itself when it is a scalar; `null` and
 * objects hold none. Keyed by kind and value, so `1`, `"1"` and `true` stay apart.
 */
export function termValues(document: unknown, jsonPath: string): Map<string, IndexedValue> {
  const values = new Map<string, IndexedValue>();
  let value: unknown = document;
  for (const segment of pathSegments(jsonPath)) {
    if (value === null || typeof value !== 'object') return values;
    if (typeof segment === 'number') {
      if (!Array.isArray(value)) return values;
      value = value[segment];
    } else {
      if (Array.isArray(value) || !Object.hasOwn(value, segment)) return values;
      value = (value as Record<string, unknown>)[segment];
    }
  }
  const add = (element: unknown) => {
    const indexed = indexedScalar(element);
    if (indexed) values.set(`${indexed.kind}\u0000${indexed.value}`, indexed);
  };
  if (Array.isArray(value)) for (const element of value) add(element);
  else add(value);
  return values;
}

function indexedScalar(value: unknown): IndexedValue | undefined {
  if (typeof value === 'string') return { kind: KIND.string, value };
  if (typeof value === 'number') return Number.isFinite(value) ? { kind: KIND.number, value } : undefined;
  if (typeof value === 'boolean') return value ? { kind: KIND.true, value: 1 } : { kind: KIND.false, value: 0 };
  return undefined;
}

const segmentsByPath = new Map<string, (string | number)[]>();

/** The segments of a path `sqliteJsonPath` wrote (`$."a"[0]."b"`), parsed once per path. */
function pathSegments(jsonPath: string): (string | number)[] {
  let segments = segmentsByPath.get(jsonPath);
  if (!segments) {
    segments = [];
    for (const match of jsonPath.matchAll(/\."([^"]*)"|\[(\d+)\]/g)) {
      segments.push(match[2] === undefined ? (match[1] as string) : Number(match[2]));
    }
    if (segmentsByPath.size < 10_000) segmentsByPath.set(jsonPath, segments);
  }
  return segments;
}

function prepareStatements(db: Database.Database) {
  return {
    term: db.prepare(
      'SELECT term, postings FROM field_terms WHERE collection = ? AND path = ? AND kind = ? AND value = ?',
    ),
    number: db.prepare('SELECT no FROM document_numbers WHERE collection = ? AND id = ?'),
    newNumber: db.prepare('INSERT INTO document_numbers (collection, id) VALUES (?, ?)'),
    dropNumber: db.prepare('DELETE FROM document_numbers WHERE no = ?'),
    termOf: db
      .prepare('SELECT term FROM field_terms WHERE collection = ? AND path = ? AND kind = ? AND value = ?')
      .pluck(),
    newTerm: db.prepare('INSERT INTO field_terms (collection, path, kind, value, postings) VALUES (?, ?, ?, ?, 1)'),
    addPosting: db.prepare('INSERT OR IGNORE INTO field_postings (term, no) VALUES (?, ?)'),
    dropPosting: db.prepare('DELETE FROM field_postings WHERE term = ? AND no = ?'),
    countBy: db.prepare('UPDATE field_terms SET postings = postings + ? WHERE term = ?'),
  };
}

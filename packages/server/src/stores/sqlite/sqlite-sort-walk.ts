/**
 * Top-N pages sorted on one indexed number field, read in the field index's value order:
 * the terms of the field (`field_terms`, unique by value) are walked from the largest, each
 * term's documents tested against the filter, until the page is full. A runs search sorted
 * on a metric summary then reads about `limit / share matching` documents instead of
 * sorting every match.
 *
 * The walk answers exactly what the plain query answers, so it is used only where that is
 * certain: a descending sort (numbers come before the missing and null values, which the
 * walk does not see), no string or boolean value in the field (they sort ahead of numbers),
 * no array or object there either (checked by one scan, then kept by every write), and a
 * page the walk fills (otherwise the plain query runs). A filter that the field index can
 * answer selectively is left to the plain query, which reads its few matches directly.
 */
import type { SortKey } from '@larder/protocol';
import type Database from 'better-sqlite3';
import type { StoreFindOptions } from '../document-store.js';
import { isIdPath } from '../filter-leaves.js';
import type { SqliteFieldIndex } from './sqlite-field-index.js';
import { postingsSet } from './sqlite-postings-set.js';
import { type CompileContext, type CompiledSql, compileFilter, sqliteJsonPath } from './sqlite-query-compiler.js';

/** Sorts on a field after which it is indexed for walks. */
const USES_BEFORE_INDEXING = 3;
/** Most indexed fields in a collection (the field index's own limit). */
const MAX_INDEXED_FIELDS = 16;
/** Pages reaching further than this are left to the plain query. */
const MAX_WALK = 10_000;

export class SqliteSortWalk {
  private readonly uses = new Map<string, number>();
  /** `collection\0path` → whether a document may hold an array or object there. */
  private readonly containers = new Map<string, boolean>();
  private readonly statements: {
    otherKinds: Database.Statement;
    anyContainer: Database.Statement;
    typeOf: Database.Statement;
    firstType: Database.Statement;
  };

  constructor(
    db: Database.Database,
    private readonly fieldIndex: SqliteFieldIndex,
  ) {
    this.statements = {
      otherKinds: db.prepare(
        'SELECT 1 FROM field_terms WHERE collection = ? AND path = ? AND kind IN (2, 3, 4) AND postings > 0 LIMIT 1',
      ),
      anyContainer: db.prepare(
        "SELECT 1 FROM documents WHERE collection = ? AND json_type(data, ?) IN ('array', 'object') LIMIT 1",
      ),
      typeOf: db.prepare('SELECT json_type(?, ?)').pluck(),
      firstType: db
        .prepare(
          'SELECT json_type(data, ?) FROM documents WHERE collection = ? AND json_type(data, ?) IS NOT NULL LIMIT 1',
        )
        .pluck(),
    };
  }

  /** Counts a sort on one field; indexes the field once it has been sorted on a few times. */
  noteSort(collection: string, sort: readonly SortKey[] | undefined): void {
    const path = walkablePath(sort);
    if (path === undefined) return;
    const indexed = this.fieldIndex.paths(collection);
    if (indexed?.has(path) || (indexed?.size ?? 0) >= MAX_INDEXED_FIELDS) return;
    const key = `${collection}\u0000${path}`;
    const uses = (this.uses.get(key) ?? 0) + 1;
    this.uses.set(key, uses);
    if (uses < USES_BEFORE_INDEXING) return;
    // Only number fields are walked: indexing another (`createdAt`, a string) would cost a build
    // that blocks the store (minutes at a million documents) for nothing.
    const type = this.statements.firstType.get(path, collection, path);
    if (type === 'integer' || type === 'real') this.fieldIndex.create(collection, path);
  }

  /** Call inside the write transaction, after a document was inserted or replaced. */
  written(collection: string, json: string): void {
    for (const path of this.fieldIndex.paths(collection) ?? []) {
      const key = `${collection}\u0000${path}`;
      if (this.containers.get(key) !== false) continue;
      const type = this.statements.typeOf.get(json, path);
      if (type === 'array' || type === 'object') this.containers.set(key, true);
    }
  }

  /**
   * The walk's SQL for the page `options` asks, selecting `columns` of `documents`; it
   * answers fewer rows than the page only where the plain query must be asked instead.
   * `undefined` when the walk could not be certain to agree with the plain query.
   */
  compile(
    collection: string,
    options: StoreFindOptions,
    columns: string,
    context: CompileContext,
  ): CompiledSql | undefined {
    const path = walkablePath(options.sort);
    if (path === undefined || options.limit === undefined) return undefined;
    const skip = options.skip ?? 0;
    if (skip + options.limit > MAX_WALK || options.sort?.[0]?.direction !== -1) return undefined;
    if (!this.fieldIndex.paths(collection)?.has(path)) return undefined;
    if (this.statements.otherKinds.get(collection, path) !== undefined) return undefined;
    if (this.mayHoldContainers(collection, path)) return undefined;
    // A filter the index answers selectively reads its few matches faster than a walk.
    let selective = false;
    const index = context.index;
    const watching: CompileContext = {
      collection,
      index: index && {
        indexed: (jsonPath) => index.indexed(jsonPath),
        useful: (jsonPath, values) => {
          const useful = index.useful(jsonPath, values);
          selective ||= useful;
          return useful;
        },
        term: (jsonPath, value) => index.term(jsonPath, value),
      },
    };
    const filterParams: unknown[] = [];
    const where = compileFilter(options.filter, filterParams, watching);
    if (selective) return undefined;
    // A filter the index answers whole is tested on each visited document's postings (a few
    // primary-key probes), and a page of ids then reads no document at all.
    const set = index && postingsSet(collection, options.filter, index);
    // Parameters in the order of the SQL text: the walk, the documents' join, the filter.
    const readsDocuments = !set || columns !== 'id';
    const params: unknown[] = [collection, path, ...(readsDocuments ? [collection] : [])];
    const test = set ? set.test('walk.sort_no', params) : where;
    if (!set) params.push(...filterParams);
    params.push(options.limit, skip);
    // The walk's rows in a subquery of their own, so the filter's `id` and `data` are the
    // document's; CROSS JOIN keeps SQLite to this order: terms by value, postings, documents.
    const sql = `SELECT ${readsDocuments ? columns : 'walk.sort_id AS id'} FROM (
        SELECT sort_n.no AS sort_no, sort_n.id AS sort_id, sort_t.value AS sort_value FROM field_terms AS sort_t
        CROSS JOIN field_postings AS sort_p ON sort_p.term = sort_t.term
        CROSS JOIN document_numbers AS sort_n ON sort_n.no = sort_p.no
        WHERE sort_t.collection = ? AND sort_t.path = ? AND sort_t.kind = 1 AND sort_t.postings > 0
      ) AS walk
      ${readsDocuments ? 'CROSS JOIN documents ON documents.collection = ? AND documents.id = walk.sort_id' : ''}
      WHERE ${test}
      ORDER BY walk.sort_value DESC, walk.sort_id ASC LIMIT ? OFFSET ?`;
    return { sql, params };
  }

  private mayHoldContainers(collection: string, path: string): boolean {
    const key = `${collection}\u0000${path}`;
    let may = this.containers.get(key);
    if (may === undefined) {
      may = this.statements.anyContainer.get(collection, path) !== undefined;
      this.containers.set(key, may);
    }
    return may;
  }
}

/** The JSON path of a sort on one field other than `_id`. */
function walkablePath(sort: readonly SortKey[] | undefined): string | undefined {
  if (sort?.length !== 1) return undefined;
  const [key] = sort;
  if (!key || isIdPath(key.path)) return undefined;
  return sqliteJsonPath(key.path);
}

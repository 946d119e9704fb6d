/**
 * The metadata store on PostgreSQL, for several server instances sharing one database:
 * documents in `jsonb`, the query language compiled by `postgres-query-compiler.ts`,
 * changes in transactions with row locks, a connection pool (a paginated find runs its
 * page and its count on two connections at once). Fields filtered by equality three times get
 * postings (`automatic`: used for counts only) and fields sorted on three times an expression
 * index (`postgres-sort-index.ts`), built in the background one at a time.
 */
import { type FieldPath, type Filter, type JsonValue, LarderError } from '@larder/protocol';
import type pg from 'pg';
import {
  type DocumentStore,
  type Modification,
  type Page,
  pageAndTotal,
  type StoredDocument,
  type StoreFindOptions,
} from '../document-store.js';
import {
  CONTAINMENT_INDEX_VALID_SQL,
  containmentIndexName,
  containmentIndexSql,
} from './postgres-containment-index.js';
import { translateError } from './postgres-errors.js';
import { MIGRATION_LOCK_KEY, POSTGRES_MIGRATIONS } from './postgres-migrations.js';
import { assertSchemaName, inTransaction, openPostgresPool, type PostgresPoolOptions } from './postgres-pool.js';
import { compilePostingsCount, equalityPathKeys } from './postgres-postings-count.js';
import {
  type CompileContext,
  compileFilter,
  compileSort,
  indexedPathKey,
  Parameters,
  postgresPath,
} from './postgres-query-compiler.js';
import { PostgresSortIndexes } from './postgres-sort-index.js';

export interface PostgresDocumentStoreOptions extends PostgresPoolOptions {
  /** Index fields from their use in filters and sorts (default true). */
  autoIndex?: boolean;
}

/** Equality filters on a field after which it gets postings (as on SQLite). */
const USES_BEFORE_INDEXING = 3;
/** Most field indexes in a collection made from use. */
const MAX_AUTOMATIC_FIELDS = 16;

export class PostgresDocumentStore implements DocumentStore {
  readonly kind = 'postgres';
  private pool: pg.Pool | undefined;
  private readonly knownCollections = new Set<string>();
  /**
   * `collection\0path` of the field indexes known here (postings are kept for all, by a
   * trigger) → whether the store made it from use (`true`: it answers counts only; a feature's
   * index also narrows the documents' queries).
   */
  private readonly indexedFields = new Map<string, boolean>();
  /** Path keys of the fields whose containment index is valid (`postgres-containment-index.ts`). */
  private readonly containedFields = new Set<string>();
  private readonly equalityUses = new Map<string, number>();
  private readonly automaticFields = new Map<string, number>();
  /** Index builds run one after another, off the request; `close` waits for them. */
  private background: Promise<void> = Promise.resolve();
  private readonly sortIndexes = new PostgresSortIndexes((build) =>
    this.inBackground(() => build((sql) => this.query(sql, []))),
  );

  constructor(private readonly options: PostgresDocumentStoreOptions) {
    assertSchemaName(options.schema);
  }

  async open(): Promise<void> {
    if (this.pool) return;
    this.pool = await openPostgresPool(this.options, 10, MIGRATION_LOCK_KEY, (client) => this.migrate(client));
    const rows = await this.query<{ collection: string; path: string; automatic: boolean }>(
      'SELECT collection, path, automatic FROM indexed_fields',
      [],
    );
    for (const row of rows) {
      this.indexedFields.set(`${row.collection}\u0000${row.path}`, row.automatic);
      if (row.automatic) this.automaticFields.set(row.collection, (this.automaticFields.get(row.collection) ?? 0) + 1);
    }
  }

  /** What the compiler knows of a collection's field indexes. */
  private context(collection: string): CompileContext {
    return {
      collection,
      indexed: (key) => this.indexedFields.get(`${collection}\u0000${key}`) === false,
      contained: (key) => this.containedFields.has(key),
    };
  }

  private inBackground(work: () => Promise<void>): void {
    this.background = this.background.then(work).catch(() => undefined);
  }

  /** Counts the equality fields and the sort of a query, indexing those used often enough. */
  private noteQuery(collection: string, filter: Filter, sort?: StoreFindOptions['sort']): void {
    if (this.options.autoIndex === false) return;
    this.sortIndexes.noteSort(collection, sort);
    for (const [key, path] of equalityPathKeys(filter)) {
      const name = `${collection}\u0000${key}`;
      if (this.indexedFields.has(name) || (this.automaticFields.get(collection) ?? 0) >= MAX_AUTOMATIC_FIELDS) continue;
      const uses = (this.equalityUses.get(name) ?? 0) + 1;
      this.equalityUses.set(name, uses);
      if (uses !== USES_BEFORE_INDEXING) continue;
      this.automaticFields.set(collection, (this.automaticFields.get(collection) ?? 0) + 1);
      this.inBackground(() => this.fillIndex(collection, path, true));
    }
  }

  async indexField(collection: string, path: FieldPath): Promise<void> {
    await this.fillIndex(collection, path, false);
    await this.buildContainmentIndex(path);
  }

  /** Builds (once, for every instance) the field's containment index, used once it is valid. */
  private async buildContainmentIndex(path: FieldPath): Promise<void> {
    const sql = containmentIndexSql(path);
    if (sql === undefined || this.containedFields.has(indexedPathKey(path))) return;
    await this.query(sql, []);
    const [row] = await this.query<{ valid: boolean }>(CONTAINMENT_INDEX_VALID_SQL, [containmentIndexName(path)]);
    if (row?.valid === true) this.containedFields.add(indexedPathKey(path));
  }

  private async fillIndex(collection: string, path: FieldPath, automatic: boolean): Promise<void> {
    const key = indexedPathKey(path);
    const known = this.indexedFields.get(`${collection}\u0000${key}`);
    if (known === false || (known === true && automatic)) return;
    if (known === true) {
      // A feature asks for a field the store indexed from use: the postings are there already.
      await this.query('UPDATE indexed_fields SET automatic = false WHERE collection = $1 AND path = $2', [
        collection,
        key,
      ]);
      this.indexedFields.set(`${collection}\u0000${key}`, false);
      return;
    }
    await this.transaction(async (client) => {
      // Writes wait while the index fills, so that none is missed between the fill and the commit.
      await client.query('LOCK TABLE documents IN SHARE MODE');
      const { rowCount } = await client.query(
        `INSERT INTO indexed_fields (collection, path, segments, automatic) VALUES ($1, $2, $3::text[], $4)
         ON CONFLICT (collection, path) DO NOTHING`,
        [collection, key, postgresPath(path), automatic],
      );
      if (rowCount === 0) {
        if (!automatic)
          await client.query('UPDATE indexed_fields SET automatic = false WHERE collection = $1 AND path = $2', [
            collection,
            key,
          ]);
        return;
      }
      await client.query(
        `INSERT INTO field_postings (collection, path, value, id)
         SELECT d.collection, $2, e.v, d.id FROM documents d
         CROSS JOIN LATERAL jsonb_array_elements(
           CASE jsonb_typeof(d.data #> $3::text[]) WHEN 'array' THEN d.data #> $3::text[]
           ELSE jsonb_build_array(d.data #> $3::text[]) END) AS e(v)
         WHERE d.collection = $1 AND jsonb_typeof(e.v) IN ('string', 'number', 'boolean')
         ON CONFLICT DO NOTHING`,
        [collection, key, postgresPath(path)],
      );
    });
    // The visibility map lets a count read the postings' key alone; the statistics weigh each value.
    await this.query('VACUUM (ANALYZE) field_postings', []);
    const row = await this.query<{ automatic: boolean }>(
      'SELECT automatic FROM indexed_fields WHERE collection = $1 AND path = $2',
      [collection, key],
    );
    this.indexedFields.set(`${collection}\u0000${key}`, row[0]?.automatic ?? automatic);
  }

  private async migrate(client: pg.PoolClient): Promise<void> {
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const applied = new Set(
      (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((row) => row.version),
    );
    for (const migration of POSTGRES_MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [migration.version]);
    }
  }

  async close(): Promise<void> {
    await this.background;
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }

  private get db(): pg.Pool {
    if (!this.pool) throw new LarderError('Unavailable', 'The metadata store is closed');
    return this.pool;
  }

  private async query<R extends pg.QueryResultRow>(sql: string, values: unknown[]): Promise<R[]> {
    try {
      return (await this.db.query<R>(sql, values)).rows;
    } catch (error) {
      throw translateError(error);
    }
  }

  /** Runs `work` in a transaction on one connection. */
  private transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.db, work);
  }

  async listCollections(): Promise<string[]> {
    const rows = await this.query<{ name: string }>('SELECT name FROM collections ORDER BY name COLLATE "C"', []);
    return rows.map((row) => row.name);
  }

  async ensureCollection(collection: string): Promise<void> {
    if (this.knownCollections.has(collection)) return;
    await this.query('INSERT INTO collections (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [collection]);
    this.knownCollections.add(collection);
  }

  private selectSql(collection: string, options: StoreFindOptions, columns: string, params: Parameters): string {
    const where = compileFilter(options.filter, params, this.context(collection));
    let sql = `SELECT ${columns} FROM documents WHERE collection = ${params.bind(collection)} AND ${where}`;
    sql += ` ORDER BY ${options.sort && options.sort.length > 0 ? compileSort(options.sort, params) : 'id ASC'}`;
    if (options.limit !== undefined) sql += ` LIMIT ${params.bind(options.limit)}`;
    if (options.skip) sql += ` OFFSET ${params.bind(options.skip)}`;
    return sql;
  }

  async find(collection: string, options: StoreFindOptions): Promise<StoredDocument[]> {
    this.noteQuery(collection, options.filter, options.sort);
    return this.findRows(collection, options);
  }

  private async findRows(collection: string, options: StoreFindOptions): Promise<StoredDocument[]> {
    const params = new Parameters();
    const sql = this.selectSql(collection, options, 'data', params);
    return (await this.query<{ data: StoredDocument }>(sql, params.values)).map((row) => row.data);
  }

  async findPage(collection: string, options: StoreFindOptions): Promise<Page> {
    this.noteQuery(collection, options.filter, options.sort);
    const { total, page } = await pageAndTotal(
      options,
      () => this.findRows(collection, options),
      () => this.countRows(collection, options.filter),
    );
    return { total, documents: page };
  }

  async count(collection: string, filter: Filter): Promise<number> {
    this.noteQuery(collection, filter);
    return this.countRows(collection, filter);
  }

  private async countRows(collection: string, filter: Filter): Promise<number> {
    const postingsParams = new Parameters();
    const fromPostings = compilePostingsCount(filter, postingsParams, {
      collection,
      hasPostings: (key) => this.indexedFields.has(`${collection}\u0000${key}`),
    });
    if (fromPostings !== undefined) {
      return (await this.query<{ n: number }>(fromPostings, postingsParams.values))[0]?.n ?? 0;
    }
    const params = new Parameters();
    const where = compileFilter(filter, params, this.context(collection));
    const rows = await this.query<{ n: number }>(
      `SELECT count(*)::integer AS n FROM documents WHERE collection = ${params.bind(collection)} AND ${where}`,
      params.values,
    );
    return rows[0]?.n ?? 0;
  }

  async distinct(collection: string, path: FieldPath, filter: Filter): Promise<JsonValue[]> {
    const params = new Parameters();
    const value = `data #> ${params.bind(postgresPath(path))}::text[]`;
    const where = compileFilter(filter, params, this.context(collection));
    const rows = await this.query<{ value: JsonValue | null }>(
      `SELECT DISTINCT ${value} AS value FROM documents WHERE collection = ${params.bind(collection)} AND ${where}`,
      params.values,
    );
    const seen = new Map<string, JsonValue>();
    for (const { value: found } of rows) {
      if (found === null || found === undefined) continue;
      for (const item of Array.isArray(found) ? found : [found]) {
        if (item === null) continue;
        const key = JSON.stringify(item);
        if (!seen.has(key)) seen.set(key, item);
      }
    }
    return [...seen.values()];
  }

  async insert(collection: string, documents: readonly StoredDocument[]): Promise<void> {
    if (documents.length === 0) return;
    const rows = JSON.stringify(documents.map((document) => ({ id: document._id, data: document })));
    await this.query(
      `INSERT INTO documents (collection, id, data)
       SELECT $1, x.id, x.data FROM jsonb_to_recordset($2::jsonb) AS x(id text, data jsonb)`,
      [collection, rows],
    );
  }

  async modify(
    collection: string,
    filter: Filter,
    change: (document: StoredDocument) => StoredDocument,
  ): Promise<Modification[]> {
    return this.transaction(async (client) => {
      const params = new Parameters();
      const sql = `${this.selectSql(collection, { filter }, 'data', params)} FOR UPDATE`;
      const { rows } = await client.query<{ data: StoredDocument }>(sql, params.values);
      const modifications: Modification[] = [];
      for (const { data: before } of rows) {
        const after = change(structuredClone(before));
        if (after._id !== before._id) throw new LarderError('BadRequest', 'A record id cannot be changed');
        await client.query('UPDATE documents SET data = $1::jsonb WHERE collection = $2 AND id = $3', [
          JSON.stringify(after),
          collection,
          before._id,
        ]);
        modifications.push({ before, after });
      }
      return modifications;
    });
  }

  async remove(collection: string, filter: Filter): Promise<StoredDocument[]> {
    const params = new Parameters();
    const where = compileFilter(filter, params, this.context(collection));
    const rows = await this.query<{ id: string; data: StoredDocument }>(
      `DELETE FROM documents WHERE collection = ${params.bind(collection)} AND ${where} RETURNING id, data`,
      params.values,
    );
    return rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((row) => row.data);
  }
}

/**
 * The metadata store on PostgreSQL, for several server instances sharing one database:
 * documents in `jsonb`, the query language compiled by `postgres-query-compiler.ts`,
 * changes in transactions with row locks, a connection pool (a paginated find runs its
 * page and its count on two connections at once).
 */
import { type FieldPath, type Filter, type JsonValue, LarderError } from '@larder/protocol';
import type pg from 'pg';
import type { DocumentStore, Modification, Page, StoredDocument, StoreFindOptions } from '../document-store.js';
import { translateError } from './postgres-errors.js';
import { MIGRATION_LOCK_KEY, POSTGRES_MIGRATIONS } from './postgres-migrations.js';
import { assertSchemaName, inTransaction, openPostgresPool, type PostgresPoolOptions } from './postgres-pool.js';
import {
  type CompileContext,
  compileFilter,
  compileSort,
  indexedPathKey,
  Parameters,
  postgresPath,
} from './postgres-query-compiler.js';

export type PostgresDocumentStoreOptions = PostgresPoolOptions;

export class PostgresDocumentStore implements DocumentStore {
  readonly kind = 'postgres';
  private pool: pg.Pool | undefined;
  private readonly knownCollections = new Set<string>();
  /** `collection\0path` of the field indexes known here (postings are kept for all, by a trigger). */
  private readonly indexedFields = new Set<string>();

  constructor(private readonly options: PostgresDocumentStoreOptions) {
    assertSchemaName(options.schema);
  }

  async open(): Promise<void> {
    if (this.pool) return;
    this.pool = await openPostgresPool(this.options, 10, MIGRATION_LOCK_KEY, (client) => this.migrate(client));
    const rows = await this.query<{ collection: string; path: string }>(
      'SELECT collection, path FROM indexed_fields',
      [],
    );
    for (const row of rows) this.indexedFields.add(`${row.collection}\u0000${row.path}`);
  }

  /** What the compiler knows of a collection's field indexes. */
  private context(collection: string): CompileContext {
    return { collection, indexed: (key) => this.indexedFields.has(`${collection}\u0000${key}`) };
  }

  async indexField(collection: string, path: FieldPath): Promise<void> {
    const key = indexedPathKey(path);
    if (this.indexedFields.has(`${collection}\u0000${key}`)) return;
    await this.transaction(async (client) => {
      // Writes wait while the index fills, so that none is missed between the fill and the commit.
      await client.query('LOCK TABLE documents IN SHARE MODE');
      const { rowCount } = await client.query(
        `INSERT INTO indexed_fields (collection, path, segments) VALUES ($1, $2, $3::text[])
         ON CONFLICT (collection, path) DO NOTHING`,
        [collection, key, postgresPath(path)],
      );
      if (rowCount === 0) return;
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
    await this.query('ANALYZE field_postings', []);
    this.indexedFields.add(`${collection}\u0000${key}`);
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
    const params = new Parameters();
    const sql = this.selectSql(collection, options, 'data', params);
    return (await this.query<{ data: StoredDocument }>(sql, params.values)).map((row) => row.data);
  }

  async findPage(collection: string, options: StoreFindOptions): Promise<Page> {
    const total = this.count(collection, options.filter);
    if (options.limit === 0) return { total: await total, documents: [] };
    const [documents, count] = await Promise.all([this.find(collection, options), total]);
    return { total: count, documents };
  }

  async count(collection: string, filter: Filter): Promise<number> {
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

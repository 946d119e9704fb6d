/**
 * What both PostgreSQL adapters (documents, metric series) need: a validated schema name, a
 * pool that fails promptly when the database is away, transactions on one connection, and a
 * set-up step run in a transaction under an advisory lock, so that instances starting
 * together apply it once.
 */
import { LarderError } from '@larder/protocol';
import pg from 'pg';
import { translateError } from './postgres-errors.js';

export interface PostgresPoolOptions {
  /** `postgres://user:password@host:port/database` */
  connectionString: string;
  /** Schema for Larder's tables (default `public`); created when missing. */
  schema?: string;
  /** Most connections in the pool. */
  maxConnections?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** How long an idle connection is kept open. */
const IDLE_CONNECTION_MS = 60_000;
/** Connections opened at the start, before any call needs them. */
const WARM_CONNECTIONS = 2;

export function assertSchemaName(schema: string | undefined): void {
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new LarderError('BadRequest', 'A PostgreSQL schema name is lower-case letters, digits and "_"');
  }
}

/** Runs `work` in a transaction on one connection; driver errors come out translated. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw translateError(error);
  }
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw translateError(error);
  } finally {
    client.release();
  }
}

/**
 * A pool on the schema, with `setup` (creating the schema first) run under the advisory lock
 * `lockKey`. On failure the pool is ended and the error translated.
 */
export async function openPostgresPool(
  options: PostgresPoolOptions,
  defaultMaxConnections: number,
  lockKey: number,
  setup: (client: pg.PoolClient) => Promise<void>,
): Promise<pg.Pool> {
  const schema = options.schema ?? 'public';
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? defaultMaxConnections,
    // An unreachable database fails calls promptly (503) instead of holding them.
    connectionTimeoutMillis: 5000,
    // A connection is costly to open (authentication, then a new backend's cold catalog
    // caches make its first queries slow): kept through a minute without calls, not 10 s.
    idleTimeoutMillis: IDLE_CONNECTION_MS,
    // The schema name was validated; it is an identifier, not user data.
    options: `-c search_path=${schema}`,
  });
  pool.on('error', () => {
    // An idle connection died (server restart); the pool replaces it on next use.
  });
  try {
    await inTransaction(pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [lockKey]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await setup(client);
    });
    warmConnections(pool, Math.min(WARM_CONNECTIONS, options.maxConnections ?? defaultMaxConnections));
    return pool;
  } catch (error) {
    await pool.end();
    throw error;
  }
}

/**
 * Opens `count` connections in the background and leaves them idle in the pool, so that the
 * first requests after a start (a page and its count run on two at once) do not wait for
 * connections to be opened. A failure is left to the calls that come.
 */
function warmConnections(pool: pg.Pool, count: number): void {
  for (let each = 0; each < count; each += 1) {
    pool.connect().then(
      (client) => client.release(),
      () => {},
    );
  }
}

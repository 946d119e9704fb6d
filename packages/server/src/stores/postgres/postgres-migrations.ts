/**
 * Versioned schema of the PostgreSQL metadata store. Migrations run at start inside one
 * transaction that holds an advisory lock, so several instances starting together apply
 * each migration exactly once.
 */
import type { Migration } from '../sqlite/sqlite-migrations.js';

/** Arbitrary constant naming Larder's migration lock. */
export const MIGRATION_LOCK_KEY = 7_302_515_861;

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'documents and collections',
    sql: `
      CREATE TABLE documents (
        collection text NOT NULL,
        id text COLLATE "C" NOT NULL,
        data jsonb NOT NULL,
        PRIMARY KEY (collection, id)
      );
      CREATE INDEX documents_data ON documents USING gin (data jsonb_path_ops);
      CREATE TABLE collections (
        name text PRIMARY KEY,
        created_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
];

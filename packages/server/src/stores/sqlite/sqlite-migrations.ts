/**
 * Versioned schema of the SQLite metadata store. Each migration runs once, in order, in a
 * transaction; the applied versions are recorded in `schema_migrations`.
 */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'documents and collections',
    sql: `
      CREATE TABLE documents (
        collection TEXT NOT NULL,
        id TEXT NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (collection, id)
      ) WITHOUT ROWID;
      CREATE TABLE collections (
        name TEXT PRIMARY KEY,
        created_at TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
];

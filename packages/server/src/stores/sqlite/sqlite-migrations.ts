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
  {
    version: 2,
    description: 'field indexes: values of frequently filtered fields, one row per scalar or array element',
    sql: `
      CREATE TABLE field_values (
        collection TEXT NOT NULL,
        path TEXT NOT NULL,
        kind INTEGER NOT NULL,
        value,
        id TEXT NOT NULL
      );
      CREATE INDEX field_values_lookup ON field_values (collection, path, kind, value);
      CREATE INDEX field_values_by_id ON field_values (collection, id);
      CREATE TABLE indexed_fields (
        collection TEXT NOT NULL,
        path TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (collection, path)
      ) WITHOUT ROWID;
    `,
  },
];

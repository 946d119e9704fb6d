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
  {
    version: 3,
    description:
      'field indexes as an inverted index: terms with their document counts, documents numbered, postings of integers',
    sql: `
      CREATE TABLE document_numbers (
        no INTEGER PRIMARY KEY,
        collection TEXT NOT NULL,
        id TEXT NOT NULL,
        UNIQUE (collection, id)
      );
      CREATE TABLE field_terms (
        term INTEGER PRIMARY KEY,
        collection TEXT NOT NULL,
        path TEXT NOT NULL,
        kind INTEGER NOT NULL,
        value NOT NULL,
        postings INTEGER NOT NULL,
        UNIQUE (collection, path, kind, value)
      );
      CREATE TABLE field_postings (
        term INTEGER NOT NULL,
        no INTEGER NOT NULL,
        PRIMARY KEY (term, no)
      ) WITHOUT ROWID;
      INSERT INTO document_numbers (collection, id)
        SELECT collection, id FROM documents WHERE collection IN (SELECT collection FROM indexed_fields)
        ORDER BY collection, id;
      INSERT INTO field_terms (collection, path, kind, value, postings)
        SELECT collection, path, kind, CASE kind WHEN 3 THEN 0 WHEN 4 THEN 1 ELSE value END, count(DISTINCT id)
        FROM field_values WHERE kind <> 0 GROUP BY 1, 2, 3, 4;
      INSERT OR IGNORE INTO field_postings (term, no)
        SELECT t.term, n.no FROM field_values v
        JOIN field_terms t ON t.collection = v.collection AND t.path = v.path AND t.kind = v.kind
          AND t.value = CASE v.kind WHEN 3 THEN 0 WHEN 4 THEN 1 ELSE v.value END
        JOIN document_numbers n ON n.collection = v.collection AND n.id = v.id
        WHERE v.kind <> 0;
      DROP TABLE field_values;
    `,
  },
];

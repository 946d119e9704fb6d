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
  {
    version: 2,
    description:
      'field indexes: postings (collection, path, value, id) of chosen fields, one per scalar or array element, kept by a trigger',
    sql: `
      CREATE TABLE indexed_fields (
        collection text NOT NULL,
        path text NOT NULL,
        segments text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (collection, path)
      );
      CREATE TABLE field_postings (
        collection text NOT NULL,
        path text NOT NULL,
        value jsonb NOT NULL,
        id text COLLATE "C" NOT NULL,
        PRIMARY KEY (collection, path, value, id)
      );
      CREATE INDEX field_postings_by_document ON field_postings (collection, id);
      -- Every instance's writes keep the postings, whatever that instance knows of the indexes.
      CREATE FUNCTION field_postings_follow() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
      BEGIN
        IF TG_OP <> 'INSERT' THEN
          DELETE FROM field_postings WHERE collection = OLD.collection AND id = OLD.id;
        END IF;
        IF TG_OP <> 'DELETE' THEN
          INSERT INTO field_postings (collection, path, value, id)
          SELECT NEW.collection, f.path, e.v, NEW.id
          FROM indexed_fields f
          CROSS JOIN LATERAL jsonb_array_elements(
            CASE jsonb_typeof(NEW.data #> f.segments) WHEN 'array' THEN NEW.data #> f.segments
            ELSE jsonb_build_array(NEW.data #> f.segments) END) AS e(v)
          WHERE f.collection = NEW.collection AND jsonb_typeof(e.v) IN ('string', 'number', 'boolean')
          ON CONFLICT DO NOTHING;
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER documents_field_postings AFTER INSERT OR UPDATE OR DELETE ON documents
        FOR EACH ROW EXECUTE FUNCTION field_postings_follow();
    `,
  },
  {
    version: 3,
    description: 'field indexes the store made from use (counts only) told apart from those a feature asked for',
    sql: 'ALTER TABLE indexed_fields ADD COLUMN automatic boolean NOT NULL DEFAULT false',
  },
];

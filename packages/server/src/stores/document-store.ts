/**
 * The metadata store port: collections of schemaless JSON documents, queried with the
 * protocol's query language. The core talks only to this interface; adapters (SQLite here,
 * PostgreSQL later) compile the query tree to their own SQL with bound parameters, and all
 * pass `document-store.conformance.ts` unchanged.
 */
import type { FieldPath, Filter, JsonValue, SortKey } from '@larder/protocol';

/** A stored document: a JSON object with a string `_id`. */
export interface StoredDocument {
  _id: string;
  [key: string]: JsonValue;
}

export interface StoreFindOptions {
  filter: Filter;
  sort?: readonly SortKey[];
  skip?: number;
  /** `undefined`: no limit. */
  limit?: number | undefined;
  /**
   * The fields the caller will keep (`$select`; `_id` always): an adapter may answer only
   * these of each document, as `projectFields` keeps them, or whole documents. Callers
   * project what they are given either way. `undefined`: whole documents.
   */
  select?: readonly FieldPath[] | undefined;
}

export interface Page {
  /** How many documents match, whatever the skip and limit. */
  total: number;
  documents: StoredDocument[];
}

/** Pages of this many documents or more are read before their total is counted (`pageAndTotal`). */
export const BULK_PAGE = 1000;

/**
 * A page of `limit` matches from `skip` and their total, as the adapters answer `findPage`. A
 * small page and its count run at the same time. A bulk page (a client reading a listing a
 * large page at a time) runs first, alone: when it holds fewer matches than asked for, it
 * holds the last of them, so the total is its skip plus its length and no count reads the
 * matches a second time (at a million assets, all of two tags is ~1,400 documents, each on
 * its own page). An empty page past the start is counted: the matches may end anywhere
 * before the skip.
 */
export async function pageAndTotal<T>(
  options: Pick<StoreFindOptions, 'limit' | 'skip'>,
  page: () => Promise<T[]>,
  count: () => Promise<number>,
): Promise<{ total: number; page: T[] }> {
  const { limit, skip = 0 } = options;
  if (limit === 0) return { total: await count(), page: [] };
  if (limit === undefined || limit < BULK_PAGE) {
    const [rows, total] = await Promise.all([page(), count()]);
    return { total, page: rows };
  }
  const rows = await page();
  const short = rows.length < limit && (rows.length > 0 || skip === 0);
  return { total: short ? skip + rows.length : await count(), page: rows };
}

export interface Modification {
  before: StoredDocument;
  after: StoredDocument;
}

export interface DocumentStore {
  /** Adapter name for logs and `/health` (`sqlite`, `postgres`). */
  readonly kind: string;
  /** Creates or migrates the schema; safe to call on every start. */
  open(): Promise<void>;
  /** Finishes what is in flight and releases the database. */
  close(): Promise<void>;

  /** Collection names that have been created, sorted. */
  listCollections(): Promise<string[]>;
  /** Records a collection as existing (idempotent). */
  ensureCollection(collection: string): Promise<void>;

  find(collection: string, options: StoreFindOptions): Promise<StoredDocument[]>;
  count(collection: string, filter: Filter): Promise<number>;
  /** One page of matches and the total number of matches, read together. */
  findPage(collection: string, options: StoreFindOptions): Promise<Page>;
  /** Distinct non-null values of a field among matches; array values are unwound. */
  distinct(collection: string, path: FieldPath, filter: Filter): Promise<JsonValue[]>;

  /**
   * Keeps an index of a field's values (each element, for an array field such as `tags`), kept
   * in step with every write, so that equalities on it (`$in`: any of the values; several
   * equalities under one `$and`: all of them) are answered from the index and not by reading
   * every document. Idempotent; the first call fills the index from the stored documents.
   */
  indexField(collection: string, path: FieldPath): Promise<void>;

  /** Inserts all documents or none; a duplicate `_id` is a Conflict. */
  insert(collection: string, documents: readonly StoredDocument[]): Promise<void>;
  /**
   * Atomically replaces every match with `change(document)` (read, change and write in one
   * transaction). `change` must keep `_id`.
   */
  modify(
    collection: string,
    filter: Filter,
    change: (document: StoredDocument) => StoredDocument,
  ): Promise<Modification[]>;
  /** Atomically removes every match and answers what was removed. */
  remove(collection: string, filter: Filter): Promise<StoredDocument[]>;
}

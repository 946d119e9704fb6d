/**
 * Expression indexes for sorted pages on PostgreSQL: once a collection's pages have been
 * sorted on one field three times, an index on `(collection, that field's sort terms, id)` is
 * built, so the planner walks it in the page's order, tests the filter on each row and stops
 * at the limit instead of sorting every match (the runs search sorted on a metric summary).
 */
import { createHash } from 'node:crypto';
import type { FieldPath, SortKey } from '@larder/protocol';
import { isIdPath } from '../filter-leaves.js';
import { pathLiteral, sortTerms } from './postgres-query-compiler.js';

/** Sorts on a field after which it gets an index (as SQLite's field index counts its uses). */
const USES_BEFORE_INDEXING = 3;
/** Most sort indexes this instance builds for one collection. */
const MAX_SORT_INDEXES = 16;
/** Most sort indexes on the documents table, whatever built them (instances, restarts). */
const MAX_SORT_INDEXES_IN_TABLE = 64;

/** A deterministic name, so that every instance building the same index names it alike. */
export function sortIndexName(collection: string, path: FieldPath, direction: 1 | -1): string {
  const hash = createHash('sha256')
    .update(JSON.stringify([collection, path, direction]))
    .digest('hex');
  return `documents_sort_${hash.slice(0, 24)}`;
}

/** The index's definition, built without holding writes off; `undefined` for a path not spliced. */
export function sortIndexSql(name: string, path: FieldPath, direction: 1 | -1): string | undefined {
  const literal = pathLiteral(path);
  if (literal === undefined) return undefined;
  const order = direction === 1 ? 'ASC' : 'DESC';
  const terms = sortTerms(`(data #> ${literal})`).map((term) => `(${term}) ${order}`);
  return `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${name} ON documents (collection, ${terms.join(', ')}, id ASC)`;
}

export class PostgresSortIndexes {
  private readonly uses = new Map<string, number>();
  /** Names built, being built, or given up on. */
  private readonly decided = new Set<string>();
  private readonly perCollection = new Map<string, number>();

  /** @param schedule runs one build after those already scheduled (one at a time). */
  constructor(
    private readonly schedule: (build: (query: (sql: string) => Promise<{ n?: number }[]>) => Promise<void>) => void,
  ) {}

  /** Counts a page's sort; a single-field sort used often enough gets its index built. */
  noteSort(collection: string, sort: readonly SortKey[] | undefined): void {
    if (sort?.length !== 1) return;
    const [key] = sort as [SortKey];
    if (isIdPath(key.path)) return;
    const name = sortIndexName(collection, key.path, key.direction);
    if (this.decided.has(name) || (this.perCollection.get(collection) ?? 0) >= MAX_SORT_INDEXES) return;
    const uses = (this.uses.get(name) ?? 0) + 1;
    this.uses.set(name, uses);
    if (uses < USES_BEFORE_INDEXING) return;
    this.decided.add(name);
    const sql = sortIndexSql(name, key.path, key.direction);
    if (sql === undefined) return;
    this.perCollection.set(collection, (this.perCollection.get(collection) ?? 0) + 1);
    this.schedule(async (query) => {
      try {
        // Built before (by an earlier start or another instance): nothing to build or weigh again,
        // and no ANALYZE of the whole table at every start. One catalog look-up by name, asked
        // first: it is all a start with its indexes in place does, during its first queries.
        const built = await query(`SELECT (to_regclass('${name}') IS NOT NULL)::integer AS n`);
        if ((built[0]?.n ?? 0) > 0) return;
        const existing = await query(
          "SELECT count(*)::integer AS n FROM pg_class WHERE relkind = 'i' AND relnamespace = current_schema()::regnamespace AND relname LIKE 'documents\\_sort\\_%'",
        );
        if ((existing[0]?.n ?? 0) >= MAX_SORT_INDEXES_IN_TABLE) return;
        await query(sql);
        // The planner's statistics of the new expressions, which it weighs against sorting.
        await query('ANALYZE documents');
      } catch {
        // A failed concurrent build leaves an invalid index behind: remove it; pages stay right unindexed.
        await query(`DROP INDEX IF EXISTS ${name}`).catch(() => undefined);
      }
    });
  }
}

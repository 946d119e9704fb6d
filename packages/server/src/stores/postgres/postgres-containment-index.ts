/**
 * Containment indexes for all-of queries on PostgreSQL. A field a feature indexes
 * (`indexField`: the datalake's `tags`) also gets a GIN index of `data #> path`
 * (`jsonb_path_ops`), and an AND of two or more equalities on it (`tags` holding every one of
 * several values) is compiled to containment tests (`(data #> path) @> value`), which the
 * planner answers with one bitmap scan of that index, each value's rows intersected before a
 * document is read. The postings join it replaces reads every posting of the commonest value:
 * at a million assets, all 143,000 of `kind-5` to find the 1,429 that also hold `group-47`
 * (131 ms with cold caches; the index: 16 ms).
 *
 * `(data #> path) @> scalar` is true when the field is that scalar or an array holding it, as
 * an equality on the field is; only scalars are compared so, as only they have postings. The
 * index spans every collection (a partial one would not match a query whose collection is a
 * parameter); the query's own `collection = …` filters the rest. It is built without holding
 * writes off, and used only once PostgreSQL reports it valid: a build another instance is
 * still running, or one that failed, leaves the postings in use.
 */
import { createHash } from 'node:crypto';
import type { FieldPath } from '@larder/protocol';
import { pathLiteral } from './postgres-query-compiler.js';

/** A deterministic name, so that every instance building the same index names it alike. */
export function containmentIndexName(path: FieldPath): string {
  const hash = createHash('sha256').update(JSON.stringify(path)).digest('hex');
  return `documents_contains_${hash.slice(0, 24)}`;
}

/** The index's definition; `undefined` for a path that cannot be spliced into SQL. */
export function containmentIndexSql(path: FieldPath): string | undefined {
  const literal = pathLiteral(path);
  if (literal === undefined) return undefined;
  return `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${containmentIndexName(path)} ON documents USING gin ((data #> ${literal}) jsonb_path_ops)`;
}

/** Whether the named index exists and may be used (a concurrent build marks it valid when done). */
export const CONTAINMENT_INDEX_VALID_SQL =
  'SELECT i.indisvalid AS valid FROM pg_index AS i WHERE i.indexrelid = to_regclass($1)';

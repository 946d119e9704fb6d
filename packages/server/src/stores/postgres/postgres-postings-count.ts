/**
 * Counts answered from the field postings alone: a filter whose every leaf is an equality on
 * an indexed field (all-of, any-of, NOT, the permission filter's shape) is a set of ids, so
 * its exact total reads the postings' primary key and never a document.
 */
import type { FieldPath, Filter } from '@larder/protocol';
import { isIdPath } from '../filter-leaves.js';
import { indexedPathKey, type Parameters } from './postgres-query-compiler.js';

/** Which fields have postings: the explicit indexes and those the store made from use. */
export interface PostingsContext {
  collection: string;
  hasPostings: (pathKey: string) => boolean;
}

/**
 * The ids matching `filter` as a set expression over `field_postings` (`INTERSECT` for an AND,
 * `UNION` for an OR, the collection's ids `EXCEPT` the part for a NOT), or `undefined` when a
 * leaf needs the documents. `{ op: 'all' }` inside an AND is skipped; alone it needs them.
 */
export function compilePostingsSet(filter: Filter, params: Parameters, context: PostingsContext): string | undefined {
  switch (filter.op) {
    case 'eq': {
      if (isIdPath(filter.path) || filter.value === null || typeof filter.value === 'object') return undefined;
      const key = indexedPathKey(filter.path);
      if (!context.hasPostings(key)) return undefined;
      return `SELECT id FROM field_postings WHERE collection = ${params.bind(context.collection)} AND path = ${params.bind(key)} AND value = ${params.bind(JSON.stringify(filter.value))}::jsonb`;
    }
    case 'and': {
      const members = filter.filters.filter((part) => part.op !== 'all');
      const tested = members.filter((member) => probePairs(member, context) !== undefined);
      const driving = members.filter((member) => !tested.includes(member));
      if (driving.length === 0 || tested.length === 0) return combine(members, ' INTERSECT ', params, context);
      const driver = combine(driving, ' INTERSECT ', params, context);
      if (driver === undefined) return undefined;
      const tests = tested.map((member) => probeOf(member, params, context, 'm.id') as string);
      return `SELECT m.id FROM (${driver}) AS m WHERE ${tests.join(' AND ')}`;
    }
    case 'or': {
      return combine(filter.filters, ' UNION ', params, context);
    }
    case 'not': {
      const set = compilePostingsSet(filter.filter, params, context);
      if (set === undefined) return undefined;
      return `(SELECT id FROM documents WHERE collection = ${params.bind(context.collection)}) EXCEPT (${set})`;
    }
    default:
      return undefined;
  }
}

function combine(
  members: readonly Filter[],
  operator: ' INTERSECT ' | ' UNION ',
  params: Parameters,
  context: PostingsContext,
): string | undefined {
  if (members.length === 0) return undefined;
  const sets: string[] = [];
  for (const member of members) {
    const set = compilePostingsSet(member, params, context);
    if (set === undefined) return undefined;
    sets.push(`(${set})`);
  }
  return sets.join(operator);
}

/** `(path, value)` pairs of an equality, or of an OR of equalities, on fields with postings. */
function equalityPairs(filter: Filter, context: PostingsContext): { key: string; value: string }[] | undefined {
  const leaves = filter.op === 'or' ? filter.filters : [filter];
  if (leaves.length === 0) return undefined;
  const pairs: { key: string; value: string }[] = [];
  for (const leaf of leaves) {
    if (leaf.op !== 'eq' || isIdPath(leaf.path) || leaf.value === null || typeof leaf.value === 'object')
      return undefined;
    const key = indexedPathKey(leaf.path);
    if (!context.hasPostings(key)) return undefined;
    pairs.push({ key, value: JSON.stringify(leaf.value) });
  }
  return pairs;
}

/** The pairs of a member tested by {@link probeOf} (an OR of equalities, or a NOT of one or of such an OR). */
function probePairs(member: Filter, context: PostingsContext): { key: string; value: string }[] | undefined {
  if (member.op === 'not') return equalityPairs(member.filter, context);
  return member.op === 'or' ? equalityPairs(member, context) : undefined;
}

/**
 * An AND's OR of equalities (the permission filter) or NOT of them, as a test of each id the
 * AND's other members give: one probe of that document's postings by `(collection, id)`,
 * instead of the union of every posting of each value (all of one user's runs). `OFFSET 0`
 * keeps the probe a per-row test, which the planner would otherwise turn into a hash of them.
 */
function probeOf(member: Filter, params: Parameters, context: PostingsContext, id: string): string | undefined {
  const pairs = probePairs(member, context);
  if (pairs === undefined) return undefined;
  const negated = member.op === 'not';
  const tests = pairs.map(
    (pair) => `(p.path = ${params.bind(pair.key)} AND p.value = ${params.bind(pair.value)}::jsonb)`,
  );
  const exists = `EXISTS (SELECT 1 FROM field_postings p WHERE p.collection = ${params.bind(context.collection)} AND p.id = ${id} AND (${tests.join(' OR ')}) OFFSET 0)`;
  return negated ? `NOT ${exists}` : exists;
}

/** The count of {@link compilePostingsSet}'s ids, or `undefined` when the documents must be read. */
export function compilePostingsCount(filter: Filter, params: Parameters, context: PostingsContext): string | undefined {
  const set = compilePostingsSet(filter, params, context);
  return set === undefined ? undefined : `SELECT count(*)::integer AS n FROM (${set}) AS matches`;
}

/** The paths (as `indexedPathKey`) of a filter's equality leaves that postings could answer. */
export function equalityPathKeys(filter: Filter, out: Map<string, FieldPath> = new Map()): Map<string, FieldPath> {
  switch (filter.op) {
    case 'eq':
      if (!isIdPath(filter.path) && filter.value !== null && typeof filter.value !== 'object') {
        out.set(indexedPathKey(filter.path), filter.path);
      }
      break;
    case 'and':
    case 'or':
      for (const part of filter.filters) equalityPathKeys(part, out);
      break;
    case 'not':
      equalityPathKeys(filter.filter, out);
      break;
    default:
      break;
  }
  return out;
}

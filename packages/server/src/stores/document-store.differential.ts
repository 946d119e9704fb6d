/**
 * The differential test of a store's query compiler: random documents and random queries,
 * each evaluated by the store and by mingo, an independent implementation of MongoDB's
 * query semantics, which the query language follows; the protocol's in-memory evaluator
 * is held to the same oracle. Every adapter runs it unchanged:
 * `describeQueryDifferential('postgres', async () => ({ store, cleanup }))`.
 */
import { matchFilter, parseFieldPath, parseQuery } from '@larder/protocol';
import { Query } from 'mingo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DocumentStore, StoredDocument } from './document-store.js';

/** Small deterministic PRNG (mulberry32) so that a failure can be replayed by seed. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rand = () => number;
const pick = <T>(rand: Rand, items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
const STRINGS = ['a', 'b', 'ab', 'B', 'z', '', '10', '2', 'x y', 'é'];
const NUMBERS = [-3, -1, 0, 0.5, 1, 2, 2.5, 10, 100];

function scalar(rand: Rand): string | number | boolean | null {
  const r = rand();
  if (r < 0.4) return pick(rand, NUMBERS);
  if (r < 0.75) return pick(rand, STRINGS);
  if (r < 0.9) return rand() < 0.5;
  return null;
}

export function randomDocument(rand: Rand, index: number): StoredDocument {
  const doc: StoredDocument = { _id: `d${String(index).padStart(5, '0')}` };
  if (rand() < 0.85)
    doc.a = rand() < 0.2 ? Array.from({ length: Math.floor(rand() * 4) }, () => scalar(rand)) : scalar(rand);
  if (rand() < 0.85) doc.n = scalar(rand);
  if (rand() < 0.7) doc.b = rand() < 0.9 ? { c: scalar(rand), d: pick(rand, STRINGS) } : scalar(rand);
  if (rand() < 0.6) doc.tags = Array.from({ length: Math.floor(rand() * 4) }, () => pick(rand, STRINGS));
  return doc;
}

/** LIKE patterns over {@link STRINGS}: wildcards, ASCII case, a non-ASCII letter, regex and GLOB metacharacters. */
const LIKE_PATTERNS = ['a%', '%b', '_', '%', 'a_', '%B%', 'x%y', '1%', 'é', 'A%', '%_%', '', '[a]%', '*', 'x y'];

export const FIELDS = ['a', 'n', 'b.c', 'b.d', 'tags', 'tags.0', 'missing', '_id'];

function fieldCondition(rand: Rand, depth: number): unknown {
  const r = rand();
  const value = () => (rand() < 0.5 ? pick(rand, NUMBERS) : pick(rand, STRINGS));
  if (r < 0.2) return scalar(rand);
  if (r < 0.3) return { $ne: scalar(rand) };
  if (r < 0.45) return { $in: Array.from({ length: 1 + Math.floor(rand() * 3) }, () => scalar(rand)) };
  if (r < 0.55) return { $nin: Array.from({ length: 1 + Math.floor(rand() * 3) }, () => scalar(rand)) };
  if (r < 0.85) {
    const condition: Record<string, unknown> = { [pick(rand, ['$lt', '$lte', '$gt', '$gte'])]: value() };
    if (rand() < 0.4) condition[pick(rand, ['$lt', '$lte', '$gt', '$gte'])] = value();
    return condition;
  }
  if (r < 0.93) return { $exists: rand() < 0.5 };
  if (r < 0.97) return { [rand() < 0.5 ? '$like' : '$ilike']: pick(rand, LIKE_PATTERNS) };
  if (depth < 2) return { $not: fieldCondition(rand, depth + 1) };
  return { $eq: scalar(rand) };
}

export function randomFilter(rand: Rand, depth: number): Record<string, unknown> {
  const query: Record<string, unknown> = {};
  const fields = 1 + Math.floor(rand() * 2);
  for (let i = 0; i < fields; i++) {
    const field = pick(rand, FIELDS);
    const condition = fieldCondition(rand, depth);
    // `$not` needs an operator object in MongoDB.
    if (typeof condition === 'object' && condition !== null && '$not' in condition) {
      const inner = (condition as { $not: unknown }).$not;
      if (inner === null || typeof inner !== 'object') continue;
    }
    query[field] = condition;
  }
  if (depth < 2 && rand() < 0.3) {
    query[pick(rand, ['$or', '$and'])] = Array.from({ length: 1 + Math.floor(rand() * 3) }, () =>
      randomFilter(rand, depth + 1),
    );
  }
  if (depth < 2 && rand() < 0.1) query.$not = randomFilter(rand, depth + 1);
  return query;
}

/** A LIKE pattern as MongoDB's `$regex`; case-insensitive patterns fold ASCII letters only. */
function likeToRegex(pattern: string, caseInsensitive: boolean): { $regex: string; $options: string } {
  const source = Array.from(pattern, (char) => {
    if (char === '%') return '.*';
    if (char === '_') return '.';
    if (caseInsensitive && /[a-zA-Z]/.test(char)) return `[${char.toLowerCase()}${char.toUpperCase()}]`;
    return char.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
  }).join('');
  return { $regex: `^${source}$`, $options: 's' };
}

/** A field condition in MongoDB's language: `$like`/`$ilike` become `$regex`. */
function conditionToMongo(condition: unknown): unknown {
  if (condition === null || typeof condition !== 'object' || Array.isArray(condition)) return condition;
  const entries = Object.entries(condition as Record<string, unknown>);
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) {
    if (key === '$like' || key === '$ilike') Object.assign(out, likeToRegex(value as string, key === '$ilike'));
    else if (key === '$not') out.$not = conditionToMongo(value);
    else out[key] = value;
  }
  return out;
}

/** The same filter in MongoDB's language (top-level `$not` is `$nor`). */
export function toMongo(query: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(query)) {
    if (key === '$not') out.$nor = [toMongo(value as Record<string, unknown>)];
    else if (key === '$or' || key === '$and') out[key] = (value as Record<string, unknown>[]).map(toMongo);
    else out[key] = conditionToMongo(value);
  }
  return out;
}

/** The documents every run uses, and a random filter with the ids mingo says it matches. */
export function differentialCases(seed: number, count = 400) {
  const rand = random(seed);
  const documents = Array.from({ length: count }, (_, index) => randomDocument(rand, index));
  const next = () => {
    const raw = randomFilter(rand, 0);
    const expected = new Query(toMongo(raw))
      .find<StoredDocument>(documents)
      .all()
      .map((d) => d._id);
    return { raw, parsed: parseQuery(raw), expected };
  };
  return { rand, documents, next };
}

/**
 * @param options.indexFields index every field (`indexField`) after the first 100 documents,
 * so that queries are answered from the field indexes, filled both ways (from stored documents
 * and as documents are written).
 */
export function describeQueryDifferential(
  name: string,
  makeStore: () => Promise<{ store: DocumentStore; cleanup: () => Promise<void> }>,
  options: { indexFields?: boolean } = {},
): void {
  const title = options.indexFields ? `${name} with every field indexed` : name;
  describe(`query compiler of ${title} agrees with an independent evaluator`, () => {
    const { rand, documents, next } = differentialCases(20261122);
    let store: DocumentStore;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      ({ store, cleanup } = await makeStore());
      if (!options.indexFields) {
        await store.insert('docs', documents);
        return;
      }
      await store.insert('docs', documents.slice(0, 100));
      for (const field of FIELDS) if (field !== '_id') await store.indexField('docs', parseFieldPath(field));
      await store.insert('docs', documents.slice(100));
    });
    afterAll(() => cleanup());

    it('on 3000 random filters', async () => {
      let nonTrivial = 0;
      for (let i = 0; i < 3000; i++) {
        const { raw, parsed, expected } = next();
        const actual = (await store.find('docs', { filter: parsed.filter })).map((d) => d._id);
        const inMemory = documents.filter((d) => matchFilter(d, parsed.filter)).map((d) => d._id);
        if (expected.length > 0 && expected.length < documents.length) nonTrivial += 1;
        expect({ query: raw, ids: actual }).toEqual({ query: raw, ids: expected });
        expect({ query: raw, ids: inMemory }).toEqual({ query: raw, ids: expected });
        expect(await store.count('docs', parsed.filter)).toBe(expected.length);
      }
      // The generator must produce selective queries, or the comparison proves little.
      expect(nonTrivial).toBeGreaterThan(1000);
    }, 120_000);

    it('on 1000 random sorted pages', async () => {
      for (let i = 0; i < 1000; i++) {
        const raw = randomFilter(rand, 1);
        const sortField = pick(rand, ['n', 'b.c', 'b.d', '_id']);
        const direction = rand() < 0.5 ? 1 : -1;
        const skip = Math.floor(rand() * 20);
        const limit = 1 + Math.floor(rand() * 30);
        const parsed = parseQuery({ ...raw, $sort: { [sortField]: direction }, $skip: skip, $limit: limit });
        const expected = new Query(toMongo(raw))
          .find<StoredDocument>(documents)
          .sort({ [sortField]: direction })
          .all()
          .slice(skip, skip + limit)
          .map((d) => d._id);
        const actual = await store.find('docs', { filter: parsed.filter, sort: parsed.sort, skip, limit });
        expect({ raw, sortField, direction, ids: actual.map((d) => d._id) }).toEqual({
          raw,
          sortField,
          direction,
          ids: expected,
        });
      }
    });
  });
}

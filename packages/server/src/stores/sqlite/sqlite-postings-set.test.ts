/**
 * Counts and sort walks answered from postings alone (no document read) agree with a store
 * that never indexes: equalities, all-of, any-of across fields (the permission filter's
 * shape), NOT and `$nin`, values no document holds, type brackets, and through writes.
 */
import { parseFieldPath, parseFilter, parseQuery } from '@larder/protocol';
import { describe, expect, it } from 'vitest';
import type { StoredDocument } from '../document-store.js';
import { SqliteDocumentStore } from './sqlite-document-store.js';
import { compilePostingsCount } from './sqlite-postings-set.js';

const runs = (from: number, to: number): StoredDocument[] =>
  Array.from({ length: to - from }, (_, offset) => {
    const i = from + offset;
    return {
      _id: `run-${String(i).padStart(5, '0')}`,
      ...(i % 11 === 0 ? {} : { hparams: { optimizer: ['adam', 'sgd', 'rmsprop', 'adagrad'][i % 4] as string } }),
      userId: i % 5 === 0 ? 'ann' : 'bob',
      ...(i % 3 === 0 ? { public: true } : i % 3 === 1 ? { public: false } : {}),
      access: { readers: i % 4 === 0 ? ['user:cy', 'org:lab'] : [], writers: i % 6 === 0 ? ['user:cy'] : [] },
      // A number, its text and a boolean are three different values.
      seed: [7, '7', true, 8][i % 4] as number | string | boolean,
      ...(i % 7 === 0 ? {} : { metrics: { val: { accuracy: { last: ((i * 7919) % 500) / 500 } } } }),
    };
  });

const INDEXED = ['hparams.optimizer', 'userId', 'public', 'access.readers', 'access.writers', 'seed'];

/** The permission filter of the folder policy for user `cy` in organisation `lab`. */
const readableByCy = {
  $or: [
    { userId: 'cy' },
    { public: true },
    { 'access.readers': { $in: ['user:cy', 'org:lab'] } },
    { 'access.writers': { $in: ['user:cy', 'org:lab'] } },
  ],
};

const filters: object[] = [
  {},
  { 'hparams.optimizer': 'adam' },
  { 'hparams.optimizer': 'nobody' },
  { 'hparams.optimizer': { $in: ['adam', 'sgd', 'nobody'] } },
  { 'hparams.optimizer': { $nin: ['adam', 'sgd'] } },
  { 'hparams.optimizer': { $ne: 'adam' } },
  { $and: [{ 'hparams.optimizer': 'adam' }, readableByCy] },
  { $and: [{ 'hparams.optimizer': 'sgd' }, { userId: 'ann' }, { public: true }] },
  { $and: [{ 'hparams.optimizer': 'sgd' }, { $or: [{ userId: 'ann' }, { $not: { public: false } }] }] },
  { $or: [{ seed: 7 }, { seed: true }] },
  // An array holding two of the values is one match.
  { 'access.readers': { $in: ['user:cy', 'org:lab'] } },
  { seed: '7' },
  { $and: [{ seed: 7 }, { seed: '7' }] },
  { $or: [{ 'access.readers': 'org:lab' }, { 'hparams.optimizer': 'nobody' }] },
];

describe('SQLite filters answered from postings alone', () => {
  it('count and walk pages as a store without indexes does, through inserts, changes and removals', async () => {
    const indexed = new SqliteDocumentStore({ file: ':memory:', autoIndex: false });
    const plain = new SqliteDocumentStore({ file: ':memory:', autoIndex: false });
    await Promise.all([indexed.open(), plain.open()]);
    const both = (write: (store: SqliteDocumentStore) => Promise<unknown>) =>
      Promise.all([write(indexed), write(plain)]);
    await both((store) => store.insert('runs', runs(0, 600)));
    for (const field of [...INDEXED, 'metrics.val.accuracy.last']) {
      await indexed.indexField('runs', parseFieldPath(field));
    }
    await both((store) => store.insert('runs', runs(600, 1200)));
    const agree = async () => {
      for (const raw of filters) {
        const filter = parseFilter(raw);
        expect({ raw, count: await indexed.count('runs', filter) }).toEqual({
          raw,
          count: await plain.count('runs', filter),
        });
        const page = parseQuery({ ...raw, $sort: { 'metrics.val.accuracy.last': -1 }, $skip: 5, $limit: 40 });
        const options = { filter: page.filter, sort: page.sort, skip: page.skip, limit: page.limit };
        const [got, expected] = await Promise.all([indexed.findPage('runs', options), plain.findPage('runs', options)]);
        const found = await indexed.find('runs', options);
        // Sorted on a field the walk cannot take (mixed kinds): few matches are paged in one query,
        // and a page past the last match still has its total.
        for (const skip of [3, 100_000]) {
          const mixed = parseQuery({ ...raw, $sort: { seed: 1 }, $skip: skip, $limit: 25 });
          const mixedOptions = { filter: mixed.filter, sort: mixed.sort, skip: mixed.skip, limit: mixed.limit };
          expect({ raw, skip, page: await indexed.findPage('runs', mixedOptions) }).toEqual({
            raw,
            skip,
            page: await plain.findPage('runs', mixedOptions),
          });
        }
        expect({ raw, total: got.total, ids: got.documents.map((d) => d._id), found }).toEqual({
          raw,
          total: expected.total,
          ids: expected.documents.map((d) => d._id),
          found: expected.documents,
        });
      }
    };
    await agree();
    await both((store) =>
      store.modify('runs', parseFilter({ userId: 'ann' }), (run) => ({
        ...run,
        userId: 'cy',
        hparams: { optimizer: 'sgd' },
      })),
    );
    await both((store) => store.remove('runs', parseFilter({ 'hparams.optimizer': 'rmsprop', public: true })));
    await agree();
    await Promise.all([indexed.close(), plain.close()]);
  });

  it('is used only where every leaf is an equality on an indexed field', () => {
    const index = {
      indexed: (path: string) => path === '$."tags"',
      useful: () => true,
      term: () => ({ term: 1, postings: 10 }),
    };
    const compile = (raw: object) => compilePostingsCount('c', parseFilter(raw), index);
    expect(compile({ tags: 'a' })).toBeDefined();
    expect(compile({ $and: [{ tags: 'a' }, { tags: { $nin: ['b'] } }] })).toBeDefined();
    for (const raw of [
      { tags: 'a', size: 3 },
      { tags: { $gt: 'a' } },
      { tags: null },
      { tags: { $exists: true } },
      { _id: 'x' },
      { $or: [{ tags: 'a' }, { other: 'b' }] },
      { tags: { $like: 'a%' } },
    ]) {
      expect(compile(raw)).toBeUndefined();
    }
  });
});

/**
 * The conformance suite of the metadata store port. Every adapter runs it unchanged:
 * `describeDocumentStoreConformance('sqlite', async () => ({ store, cleanup }))`.
 */
import { LarderError, parseFilter, parseQuery } from '@larder/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { projectFields } from '../services/documents/project-fields.js';
import type { DocumentStore, StoredDocument } from './document-store.js';

export interface StoreFixture {
  store: DocumentStore;
  /** Closes the store and opens a new one on the same data (for persistence tests). */
  reopen: () => Promise<DocumentStore>;
  cleanup: () => Promise<void>;
}

const q = (query: object) => parseQuery(query);
const f = (filter: object) => parseFilter(filter);

function ids(documents: readonly StoredDocument[]): string[] {
  return documents.map((document) => document._id);
}

export function describeDocumentStoreConformance(name: string, makeFixture: () => Promise<StoreFixture>): void {
  describe(`document store conformance: ${name}`, () => {
    let fixture: StoreFixture;
    let store: DocumentStore;

    const seed: StoredDocument[] = [
      { _id: 'a1', name: 'alpha', n: 1, flag: true, tags: ['x', 'y'], nested: { lr: 0.1, opt: 'adam' } },
      { _id: 'a2', name: 'beta', n: 2, flag: false, tags: ['y'], nested: { lr: 0.01, opt: 'sgd' } },
      { _id: 'a3', name: 'gamma', n: 3, flag: true, tags: [], nested: { lr: 0.001 } },
      { _id: 'a4', name: 'delta', n: '4', flag: null },
      { _id: 'a5', name: 'epsilon', n: 5.5 },
    ];

    beforeEach(async () => {
      fixture = await makeFixture();
      store = fixture.store;
      await store.open();
      await store.insert('things', seed);
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    it('opens twice without harm (migrations are idempotent)', async () => {
      await store.open();
      expect(await store.count('things', f({}))).toBe(5);
    });

    it('finds by id and answers nothing for an unknown id', async () => {
      expect(await store.find('things', { filter: f({ _id: 'a2' }) })).toEqual([seed[1]]);
      expect(await store.find('things', { filter: f({ _id: 'nope' }) })).toEqual([]);
    });

    it('keeps collections apart', async () => {
      await store.insert('other', [{ _id: 'a1', name: 'elsewhere' }]);
      expect(await store.count('other', f({}))).toBe(1);
      expect((await store.find('things', { filter: f({ _id: 'a1' }) }))[0]?.name).toBe('alpha');
    });

    it('round-trips nested JSON exactly', async () => {
      const document: StoredDocument = {
        _id: 'deep',
        text: 'quote " backslash \\ unicode é ✓ 😀',
        big: 9007199254740991,
        negative: -0.5,
        list: [1, 'two', null, { three: [3] }],
        empty: {},
      };
      await store.insert('things', [document]);
      expect(await store.find('things', { filter: f({ _id: 'deep' }) })).toEqual([document]);
    });

    it('rejects a duplicate id with Conflict and inserts nothing of that batch', async () => {
      const attempt = store.insert('things', [{ _id: 'new1' }, { _id: 'a1' }]);
      await expect(attempt).rejects.toBeInstanceOf(LarderError);
      await expect(attempt).rejects.toMatchObject({ name: 'Conflict' });
      expect(await store.count('things', f({}))).toBe(5);
    });

    it('compares numbers with numbers and strings with strings', async () => {
      expect(ids(await store.find('things', { filter: f({ n: { $gt: 2 } }) }))).toEqual(['a3', 'a5']);
      expect(ids(await store.find('things', { filter: f({ n: { $gte: '4' } }) }))).toEqual(['a4']);
      expect(ids(await store.find('things', { filter: f({ n: 4 }) }))).toEqual([]);
    });

    it('matches array elements for equality, $in and ranges', async () => {
      expect(ids(await store.find('things', { filter: f({ tags: 'y' }) }))).toEqual(['a1', 'a2']);
      expect(ids(await store.find('things', { filter: f({ tags: { $in: ['x', 'z'] } }) }))).toEqual(['a1']);
      expect(ids(await store.find('things', { filter: f({ tags: { $nin: ['y'] } }) }))).toEqual(['a3', 'a4', 'a5']);
      expect(ids(await store.find('things', { filter: f({ tags: { $gt: 'x' } }) }))).toEqual(['a1', 'a2']);
    });

    it('treats null as missing-or-null, and $exists as presence', async () => {
      expect(ids(await store.find('things', { filter: f({ flag: null }) }))).toEqual(['a4', 'a5']);
      expect(ids(await store.find('things', { filter: f({ flag: { $ne: null } }) }))).toEqual(['a1', 'a2', 'a3']);
      expect(ids(await store.find('things', { filter: f({ flag: { $exists: true } }) }))).toEqual([
        'a1',
        'a2',
        'a3',
        'a4',
      ]);
      expect(ids(await store.find('things', { filter: f({ flag: false }) }))).toEqual(['a2']);
    });

    it('follows dot paths into nested objects', async () => {
      expect(ids(await store.find('things', { filter: f({ 'nested.lr': { $lt: 0.05 } }) }))).toEqual(['a2', 'a3']);
      expect(ids(await store.find('things', { filter: f({ 'nested.opt': { $ne: 'adam' } }) }))).toEqual([
        'a2',
        'a3',
        'a4',
        'a5',
      ]);
      expect(ids(await store.find('things', { filter: f({ 'tags.0': 'y' }) }))).toEqual(['a2']);
    });

    it('combines with $or, $and and $not', async () => {
      const filter = f({ $or: [{ name: 'alpha' }, { n: { $gte: 3, $lt: 5 } }], $not: { name: 'gamma' } });
      expect(ids(await store.find('things', { filter }))).toEqual(['a1']);
      const both = f({ $and: [{ flag: true }, { 'nested.lr': { $lt: 0.05 } }] });
      expect(ids(await store.find('things', { filter: both }))).toEqual(['a3']);
    });

    it('sorts by type rank then value, with id breaking ties, and pages', async () => {
      const byN = await store.find('things', { filter: f({}), sort: q({ $sort: { n: -1 } }).sort });
      expect(ids(byN)).toEqual(['a4', 'a5', 'a3', 'a2', 'a1']);
      const byFlag = await store.find('things', { filter: f({}), sort: q({ $sort: { flag: 1, name: 1 } }).sort });
      expect(ids(byFlag)).toEqual(['a4', 'a5', 'a2', 'a1', 'a3']);
      const page = await store.find('things', {
        filter: f({}),
        sort: q({ $sort: { name: 1 } }).sort,
        skip: 1,
        limit: 2,
      });
      expect(ids(page)).toEqual(['a2', 'a4']);
      expect(await store.find('things', { filter: f({}), skip: 10 })).toEqual([]);
      expect(await store.find('things', { filter: f({}), limit: 0 })).toEqual([]);
    });

    it('answers exact totals for bulk pages, whether they hold the last matches or not', async () => {
      const many = Array.from({ length: 1_200 }, (_, n) => ({
        _id: `m${String(n).padStart(4, '0')}`,
        n,
        even: n % 2 === 0,
      }));
      await store.ensureCollection('bulk');
      await store.insert('bulk', many);
      const even = f({ even: true });
      expect(await store.findPage('bulk', { filter: f({}), limit: 1_000 })).toMatchObject({ total: 1_200 });
      const last = await store.findPage('bulk', { filter: f({}), skip: 1_000, limit: 1_000 });
      expect([last.total, last.documents.length, last.documents[0]?._id]).toEqual([1_200, 200, 'm1000']);
      const short = await store.findPage('bulk', { filter: even, skip: 100, limit: 1_000 });
      expect([short.total, short.documents.length]).toEqual([600, 500]);
      expect(await store.findPage('bulk', { filter: even, skip: 5_000, limit: 1_000 })).toEqual({
        total: 600,
        documents: [],
      });
      expect(await store.findPage('bulk', { filter: f({ n: -1 }), limit: 1_000 })).toEqual({ total: 0, documents: [] });
    });

    it('reads a page and the total together', async () => {
      const sort = q({ $sort: { name: 1 } }).sort;
      const page = await store.findPage('things', { filter: f({}), sort, skip: 1, limit: 2 });
      expect(page.total).toBe(5);
      expect(ids(page.documents)).toEqual(['a2', 'a4']);
      const filtered = await store.findPage('things', { filter: f({ flag: true }), sort, limit: 10 });
      expect(filtered).toEqual({ total: 2, documents: [seed[0], seed[2]] });
      expect(await store.findPage('things', { filter: f({ flag: true }), skip: 5, limit: 10 })).toEqual({
        total: 2,
        documents: [],
      });
      expect(await store.findPage('things', { filter: f({}), limit: 0 })).toEqual({ total: 5, documents: [] });
      expect(await store.findPage('things', { filter: f({ name: 'nobody' }), limit: 10 })).toEqual({
        total: 0,
        documents: [],
      });
      const all = await store.findPage('things', { filter: f({}), sort: q({ $sort: { n: -1 } }).sort });
      expect(ids(all.documents)).toEqual(['a4', 'a5', 'a3', 'a2', 'a1']);
    });

    it("answers a page's selected fields as $select keeps them: nested, null, missing and array elements", async () => {
      const page = async (fields: string[]) => {
        const { sort, select } = q({ $sort: { _id: 1 }, $select: fields });
        const answer = await store.findPage('things', { filter: f({}), sort, limit: 10, select });
        expect(answer.total).toBe(5);
        for (const document of answer.documents) expect(Object.keys(document)).toContain('_id');
        // An adapter may answer whole documents: what the caller keeps of them is what counts.
        return answer.documents.map((document) => projectFields(document, select));
      };
      expect(await page(['nested.lr', 'flag', 'nope', '_id', 'nested.opt'])).toEqual([
        { _id: 'a1', nested: { lr: 0.1, opt: 'adam' }, flag: true },
        { _id: 'a2', nested: { lr: 0.01, opt: 'sgd' }, flag: false },
        { _id: 'a3', nested: { lr: 0.001 }, flag: true },
        { _id: 'a4', flag: null },
        { _id: 'a5' },
      ]);
      expect(await page(['tags.0', 'nested'])).toEqual([
        { _id: 'a1', tags: { 0: 'x' }, nested: seed[0]?.nested },
        { _id: 'a2', tags: { 0: 'y' }, nested: seed[1]?.nested },
        { _id: 'a3', nested: seed[2]?.nested },
        { _id: 'a4' },
        { _id: 'a5' },
      ]);
    });

    it('counts matches', async () => {
      expect(await store.count('things', f({ flag: true }))).toBe(2);
      expect(await store.count('empty', f({}))).toBe(0);
    });

    it('answers distinct values, unwinding arrays and skipping null', async () => {
      const values = await store.distinct('things', ['tags'], f({}));
      expect([...values].sort()).toEqual(['x', 'y']);
      const names = await store.distinct('things', ['flag'], f({}));
      expect([...names].sort()).toEqual([false, true]);
    });

    it('modifies every match atomically and answers before and after', async () => {
      const changes = await store.modify('things', f({ flag: true }), (document) => ({ ...document, seen: 1 }));
      expect(changes.map((change) => change.before._id)).toEqual(['a1', 'a3']);
      expect(changes[0]?.before.seen).toBeUndefined();
      expect(changes[0]?.after.seen).toBe(1);
      expect(await store.count('things', f({ seen: 1 }))).toBe(2);
    });

    it('rolls a failed modification back entirely', async () => {
      let calls = 0;
      const attempt = store.modify('things', f({}), (document) => {
        calls += 1;
        if (calls === 3) throw new LarderError('BadRequest', 'refused');
        return { ...document, touched: true };
      });
      await expect(attempt).rejects.toMatchObject({ name: 'BadRequest' });
      expect(await store.count('things', f({ touched: true }))).toBe(0);
    });

    it('refuses to change an id', async () => {
      await expect(store.modify('things', f({ _id: 'a1' }), (d) => ({ ...d, _id: 'zz' }))).rejects.toBeInstanceOf(
        LarderError,
      );
      expect(await store.count('things', f({ _id: 'a1' }))).toBe(1);
    });

    it('removes matches and answers them', async () => {
      const removed = await store.remove('things', f({ n: { $lt: 3 } }));
      expect(ids(removed)).toEqual(['a1', 'a2']);
      expect(await store.count('things', f({}))).toBe(3);
      expect(await store.remove('things', f({ _id: 'a1' }))).toEqual([]);
    });

    it('lists collections it was told about', async () => {
      await store.ensureCollection('things');
      await store.ensureCollection('alpha');
      await store.ensureCollection('things');
      expect(await store.listCollections()).toEqual(['alpha', 'things']);
    });

    it('treats hostile field names as data', async () => {
      const hostile = "x'); DROP TABLE documents; --";
      await store.insert('things', [{ _id: 'h', [hostile]: 1 }]);
      expect(ids(await store.find('things', { filter: f({ [hostile]: 1 }) }))).toEqual(['h']);
      expect(await store.count('things', f({}))).toBe(6);
    });

    it('keeps what was written across a reopen', async () => {
      await store.insert('things', [{ _id: 'late', v: 42 }]);
      store = await fixture.reopen();
      expect(await store.find('things', { filter: f({ _id: 'late' }) })).toEqual([{ _id: 'late', v: 42 }]);
    });
  });
}

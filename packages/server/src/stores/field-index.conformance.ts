/**
 * The conformance suite of the store's field indexes (`indexField`), run unchanged by every
 * adapter: once a field is indexed, the answers are the same as without the index (all-of,
 * any-of, with other filters, pages with exact totals), and stay so through inserts, changes,
 * removals and a reopen.
 */
import { parseFilter, parseQuery } from '@larder/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoreFixture } from './document-store.conformance.js';
import type { DocumentStore, StoredDocument } from './document-store.js';

const f = (filter: object) => parseFilter(filter);
const ids = (documents: readonly StoredDocument[]) => documents.map((document) => document._id);

/** 140 pictures tagged `g<i % 10>` and `k<i % 7>` (so `g3` and `k3` together match 1 in 70), half `even`. */
const pictures: StoredDocument[] = Array.from({ length: 140 }, (_, i) => ({
  _id: `p${String(i).padStart(3, '0')}`,
  tags: [`g${i % 10}`, `k${i % 7}`, ...(i % 2 === 0 ? ['even'] : [])],
  size: i,
  owner: i % 3 === 0 ? 'ann' : 'bob',
  createdAt: new Date(Date.UTC(2026, 0, 1) + (140 - i) * 1000).toISOString(),
}));

export function describeFieldIndexConformance(name: string, makeFixture: () => Promise<StoreFixture>): void {
  describe(`field index conformance: ${name}`, () => {
    let fixture: StoreFixture;
    let store: DocumentStore;
    const find = async (filter: object) => ids(await store.find('pictures', { filter: f(filter) }));
    /** What a store without the index answers: the documents filtered in memory, in id order. */
    const expected = (keep: (picture: StoredDocument) => boolean) => ids(pictures.filter(keep));
    const has = (picture: StoredDocument, tag: string) => (picture.tags as string[]).includes(tag);

    beforeEach(async () => {
      fixture = await makeFixture();
      store = fixture.store;
      await store.open();
      await store.insert('pictures', pictures.slice(0, 70));
      await store.indexField('pictures', ['tags']);
      await store.indexField('pictures', ['tags']);
      await store.insert('pictures', pictures.slice(70));
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    it('answers all-of, any-of and none-of the tags as without the index', async () => {
      expect(await find({ $and: [{ tags: 'g3' }, { tags: 'k3' }] })).toEqual(
        expected((p) => has(p, 'g3') && has(p, 'k3')),
      );
      expect(await find({ $and: [{ tags: 'g3' }, { tags: 'k3' }, { tags: 'even' }] })).toEqual(
        expected((p) => has(p, 'g3') && has(p, 'k3') && has(p, 'even')),
      );
      expect(await find({ tags: { $in: ['g1', 'k2'] } })).toEqual(expected((p) => has(p, 'g1') || has(p, 'k2')));
      expect(await find({ tags: { $nin: ['even', 'g1'] } })).toEqual(expected((p) => !has(p, 'even') && !has(p, 'g1')));
      expect(await find({ $and: [{ tags: 'g3' }, { tags: 'nobody' }] })).toEqual([]);
      expect(await find({ tags: { $in: ['nobody', 'g9'] } })).toEqual(expected((p) => has(p, 'g9')));
    });

    it('combines the tags with other filters and counts exactly', async () => {
      const filter = { $and: [{ tags: 'even' }, { tags: 'k1' }], owner: 'ann', size: { $gte: 20 } };
      const want = expected((p) => has(p, 'even') && has(p, 'k1') && p.owner === 'ann' && (p.size as number) >= 20);
      expect(want.length).toBeGreaterThan(0);
      expect(await find(filter)).toEqual(want);
      expect(await store.count('pictures', f(filter))).toBe(want.length);
      const anyOf = { $or: [{ tags: { $in: ['g0', 'g5'] } }, { owner: 'nobody' }], size: { $lt: 100 } };
      expect(await find(anyOf)).toEqual(expected((p) => (has(p, 'g0') || has(p, 'g5')) && (p.size as number) < 100));
    });

    it('counts the shape of the permission filter (an OR of equalities, a NOT) with the tags exactly', async () => {
      await store.indexField('pictures', ['owner']);
      const visible = (p: StoredDocument) => p.owner === 'ann' || has(p, 'g1');
      const cases: [object, (p: StoredDocument) => boolean][] = [
        [
          { $and: [{ $or: [{ owner: 'ann' }, { tags: 'g1' }] }, { tags: 'even' }] },
          (p) => visible(p) && has(p, 'even'),
        ],
        [{ $and: [{ tags: 'even' }, { owner: { $ne: 'ann' } }] }, (p) => has(p, 'even') && p.owner !== 'ann'],
        [
          { $and: [{ $or: [{ owner: 'ann' }, { tags: 'g1' }] }, { tags: { $nin: ['k1', 'k2'] } }, { tags: 'g2' }] },
          (p) => visible(p) && !has(p, 'k1') && !has(p, 'k2') && has(p, 'g2'),
        ],
        [{ $or: [{ owner: 'nobody' }, { tags: 'g1' }], tags: 'k1' }, (p) => has(p, 'g1') && has(p, 'k1')],
      ];
      const check = async (documents: readonly StoredDocument[]) => {
        for (const [filter, keep] of cases) {
          const want = documents.filter(keep).length;
          expect(await store.count('pictures', f(filter))).toBe(want);
          expect((await store.findPage('pictures', { filter: f(filter), limit: 3 })).total).toBe(want);
        }
      };
      await check(pictures);
      // The postings follow a change and a removal.
      await store.modify('pictures', f({ _id: 'p000' }), (p) => ({ ...p, owner: 'bob', tags: ['g2'] }));
      await store.remove('pictures', f({ _id: 'p002' }));
      const now = pictures
        .filter((p) => p._id !== 'p002')
        .map((p) => (p._id === 'p000' ? { ...p, owner: 'bob', tags: ['g2'] } : p));
      await check(now);
    });

    it('answers a page sorted on a field alike however often that sort is asked for', async () => {
      const { filter, sort } = parseQuery({ tags: 'even', $sort: { size: -1 } });
      const want = ids(pictures.filter((p) => has(p, 'even')).sort((a, b) => (b.size as number) - (a.size as number)));
      // Repeated sorts may make the store build an index for them (in the background, waited for at reopen).
      for (let use = 0; use < 4; use += 1) {
        const page = await store.findPage('pictures', { filter, sort, skip: 2, limit: 5 });
        expect({ total: page.total, ids: ids(page.documents) }).toEqual({ total: want.length, ids: want.slice(2, 7) });
      }
      store = await fixture.reopen();
      await store.insert('pictures', [
        { _id: 'q000', tags: ['even'], size: 1000 },
        { _id: 'q001', tags: ['even'] },
      ]);
      const page = await store.findPage('pictures', { filter, sort, limit: 3 });
      expect({ total: page.total, ids: ids(page.documents) }).toEqual({
        total: want.length + 2,
        ids: ['q000', ...want.slice(0, 2)],
      });
      const last = await store.findPage('pictures', { filter, sort, skip: want.length + 1, limit: 3 });
      expect(ids(last.documents)).toEqual(['q001']);
    });

    it('pages the matches in sort order with the exact total', async () => {
      const { filter, sort } = parseQuery({
        $and: [{ tags: 'even' }, { tags: { $in: ['k0', 'k1', 'k2'] } }],
        $sort: { createdAt: 1 },
      });
      const all = pictures
        .filter((p) => has(p, 'even') && ['k0', 'k1', 'k2'].some((tag) => has(p, tag)))
        .sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)));
      const page = await store.findPage('pictures', { filter, sort, skip: 5, limit: 10 });
      expect(page.total).toBe(all.length);
      expect(ids(page.documents)).toEqual(ids(all.slice(5, 15)));
      const past = await store.findPage('pictures', { filter, sort, skip: all.length, limit: 10 });
      expect(past).toEqual({ total: all.length, documents: [] });
    });

    it('pages all of two tags with the exact total, to the last page and past it', async () => {
      const { filter, sort } = parseQuery({ $and: [{ tags: 'k3' }, { tags: 'even' }], $sort: { createdAt: -1 } });
      const all = ids(
        pictures
          .filter((p) => has(p, 'k3') && has(p, 'even'))
          .sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt))),
      );
      expect(all.length).toBe(10);
      for (const skip of [0, 4, 8]) {
        const page = await store.findPage('pictures', { filter, sort, skip, limit: 4 });
        expect({ total: page.total, ids: ids(page.documents) }).toEqual({ total: 10, ids: all.slice(skip, skip + 4) });
      }
      for (const skip of [10, 50]) {
        expect(await store.findPage('pictures', { filter, sort, skip, limit: 4 })).toEqual({
          total: 10,
          documents: [],
        });
      }
      const none = parseQuery({ $and: [{ tags: 'g3' }, { tags: 'k9' }] }).filter;
      expect(await store.findPage('pictures', { filter: none, limit: 3 })).toEqual({ total: 0, documents: [] });
      const counted = await store.findPage('pictures', { filter, sort, limit: 0 });
      expect(counted).toEqual({ total: 10, documents: [] });
    });

    it('gives every page of a bounded listing its exact total: short, exactly full, whole, past the end', async () => {
      // All of two tags and a field that must exist (the datalake's listing of pictures), and
      // one tag alone, whose 70 matches are more than any page here holds.
      const cases = [
        {
          query: { $and: [{ tags: 'k3' }, { tags: 'even' }, { owner: { $exists: true } }] },
          keep: (p: StoredDocument) => has(p, 'k3') && has(p, 'even'),
        },
        { query: { tags: 'even' }, keep: (p: StoredDocument) => has(p, 'even') },
      ];
      for (const { query, keep } of cases) {
        const { filter, sort } = parseQuery({ ...query, $sort: { createdAt: 1 } });
        const all = ids(pictures.filter(keep).sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt))));
        for (const limit of [undefined, 1, 5, 10, 11, 70, 100]) {
          for (const skip of [0, 5, 9, 10, 11, 69, 70, 200]) {
            const page = await store.findPage('pictures', { filter, sort, skip, limit });
            const end = limit === undefined ? undefined : skip + limit;
            expect({ skip, limit, total: page.total, ids: ids(page.documents) }).toEqual({
              skip,
              limit,
              total: all.length,
              ids: all.slice(skip, end),
            });
          }
        }
      }
    });

    it('answers each page of a listing as of the last write, however the writes fall between its pages', async () => {
      const { filter, sort } = parseQuery({ $and: [{ tags: 'g4' }, { tags: 'even' }], $sort: { createdAt: 1 } });
      let current = pictures.filter((p) => has(p, 'g4') && has(p, 'even'));
      const inOrder = () => ids([...current].sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt))));
      const page = async (skip: number) => {
        const answer = await store.findPage('pictures', { filter, sort, skip, limit: 2 });
        return { total: answer.total, ids: ids(answer.documents) };
      };
      expect(await page(0)).toEqual({ total: current.length, ids: inOrder().slice(0, 2) });
      // A new match sorted first: the next page shifts by one.
      const early = { _id: 'early', tags: ['g4', 'even'], createdAt: '2025-01-01T00:00:00.000Z' };
      await store.insert('pictures', [early]);
      current = [...current, early];
      expect(await page(2)).toEqual({ total: current.length, ids: inOrder().slice(2, 4) });
      // A match moved last by its sort field, and another no longer matching.
      const [moved, dropped] = current.filter((p) => p._id !== 'early');
      await store.modify('pictures', f({ _id: moved?._id }), (doc) => ({
        ...doc,
        createdAt: '2030-01-01T00:00:00.000Z',
      }));
      await store.modify('pictures', f({ _id: dropped?._id }), (doc) => ({ ...doc, tags: ['g4'] }));
      current = current
        .filter((p) => p._id !== dropped?._id)
        .map((p) => (p._id === moved?._id ? { ...p, createdAt: '2030-01-01T00:00:00.000Z' } : p));
      expect(await page(0)).toEqual({ total: current.length, ids: inOrder().slice(0, 2) });
      expect((await page(current.length - 1)).ids).toEqual([moved?._id]);
      await store.remove('pictures', f({ _id: 'early' }));
      current = current.filter((p) => p._id !== 'early');
      expect(await page(0)).toEqual({ total: current.length, ids: inOrder().slice(0, 2) });
    });

    it('follows inserts, changes and removals', async () => {
      await store.insert('pictures', [{ _id: 'new', tags: ['g3', 'k3', 'g3'] }]);
      await store.modify('pictures', f({ _id: 'p003' }), (doc) => ({ ...doc, tags: ['k3'] }));
      await store.modify('pictures', f({ _id: 'p010' }), (doc) => ({ ...doc, tags: 'g3' }));
      await store.remove('pictures', f({ _id: 'p073' }));
      expect(await find({ $and: [{ tags: 'g3' }, { tags: 'k3' }] })).toEqual(['new']);
      const g3 = new Set(expected((p) => has(p, 'g3')));
      g3.delete('p003');
      g3.delete('p073');
      g3.add('p010');
      g3.add('new');
      expect(await find({ tags: 'g3' })).toEqual([...g3].sort());
      await store.remove('pictures', f({ tags: 'k3' }));
      expect(await find({ tags: 'k3' })).toEqual([]);
      expect(await store.count('pictures', f({ tags: { $in: ['k3', 'new'] } }))).toBe(0);
    });

    it('keeps type brackets: a number, its text and a boolean are different values', async () => {
      await store.insert('pictures', [
        { _id: 'n1', tags: [1, true] },
        { _id: 's1', tags: ['1', 'true'] },
        { _id: 'f1', tags: [1.5, false, null] },
      ]);
      expect(await find({ tags: 1 })).toEqual(['n1']);
      expect(await find({ tags: '1' })).toEqual(['s1']);
      expect(await find({ tags: true })).toEqual(['n1']);
      expect(await find({ tags: { $in: [false, 1.5] } })).toEqual(['f1']);
      expect(await find({ $and: [{ tags: 1 }, { tags: true }] })).toEqual(['n1']);
    });

    it('keeps the index across a reopen and goes on following writes', async () => {
      store = await fixture.reopen();
      await store.indexField('pictures', ['tags']);
      await store.insert('pictures', [{ _id: 'late', tags: ['g3', 'k3'] }]);
      expect(await find({ $and: [{ tags: 'g3' }, { tags: 'k3' }] })).toEqual(
        ['late', ...expected((p) => has(p, 'g3') && has(p, 'k3'))].sort(),
      );
    });
  });
}

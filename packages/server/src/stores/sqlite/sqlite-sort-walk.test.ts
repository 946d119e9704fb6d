/**
 * Pages sorted on an indexed number field (read by walking the field's terms where that is
 * sure) agree with a store that never indexes, through the writes that make a walk unsafe.
 */
import { parseFieldPath, parseQuery } from '@larder/protocol';
import { describe, expect, it } from 'vitest';
import type { StoredDocument } from '../document-store.js';
import { SqliteDocumentStore } from './sqlite-document-store.js';

const runs = (from: number, to: number): StoredDocument[] =>
  Array.from({ length: to - from }, (_, offset) => {
    const i = from + offset;
    return {
      _id: `run-${String(i).padStart(5, '0')}`,
      hparams: { optimizer: ['adam', 'sgd', 'rmsprop', 'adagrad'][i % 4] as string },
      // Ties (the same accuracy on several runs) and runs without the metric.
      ...(i % 7 === 0 ? {} : { metrics: { val: { accuracy: { last: ((i * 7919) % 500) / 500 } } } }),
    };
  });

describe('SQLite pages sorted on an indexed number field', () => {
  it('answer what the plain query answers, before and after a string, an array or an object lands in the field', async () => {
    const indexed = new SqliteDocumentStore({ file: ':memory:' });
    const plain = new SqliteDocumentStore({ file: ':memory:', autoIndex: false });
    await Promise.all([indexed.open(), plain.open()]);
    const both = (write: (store: SqliteDocumentStore) => Promise<unknown>) =>
      Promise.all([write(indexed), write(plain)]);
    await both((store) => store.insert('runs', runs(0, 2000)));
    await indexed.indexField('runs', parseFieldPath('metrics.val.accuracy.last'));
    await indexed.indexField('runs', parseFieldPath('hparams.optimizer'));
    const pages = [
      { 'hparams.optimizer': 'adam', $sort: { 'metrics.val.accuracy.last': -1 }, $limit: 100 },
      { 'hparams.optimizer': 'sgd', $sort: { 'metrics.val.accuracy.last': -1 }, $skip: 37, $limit: 20 },
      // Past the runs with the metric: the rest of the page is the runs without it.
      { $sort: { 'metrics.val.accuracy.last': -1 }, $skip: 1700, $limit: 100 },
      { $sort: { 'metrics.val.accuracy.last': 1 }, $limit: 50 },
    ];
    const agree = async () => {
      for (const raw of pages) {
        const { filter, sort, skip, limit } = parseQuery(raw);
        const options = { filter, sort, ...(skip ? { skip } : {}), limit };
        const [got, expected] = await Promise.all([indexed.findPage('runs', options), plain.findPage('runs', options)]);
        expect({ raw, total: got.total, ids: got.documents.map((d) => d._id) }).toEqual({
          raw,
          total: expected.total,
          ids: expected.documents.map((d) => d._id),
        });
      }
    };
    await agree();
    for (const odd of ['a string', [0.5, 2], { nested: 1 }]) {
      await both((store) =>
        store.insert('runs', [
          {
            _id: `odd-${JSON.stringify(odd)}`,
            hparams: { optimizer: 'adam' },
            metrics: { val: { accuracy: { last: odd } } },
          },
        ]),
      );
      await agree();
    }
    await Promise.all([indexed.close(), plain.close()]);
  });
});

/**
 * The SQLite compiler under the shared differential test, without automatic field indexes
 * (so the JSON probes are what is checked), and again with every field indexed.
 */
import { parseFieldPath } from '@larder/protocol';
import { describe, expect, it } from 'vitest';
import { describeQueryDifferential, differentialCases, FIELDS } from '../document-store.differential.js';
import { SqliteDocumentStore } from './sqlite-document-store.js';

describeQueryDifferential('sqlite', async () => {
  const store = new SqliteDocumentStore({ file: ':memory:', autoIndex: false });
  await store.open();
  return { store, cleanup: () => store.close() };
});

describeQueryDifferential(
  'sqlite',
  async () => {
    const store = new SqliteDocumentStore({ file: ':memory:', autoIndex: false, maxIndexSelectivity: 1 });
    await store.open();
    return { store, cleanup: () => store.close() };
  },
  { indexFields: true },
);

describe('the SQLite compiler with field indexes', () => {
  it('agrees with the oracle on 2000 random filters with every field indexed', async () => {
    const { documents, next } = differentialCases(7);
    const indexed = new SqliteDocumentStore({ file: ':memory:', maxIndexSelectivity: 1 });
    await indexed.open();
    await indexed.insert('docs', documents.slice(0, 200));
    for (const field of FIELDS) if (field !== '_id') await indexed.indexField('docs', parseFieldPath(field));
    // Documents written after the index exists must be indexed too.
    await indexed.insert('docs', documents.slice(200));
    for (let i = 0; i < 2000; i++) {
      const { raw, parsed, expected } = next();
      const actual = (await indexed.find('docs', { filter: parsed.filter })).map((d) => d._id);
      expect({ query: raw, ids: actual }).toEqual({ query: raw, ids: expected });
    }
    await indexed.close();
  });
});

import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFilter, parseQuery } from '@larder/protocol';
import { describe, expect, it } from 'vitest';
import { describeDocumentStoreConformance, type StoreFixture } from '../document-store.conformance.js';
import { describeFieldIndexConformance } from '../field-index.conformance.js';
import { SqliteDocumentStore, type SqliteDocumentStoreOptions } from './sqlite-document-store.js';

async function fixture(options: Omit<SqliteDocumentStoreOptions, 'file'> = {}): Promise<StoreFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'larder-sqlite-'));
  const file = join(dir, 'larder.db');
  let store = new SqliteDocumentStore({ ...options, file });
  return {
    store,
    reopen: async () => {
      await store.close();
      store = new SqliteDocumentStore({ ...options, file });
      await store.open();
      return store;
    },
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describeDocumentStoreConformance('sqlite', () => fixture());
// Indexes used whatever the share of documents a value matches, so the index path is what is checked.
describeFieldIndexConformance('sqlite', () => fixture({ maxIndexSelectivity: 1 }));
describeFieldIndexConformance('sqlite, indexes used as the statistics decide', () => fixture());

describe('sqlite: a listing kept between pages', () => {
  it('follows a write committed by another connection to the same file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'larder-sqlite-'));
    const file = join(dir, 'larder.db');
    const reader = new SqliteDocumentStore({ file, maxIndexSelectivity: 1 });
    const writer = new SqliteDocumentStore({ file, maxIndexSelectivity: 1 });
    try {
      await reader.open();
      const tagged = Array.from({ length: 30 }, (_, i) => ({
        _id: `p${String(i).padStart(2, '0')}`,
        tags: ['a', ...(i % 3 === 0 ? ['b'] : [])],
        createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      }));
      await reader.insert('pictures', tagged);
      await reader.indexField('pictures', ['tags']);
      const { filter, sort } = parseQuery({ $and: [{ tags: 'a' }, { tags: 'b' }], $sort: { createdAt: 1 } });
      const page = async (skip: number) => {
        const answer = await reader.findPage('pictures', { filter, sort, skip, limit: 4 });
        return { total: answer.total, ids: answer.documents.map((document) => document._id) };
      };
      expect(await page(0)).toEqual({ total: 10, ids: ['p00', 'p03', 'p06', 'p09'] });
      await writer.open();
      await writer.insert('pictures', [{ _id: 'first', tags: ['a', 'b'], createdAt: '2025-06-01T00:00:00.000Z' }]);
      expect(await page(0)).toEqual({ total: 11, ids: ['first', 'p00', 'p03', 'p06'] });
      await writer.remove('pictures', parseFilter({ _id: 'p03' }));
      expect(await page(0)).toEqual({ total: 10, ids: ['first', 'p00', 'p06', 'p09'] });
    } finally {
      await writer.close();
      await reader.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('sqlite: the WAL is copied back once it holds walCheckpointPages pages', () => {
  // These writes give the event loop no turn, so the main connection never copies the rest
  // of a worker's pass: the WAL is bounded by passes that end between two writes, and
  // otherwise by the writer's own checkpoint at four times the threshold.
  /** The WAL file's size after writing ~2 MiB of random-key documents, 100 per commit. */
  async function walBytesAfterWrites(walCheckpointPages: number): Promise<number> {
    const dir = await mkdtemp(join(tmpdir(), 'larder-sqlite-'));
    const file = join(dir, 'larder.db');
    const store = new SqliteDocumentStore({ file, readers: 0, walCheckpointPages });
    try {
      await store.open();
      const body = 'x'.repeat(1000);
      for (let batch = 0; batch < 20; batch += 1) {
        const rows = Array.from({ length: 100 }, (_, i) => ({
          _id: `${(batch * 7919 + i * 104_729) % 100_003}`,
          body,
        }));
        await store.insert('rows', rows);
      }
      expect(await store.count('rows', { op: 'all' })).toBe(2000);
      return (await stat(`${file}-wal`)).size;
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('keeps the WAL near the threshold, and lets it grow when the threshold is larger', async () => {
    const small = await walBytesAfterWrites(50);
    const large = await walBytesAfterWrites(100_000);
    // Unchecked, the WAL holds every commit's pages; checkpointed, about the last few commits'.
    expect(small).toBeLessThan(large / 3);
  });
});

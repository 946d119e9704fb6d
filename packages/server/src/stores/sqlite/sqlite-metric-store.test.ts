/** The SQLite metric store passes the metric store conformance suite. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { describeMetricStoreConformance } from '../metric-store.conformance.js';
import { SqliteMetricStore } from './sqlite-metric-store.js';

describeMetricStoreConformance('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'larder-metrics-'));
  const file = join(dir, 'metrics.db');
  let store = new SqliteMetricStore({ file });
  return {
    store,
    reopen: async () => {
      await store.close();
      store = new SqliteMetricStore({ file });
      await store.open();
      return store;
    },
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteMetricStore pages', () => {
  it('makes a new metrics.db with large pages and opens one made with small pages as it is', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'larder-metrics-pages-'));
    try {
      const fresh = new SqliteMetricStore({ file: join(dir, 'new.db') });
      await fresh.open();
      await fresh.close();
      const older = join(dir, 'old.db');
      const made = new Database(older);
      made.pragma('page_size = 4096');
      made.exec('CREATE TABLE before_large_pages (x)');
      made.close();
      const store = new SqliteMetricStore({ file: older });
      await store.open();
      const key = { run: 'r', type: 'train', name: 'loss' };
      const steps = Float64Array.of(0, 1);
      await store.append([{ key, offset: 0, points: { steps, values: steps, epochs: steps, times: steps } }]);
      expect(Array.from((await store.read(key)).steps)).toEqual([0, 1]);
      await store.close();
      const pageSize = (file: string) => {
        const db = new Database(file, { readonly: true });
        try {
          return db.pragma('page_size', { simple: true });
        } finally {
          db.close();
        }
      };
      expect(pageSize(join(dir, 'new.db'))).toBe(32_768);
      expect(pageSize(older)).toBe(4096);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

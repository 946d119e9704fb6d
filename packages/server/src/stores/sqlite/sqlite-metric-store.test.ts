/** The SQLite metric store passes the metric store conformance suite. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

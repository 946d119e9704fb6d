import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeDocumentStoreConformance } from '../document-store.conformance.js';
import { SqliteDocumentStore } from './sqlite-document-store.js';

describeDocumentStoreConformance('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'larder-sqlite-'));
  const file = join(dir, 'larder.db');
  let store = new SqliteDocumentStore({ file });
  return {
    store,
    reopen: async () => {
      await store.close();
      store = new SqliteDocumentStore({ file });
      await store.open();
      return store;
    },
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

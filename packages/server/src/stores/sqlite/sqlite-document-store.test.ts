import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/**
 * A document store and a blob store opened together, for tests of what spans both (the
 * collector, ingests racing it): SQLite with a folder always, and PostgreSQL (in a schema of
 * its own, dropped after) with S3 or a folder when CI provides them.
 *
 * @example
 * describe.each(storeAndBlobSetups('gc', 's3'))('collection on %s', (_name, make) => {
 *   const open = openEachTest(make);
 *   it('…', async () => { const { store, blobs } = await open(); … });
 * });
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach } from 'vitest';
import type { DocumentStore } from '../../stores/document-store.js';
import { PostgresDocumentStore } from '../../stores/postgres/postgres-document-store.js';
import { SqliteDocumentStore } from '../../stores/sqlite/sqlite-document-store.js';
import type { BlobStore } from '../blob-store.js';
import { FsBlobStore } from '../fs/fs-blob-store.js';
import { S3BlobStore } from '../s3/s3-blob-store.js';
import { testS3Client } from './s3-test-client.js';

export interface StoreAndBlobs {
  store: DocumentStore;
  blobs: BlobStore;
  cleanup: () => Promise<void>;
}

export type StoreAndBlobsSetup = [name: string, make: () => Promise<StoreAndBlobs>];

/** The setups to run on: `'sqlite + folder'`, then `'postgres + s3'` or `'postgres + folder'` when configured. */
export function storeAndBlobSetups(prefix: string, postgresBlobs: 's3' | 'folder'): StoreAndBlobsSetup[] {
  const postgresUrl = process.env.LARDER_TEST_POSTGRES_URL;
  const s3Endpoint = process.env.LARDER_TEST_S3_ENDPOINT;
  const setups: StoreAndBlobsSetup[] = [
    [
      'sqlite + folder',
      async () => {
        const dir = await mkdtemp(join(tmpdir(), `larder-${prefix}-`));
        const store = new SqliteDocumentStore({ file: join(dir, 'larder.db') });
        const blobs = new FsBlobStore({ root: join(dir, 'blobs') });
        return { store, blobs, cleanup: () => rm(dir, { recursive: true, force: true }) };
      },
    ],
  ];
  if (!postgresUrl || (postgresBlobs === 's3' && !s3Endpoint)) return setups;
  setups.push([
    `postgres + ${postgresBlobs}`,
    async () => {
      const id = randomBytes(6).toString('hex');
      const schema = `larder_${prefix}_${id}`;
      const store = new PostgresDocumentStore({ connectionString: postgresUrl, schema, maxConnections: 4 });
      const dir = postgresBlobs === 'folder' ? await mkdtemp(join(tmpdir(), `larder-${prefix}-`)) : undefined;
      const blobs = dir
        ? new FsBlobStore({ root: join(dir, 'blobs') })
        : new S3BlobStore({
            bucket: 'larder-test',
            prefix: `${prefix}-${id}`,
            client: testS3Client(),
            createBucket: true,
          });
      const cleanup = async () => {
        const client = new pg.Client({ connectionString: postgresUrl });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await client.end();
        if (dir) await rm(dir, { recursive: true, force: true });
      };
      return { store, blobs, cleanup };
    },
  ]);
  return setups;
}

/** Opens a fresh setup from `make` in each test that calls the answer, and closes and removes it after the test. */
export function openEachTest(make: () => Promise<StoreAndBlobs>): () => Promise<StoreAndBlobs> {
  let setup: StoreAndBlobs | undefined;
  afterEach(async () => {
    await setup?.store.close();
    await setup?.blobs.close();
    await setup?.cleanup();
    setup = undefined;
  });
  return async () => {
    setup = await make();
    await setup.store.open();
    await setup.blobs.open();
    return setup;
  };
}

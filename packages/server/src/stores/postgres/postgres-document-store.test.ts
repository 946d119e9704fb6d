/**
 * The PostgreSQL adapter against a real server (`.ci/run` starts one and sets
 * LARDER_TEST_POSTGRES_URL): the store conformance suite and the differential query test,
 * unchanged, each test in a schema of its own.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { describeDocumentStoreConformance, type StoreFixture } from '../document-store.conformance.js';
import { describeQueryDifferential } from '../document-store.differential.js';
import { describeFieldIndexConformance } from '../field-index.conformance.js';
import { describeMetricStoreConformance } from '../metric-store.conformance.js';
import { PostgresDocumentStore } from './postgres-document-store.js';
import { PostgresMetricStore } from './postgres-metric-store.js';

const url = process.env.LARDER_TEST_POSTGRES_URL;

async function freshSchema(): Promise<{ schema: string; drop: () => Promise<void> }> {
  const schema = `larder_test_${randomBytes(6).toString('hex')}`;
  return {
    schema,
    drop: async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    },
  };
}

/** A store in a fresh schema that a test can close and open again on the same data, and drop. */
async function reopenableFixture<S extends { open(): Promise<void>; close(): Promise<void> }>(
  make: (schema: string) => S,
): Promise<{ store: S; reopen: () => Promise<S>; cleanup: () => Promise<void> }> {
  const { schema, drop } = await freshSchema();
  let store = make(schema);
  return {
    store,
    reopen: async () => {
      await store.close();
      store = make(schema);
      await store.open();
      return store;
    },
    cleanup: async () => {
      await store.close();
      await drop();
    },
  };
}

describe.runIf(url)('PostgreSQL adapter', () => {
  const documentsFixture = (): Promise<StoreFixture> =>
    reopenableFixture(
      (schema) => new PostgresDocumentStore({ connectionString: url as string, schema, maxConnections: 4 }),
    );

  describeDocumentStoreConformance('postgres', documentsFixture);
  describeFieldIndexConformance('postgres', documentsFixture);

  const differentialStore = async () => {
    const { schema, drop } = await freshSchema();
    const store = new PostgresDocumentStore({ connectionString: url as string, schema, maxConnections: 4 });
    await store.open();
    return {
      store,
      cleanup: async () => {
        await store.close();
        await drop();
      },
    };
  };

  it('builds a sort index once, and weighs the table again only when it built one', async () => {
    const { schema, drop } = await freshSchema();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const table = async () =>
      (
        await admin.query<{ analyses: number; indexes: number }>(
          `SELECT (SELECT analyze_count::integer FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'documents') AS analyses,
                  (SELECT count(*)::integer FROM pg_indexes WHERE schemaname = $1 AND indexname LIKE 'documents\\_sort\\_%') AS indexes`,
          [schema],
        )
      ).rows[0];
    const sortedPages = async (first: boolean) => {
      const store = new PostgresDocumentStore({ connectionString: url as string, schema, maxConnections: 2 });
      await store.open();
      if (first)
        await store.insert('runs', [
          { _id: 'a', score: 2 },
          { _id: 'b', score: 1 },
        ]);
      const sort = [{ path: ['score'], direction: 1 as const }];
      for (let use = 0; use < 4; use += 1) {
        const page = await store.findPage('runs', { filter: { op: 'all' }, sort, limit: 1 });
        expect({ total: page.total, ids: page.documents.map((document) => document._id) }).toEqual({
          total: 2,
          ids: ['b'],
        });
      }
      await store.close(); // waits for the background build
    };
    try {
      await sortedPages(true);
      const built = await table();
      expect(built?.indexes).toBe(1);
      expect(built?.analyses).toBeGreaterThanOrEqual(1);
      // A restart sorts the same way: the index is there, nothing is built or analyzed again.
      await sortedPages(false);
      expect(await table()).toEqual(built);
    } finally {
      await admin.end();
      await drop();
    }
  });

  describeQueryDifferential('postgres', differentialStore);
  describeQueryDifferential('postgres', differentialStore, { indexFields: true });

  describeMetricStoreConformance('postgres', () =>
    reopenableFixture((schema) => new PostgresMetricStore({ connectionString: url as string, schema })),
  );
});

/**
 * The PostgreSQL adapter against a real server (`.ci/run` starts one and sets
 * LARDER_TEST_POSTGRES_URL): the store conformance suite and the differential query test,
 * unchanged, each test in a schema of its own.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe } from 'vitest';
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

describe.runIf(url)('PostgreSQL adapter', () => {
  const documentsFixture = async (): Promise<StoreFixture> => {
    const { schema, drop } = await freshSchema();
    const make = () => new PostgresDocumentStore({ connectionString: url as string, schema, maxConnections: 4 });
    let store = make();
    return {
      store,
      reopen: async () => {
        await store.close();
        store = make();
        await store.open();
        return store;
      },
      cleanup: async () => {
        await store.close();
        await drop();
      },
    };
  };

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

  describeQueryDifferential('postgres', differentialStore);
  describeQueryDifferential('postgres', differentialStore, { indexFields: true });

  describeMetricStoreConformance('postgres', async () => {
    const { schema, drop } = await freshSchema();
    const make = () => new PostgresMetricStore({ connectionString: url as string, schema });
    let store = make();
    return {
      store,
      reopen: async () => {
        await store.close();
        store = make();
        await store.open();
        return store;
      },
      cleanup: async () => {
        await store.close();
        await drop();
      },
    };
  });
});

/**
 * The PostgreSQL metric store's own upgrade: series stored before span envelopes get them when
 * a store opens (the conformance suite runs in postgres-document-store.test.ts).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { CHUNK_POINTS } from '../metric-store.js';
import { PostgresMetricStore } from './postgres-metric-store.js';

const url = process.env.LARDER_TEST_POSTGRES_URL;

describe.runIf(url)('PostgresMetricStore span envelopes', () => {
  it('fills the span envelopes of series stored before them when it opens', async () => {
    const schema = `larder_test_${randomBytes(6).toString('hex')}`;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const key = { run: 'r', type: 'train', name: 'loss' };
      const count = 20 * CHUNK_POINTS + 5;
      const steps = Float64Array.from({ length: count }, (_, index) => index);
      const values = steps.map((step) => (step === 50_001 ? 1e6 : Math.sin(step / 100)));
      const points = { steps, values, epochs: new Float64Array(count).fill(Number.NaN), times: steps };
      let store = new PostgresMetricStore({ connectionString: url as string, schema });
      await store.open();
      await store.append([{ key, offset: 0, points }]);
      const before = await store.spanEnvelopes(key);
      expect(before.spans.length).toBe(3);
      await store.close();
      await client.query(`DELETE FROM ${schema}.metric_span_envelopes`);
      store = new PostgresMetricStore({ connectionString: url as string, schema });
      await store.open();
      try {
        expect(await store.spanEnvelopes(key)).toEqual(before);
      } finally {
        await store.close();
      }
    } finally {
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }
  });
});

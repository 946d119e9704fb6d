/**
 * The PostgreSQL metric store's own upgrades: series stored before span envelopes get them when
 * a store opens, and open chunks stored as chunk rows become pieces (the conformance suite runs
 * in postgres-document-store.test.ts).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { envelopeOf, packEnvelopes, segmentEnvelopes, spansOf } from '../chunk-envelope.js';
import { CHUNK_POINTS, type MetricStore } from '../metric-store.js';
import { concatColumns, packColumn, sliceColumns, stepRange, unpackColumn } from '../series-chunks.js';
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

describe.runIf(url)('PostgresMetricStore open chunks', () => {
  it('turns open chunks stored as chunk rows into pieces when it opens, with the same reads before and after', async () => {
    const schema = `larder_test_${randomBytes(6).toString('hex')}`;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const key = { run: 'r', type: 'train', name: 'loss' };
      const count = 2 * CHUNK_POINTS + 500;
      const steps = Float64Array.from({ length: count + 5000 }, (_, index) => index);
      const values = steps.map((step) => (step === count - 3 ? 1e6 : Math.sin(step / 100)));
      const all = { steps, values, epochs: steps.map((step) => Math.floor(step / 1000)), times: steps };
      let store = new PostgresMetricStore({ connectionString: url as string, schema });
      await store.open();
      await store.append([{ key, offset: 0, points: sliceColumns(all, 0, count) }]);
      const reads = async (each: MetricStore) => ({
        points: await each.read(key, { withTimes: true }),
        spans: await each.spanEnvelopes(key),
        chunks: await each.chunkEnvelopes(key, [0, 1, 2]),
        segments: await each.segmentEnvelopes(key, [2]),
      });
      const before = await reads(store);
      await store.close();
      // As a store before pieces kept it: the open chunk a chunk row with its segments, in its group and span.
      const { rows } = await client.query<Record<string, Buffer>>(
        `SELECT steps, vals, epochs, times FROM ${schema}.metric_chunk_pieces ORDER BY start`,
      );
      const open = concatColumns(
        rows.map((row) => ({
          steps: unpackColumn(row.steps as Buffer),
          values: unpackColumn(row.vals as Buffer),
          epochs: unpackColumn(row.epochs as Buffer),
          times: unpackColumn(row.times as Buffer),
        })),
      );
      await client.query(
        `INSERT INTO ${schema}.metric_chunks (run, type, name, seq, count, first_step, last_step, steps, vals, epochs, times)
         VALUES ('r', 'train', 'loss', 2, 500, $1, $2, $3, $4, $5, $6)`,
        [...stepRange(open.steps), ...[open.steps, open.values, open.epochs, open.times].map(packColumn)],
      );
      await client.query(`INSERT INTO ${schema}.metric_segment_envelopes VALUES ('r', 'train', 'loss', 2, $1)`, [
        packEnvelopes(segmentEnvelopes(2, open)),
      ]);
      const group = [...before.chunks.slice(0, 2), envelopeOf(2, open)];
      await client.query(`UPDATE ${schema}.metric_chunk_envelope_groups SET envelopes = $1`, [packEnvelopes(group)]);
      await client.query(`UPDATE ${schema}.metric_span_envelopes SET envelopes = $1`, [
        packEnvelopes(spansOf(group, 3)),
      ]);
      await client.query(`DROP TABLE ${schema}.metric_chunk_pieces`);
      store = new PostgresMetricStore({ connectionString: url as string, schema });
      await store.open();
      try {
        expect(await reads(store)).toEqual(before);
        const [after] = await store.append([{ key, offset: count, points: sliceColumns(all, count, count + 5000) }]);
        expect(after?.count).toBe(count + 5000);
        expect(Array.from((await store.read(key)).steps)).toEqual(Array.from(steps));
        expect((await store.spanEnvelopes(key)).spans).toEqual([envelopeOf(0, all)]);
        const partial = await client.query(`SELECT count(*)::int AS n FROM ${schema}.metric_chunks WHERE count < $1`, [
          CHUNK_POINTS,
        ]);
        expect(partial.rows[0]).toEqual({ n: 0 });
      } finally {
        await store.close();
      }
    } finally {
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }
  });
});

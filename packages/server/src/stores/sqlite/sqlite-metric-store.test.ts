/** The SQLite metric store passes the metric store conformance suite, and upgrades older metrics.db files. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { readDownsampled } from '../../services/metrics/downsampled-read.js';
import { envelopeOf, packEnvelopes, segmentEnvelopes, spansOf } from '../chunk-envelope.js';
import { describeMetricStoreConformance } from '../metric-store.conformance.js';
import { CHUNK_POINTS, type MetricStore } from '../metric-store.js';
import { concatColumns, packColumn, sliceColumns, stepRange, unpackColumn } from '../series-chunks.js';
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

describe('SqliteMetricStore schema 3', () => {
  it('fills the span envelopes of series stored before them when it opens a metrics.db of schema 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'larder-metrics-spans-'));
    const file = join(dir, 'metrics.db');
    try {
      const key = { run: 'r', type: 'train', name: 'loss' };
      const older = { run: 'r', type: 'train', name: 'older' };
      const count = 20 * CHUNK_POINTS + 5;
      const steps = Float64Array.from({ length: count }, (_, index) => index);
      const values = steps.map((step) => (step === 50_001 ? 1e6 : Math.sin(step / 100)));
      const empty = new Float64Array(count).fill(Number.NaN);
      const points = { steps, values, epochs: empty, times: steps };
      let store = new SqliteMetricStore({ file });
      await store.open();
      await store.append([
        { key, offset: 0, points },
        { key: older, offset: 0, points },
      ]);
      const before = await store.spanEnvelopes(key);
      expect(before.spans.length).toBe(3);
      await store.close();
      // As schema 2 left it: no span envelopes; and `older` as schema 1 did: no envelopes at all.
      const db = new Database(file);
      db.exec('DELETE FROM span_envelopes');
      db.exec(`DELETE FROM chunk_envelope_groups WHERE name = 'older'`);
      db.exec(`DELETE FROM segment_envelopes WHERE name = 'older'`);
      db.pragma('user_version = 2');
      db.close();
      store = new SqliteMetricStore({ file });
      await store.open();
      try {
        expect(await store.spanEnvelopes(key)).toEqual(before);
        expect(await store.spanEnvelopes(older)).toEqual({ chunks: 21, spans: [] });
        // Read from its points instead, with the same answer.
        const fromSpans = await readDownsampled(store, key, {}, 6);
        const fromPoints = await readDownsampled(store, older, {}, 6);
        expect(fromPoints.count).toBe(count);
        expect(fromSpans.steps[fromSpans.values.indexOf(1e6)]).toBe(50_001);
        expect(fromPoints.steps[fromPoints.values.indexOf(1e6)]).toBe(50_001);
      } finally {
        await store.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('SqliteMetricStore schema 4', () => {
  it('turns the open chunks of a metrics.db of schema 3 into pieces, with the same reads before and after', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'larder-metrics-pieces-'));
    const file = join(dir, 'metrics.db');
    try {
      const key = { run: 'r', type: 'train', name: 'loss' };
      const whole = { run: 'r', type: 'train', name: 'whole' };
      const count = 2 * CHUNK_POINTS + 500;
      const steps = Float64Array.from({ length: count + 5000 }, (_, index) => index);
      const values = steps.map((step) => (step === count - 3 ? 1e6 : Math.sin(step / 100)));
      const all = { steps, values, epochs: steps.map((step) => Math.floor(step / 1000)), times: steps };
      const first = sliceColumns(all, 0, count);
      let store = new SqliteMetricStore({ file });
      await store.open();
      await store.append([
        { key, offset: 0, points: first },
        { key: whole, offset: 0, points: sliceColumns(all, 0, 2 * CHUNK_POINTS) },
      ]);
      const reads = async (each: MetricStore) => ({
        points: await each.read(key, { withTimes: true }),
        spans: await each.spanEnvelopes(key),
        chunks: await each.chunkEnvelopes(key, [0, 1, 2]),
        segments: await each.segmentEnvelopes(key, [2]),
        wholeSpans: await each.spanEnvelopes(whole),
      });
      const before = await reads(store);
      await store.close();
      // As schema 3 kept it: the open chunk a chunk row with its segments, in its group and span.
      const db = new Database(file);
      const open = concatColumns(
        db
          .prepare('SELECT steps, vals, epochs, times FROM chunk_pieces WHERE name = ? ORDER BY start')
          .all('loss')
          .map((row) => {
            const { steps, vals, epochs, times } = row as Record<string, Buffer>;
            return {
              steps: unpackColumn(steps as Buffer),
              values: unpackColumn(vals as Buffer),
              epochs: unpackColumn(epochs as Buffer),
              times: unpackColumn(times as Buffer),
            };
          }),
      );
      db.prepare(
        `INSERT INTO chunks (run, type, name, seq, count, first_step, last_step, steps, vals, epochs, times)
         VALUES ('r', 'train', 'loss', 2, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(500, ...stepRange(open.steps), ...[open.steps, open.values, open.epochs, open.times].map(packColumn));
      db.prepare(`INSERT INTO segment_envelopes VALUES ('r', 'train', 'loss', 2, ?)`).run(
        packEnvelopes(segmentEnvelopes(2, open)),
      );
      const group = [...before.chunks.slice(0, 2), envelopeOf(2, open)];
      db.prepare(`UPDATE chunk_envelope_groups SET envelopes = ? WHERE name = 'loss'`).run(packEnvelopes(group));
      db.prepare(`UPDATE span_envelopes SET envelopes = ? WHERE name = 'loss'`).run(packEnvelopes(spansOf(group, 3)));
      db.exec('DROP TABLE chunk_pieces');
      db.pragma('user_version = 3');
      db.close();
      store = new SqliteMetricStore({ file });
      await store.open();
      try {
        expect(await reads(store)).toEqual(before);
        const [after] = await store.append([{ key, offset: count, points: sliceColumns(all, count, count + 5000) }]);
        expect(after?.count).toBe(count + 5000);
        expect(Array.from((await store.read(key)).steps)).toEqual(Array.from(steps));
        const { spans } = await store.spanEnvelopes(key);
        expect(spans).toEqual([envelopeOf(0, all)]);
      } finally {
        await store.close();
      }
      const reopened = new Database(file, { readonly: true });
      try {
        expect(reopened.prepare('SELECT count(*) AS n FROM chunks WHERE count < ?').get(CHUNK_POINTS)).toEqual({
          n: 0,
        });
        expect(reopened.pragma('user_version', { simple: true })).toBe(4);
      } finally {
        reopened.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

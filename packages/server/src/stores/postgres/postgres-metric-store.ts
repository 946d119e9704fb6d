/**
 * Metric series on PostgreSQL, beside the documents: chunks are rows of four float64
 * `bytea` columns, a series row keeps the summary and is locked (`FOR UPDATE`) while an
 * append plans its chunks, so instances appending to one series at once stay exactly-once.
 */
import { LarderError } from '@larder/protocol';
import type pg from 'pg';
import {
  byGroup,
  type ChunkEnvelope,
  foldEnvelopes,
  groupOf,
  packEnvelopes,
  segmentEnvelopes,
  spansOf,
  unpackEnvelopes,
  withChunkEnvelopes,
} from '../chunk-envelope.js';
import { EnvelopeCache, seriesStamp } from '../envelope-cache.js';
import {
  type AppendBatch,
  CHUNK_POINTS,
  emptyColumns,
  type MetricStore,
  type PointColumns,
  type ReadOptions,
  type SeriesKey,
  type SeriesSummary,
} from '../metric-store.js';
import {
  type Chunk,
  concatColumns,
  concatValues,
  emptySummary,
  filterSteps,
  packColumn,
  planAppend,
  type SeriesRow,
  stepRange,
  toSummary,
  unpackColumn,
} from '../series-chunks.js';
import { translateError } from './postgres-errors.js';
import { assertSchemaName, inTransaction, openPostgresPool, type PostgresPoolOptions } from './postgres-pool.js';

export type PostgresMetricStoreOptions = PostgresPoolOptions;

/** Arbitrary constant naming the metric tables' migration lock. */
const MIGRATION_LOCK_KEY = 7_415_221_903;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS metric_series (
  run text NOT NULL, type text NOT NULL, name text NOT NULL,
  count integer NOT NULL, chunks integer NOT NULL,
  first_step double precision, last_step double precision, last double precision,
  min double precision, max double precision, last_epoch double precision, last_time double precision,
  PRIMARY KEY (run, type, name)
);
CREATE TABLE IF NOT EXISTS metric_chunks (
  run text NOT NULL, type text NOT NULL, name text NOT NULL, seq integer NOT NULL,
  count integer NOT NULL, first_step double precision, last_step double precision,
  steps bytea NOT NULL, vals bytea NOT NULL, epochs bytea NOT NULL, times bytea NOT NULL,
  PRIMARY KEY (run, type, name, seq)
);
DROP TABLE IF EXISTS metric_chunk_envelopes;
CREATE TABLE IF NOT EXISTS metric_segment_envelopes (
  run text NOT NULL, type text NOT NULL, name text NOT NULL, seq integer NOT NULL, envelopes bytea NOT NULL,
  PRIMARY KEY (run, type, name, seq)
);
CREATE TABLE IF NOT EXISTS metric_chunk_envelope_groups (
  run text NOT NULL, type text NOT NULL, name text NOT NULL, grp integer NOT NULL, envelopes bytea NOT NULL,
  PRIMARY KEY (run, type, name, grp)
);
CREATE TABLE IF NOT EXISTS metric_span_envelopes (
  run text NOT NULL, type text NOT NULL, name text NOT NULL, grp integer NOT NULL, envelopes bytea NOT NULL,
  PRIMARY KEY (run, type, name, grp)
);`;

/** Groups read at a time while the span envelopes of series stored before them are filled. */
const FILL_BATCH = 500;

/** The span envelopes of groups stored before them, from the groups' chunk envelopes (at open, under the lock). */
async function fillSpans(client: pg.PoolClient): Promise<void> {
  for (;;) {
    const { rows } = await client.query<{
      run: string;
      type: string;
      name: string;
      grp: number;
      envelopes: Buffer;
      chunks: number;
    }>(
      `SELECT g.run, g.type, g.name, g.grp, g.envelopes, s.chunks
         FROM metric_chunk_envelope_groups g JOIN metric_series s USING (run, type, name)
        WHERE NOT EXISTS (SELECT 1 FROM metric_span_envelopes p
                           WHERE p.run = g.run AND p.type = g.type AND p.name = g.name AND p.grp = g.grp)
        LIMIT ${FILL_BATCH}`,
    );
    for (const row of rows) {
      await client.query(
        'INSERT INTO metric_span_envelopes (run, type, name, grp, envelopes) VALUES ($1, $2, $3, $4, $5)',
        [row.run, row.type, row.name, row.grp, packEnvelopes(spansOf(unpackEnvelopes(row.envelopes), row.chunks))],
      );
    }
    if (rows.length < FILL_BATCH) return;
  }
}

export class PostgresMetricStore implements MetricStore {
  readonly kind = 'postgres';
  private pool: pg.Pool | undefined;
  private readonly envelopeCache = new EnvelopeCache();

  constructor(private readonly options: PostgresMetricStoreOptions) {
    assertSchemaName(options.schema);
  }

  async open(): Promise<void> {
    if (this.pool) return;
    this.pool = await openPostgresPool(this.options, 4, MIGRATION_LOCK_KEY, async (client) => {
      await client.query(SCHEMA);
      await fillSpans(client);
    });
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    this.envelopeCache.clear();
    await pool?.end();
  }

  private get ready(): pg.Pool {
    if (!this.pool) throw new LarderError('Unavailable', 'The metric store is not open');
    return this.pool;
  }

  async append(batches: readonly AppendBatch[]): Promise<SeriesSummary[]> {
    try {
      return await inTransaction(this.ready, async (client) => {
        const summaries: SeriesSummary[] = [];
        for (const batch of batches) summaries.push(await this.appendOne(client, batch));
        return summaries;
      });
    } catch (error) {
      throw translateError(error);
    }
  }

  private async appendOne(client: pg.PoolClient, { key, offset, points }: AppendBatch): Promise<SeriesSummary> {
    const where = [key.run, key.type, key.name];
    // Create the series row if needed so that there is a row to lock.
    await client.query(
      `INSERT INTO metric_series (run, type, name, count, chunks) VALUES ($1, $2, $3, 0, 0) ON CONFLICT DO NOTHING`,
      where,
    );
    const { rows } = await client.query<SeriesRow>(
      'SELECT * FROM metric_series WHERE run = $1 AND type = $2 AND name = $3 FOR UPDATE',
      where,
    );
    const row = rows[0] as SeriesRow;
    const existing = row.count > 0 ? { summary: toSummary(row), chunks: row.chunks } : undefined;
    let open: Chunk | undefined;
    if (row.count % CHUNK_POINTS !== 0) {
      const stored = await client.query<{ steps: Buffer; vals: Buffer; epochs: Buffer; times: Buffer }>(
        'SELECT steps, vals, epochs, times FROM metric_chunks WHERE run = $1 AND type = $2 AND name = $3 AND seq = $4',
        [...where, row.chunks - 1],
      );
      const chunk = stored.rows[0];
      if (chunk) open = { seq: row.chunks - 1, columns: unpackRow(chunk) };
    }
    // The series row is locked, so 'end' is where this append really starts.
    const start = offset === 'end' ? (existing?.summary.count ?? 0) : offset;
    const plan = planAppend(key, start, points, existing, open);
    if (!plan) return existing?.summary ?? emptySummary(key);
    const written: ChunkEnvelope[] = [];
    for (const chunk of plan.writes) {
      const [first, last] = stepRange(chunk.columns.steps);
      await client.query(
        `INSERT INTO metric_chunks (run, type, name, seq, count, first_step, last_step, steps, vals, epochs, times)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (run, type, name, seq) DO UPDATE SET count = excluded.count, first_step = excluded.first_step,
           last_step = excluded.last_step, steps = excluded.steps, vals = excluded.vals, epochs = excluded.epochs,
           times = excluded.times`,
        [
          ...where,
          chunk.seq,
          chunk.columns.steps.length,
          first,
          last,
          packColumn(chunk.columns.steps),
          packColumn(chunk.columns.values),
          packColumn(chunk.columns.epochs),
          packColumn(chunk.columns.times),
        ],
      );
      const segments = segmentEnvelopes(chunk.seq, chunk.columns);
      await client.query(
        `INSERT INTO metric_segment_envelopes (run, type, name, seq, envelopes) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (run, type, name, seq) DO UPDATE SET envelopes = excluded.envelopes`,
        [...where, chunk.seq, packEnvelopes(segments)],
      );
      written.push(foldEnvelopes(segments));
    }
    // Each group the batch touched is read and written once, its spans with it.
    for (const [grp, envelopes] of byGroup(written)) {
      const stored = await client.query<{ envelopes: Buffer }>(
        'SELECT envelopes FROM metric_chunk_envelope_groups WHERE run = $1 AND type = $2 AND name = $3 AND grp = $4',
        [...where, grp],
      );
      const group = withChunkEnvelopes(stored.rows[0] ? unpackEnvelopes(stored.rows[0].envelopes) : [], envelopes);
      await client.query(
        `INSERT INTO metric_chunk_envelope_groups (run, type, name, grp, envelopes) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (run, type, name, grp) DO UPDATE SET envelopes = excluded.envelopes`,
        [...where, grp, packEnvelopes(group)],
      );
      await client.query(
        `INSERT INTO metric_span_envelopes (run, type, name, grp, envelopes) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (run, type, name, grp) DO UPDATE SET envelopes = excluded.envelopes`,
        [...where, grp, packEnvelopes(spansOf(group, plan.chunks))],
      );
    }
    const s = plan.summary;
    await client.query(
      `UPDATE metric_series SET count = $4, chunks = $5, first_step = $6, last_step = $7, last = $8, min = $9, max = $10,
         last_epoch = $11, last_time = $12 WHERE run = $1 AND type = $2 AND name = $3`,
      [...where, s.count, plan.chunks, s.firstStep, s.lastStep, s.last, s.min, s.max, s.lastEpoch, s.lastTime],
    );
    return s;
  }

  async read(key: SeriesKey, options: ReadOptions = {}): Promise<PointColumns> {
    const columns = options.withTimes ? 'steps, vals, epochs, times' : 'steps, vals';
    try {
      const { rows } = await this.ready.query<{ steps: Buffer; vals: Buffer; epochs?: Buffer; times?: Buffer }>(
        `SELECT ${columns} FROM metric_chunks WHERE run = $1 AND type = $2 AND name = $3 ORDER BY seq`,
        [key.run, key.type, key.name],
      );
      if (rows.length === 0) return emptyColumns();
      const parts = rows.map(unpackRow);
      return filterSteps(options.withTimes ? concatColumns(parts) : concatValues(parts), options);
    } catch (error) {
      throw translateError(error);
    }
  }

  async spanEnvelopes(key: SeriesKey): Promise<{ chunks: number; spans: ChunkEnvelope[] }> {
    const where = [key.run, key.type, key.name];
    try {
      const series = await this.ready.query<{
        count: number;
        chunks: number;
        last_step: unknown;
        last_time: unknown;
        last: unknown;
      }>(
        'SELECT count, chunks, last_step, last_time, last FROM metric_series WHERE run = $1 AND type = $2 AND name = $3',
        where,
      );
      const row = series.rows[0];
      if (!row) return { chunks: 0, spans: [] };
      // The series row is read first, so envelopes cached under it are at least as new as it.
      const spans = await this.envelopeCache.get(key, seriesStamp(row), async () => {
        const stored = await this.ready.query<{ envelopes: Buffer }>(
          'SELECT envelopes FROM metric_span_envelopes WHERE run = $1 AND type = $2 AND name = $3 ORDER BY grp',
          where,
        );
        return stored.rows.flatMap((group) => unpackEnvelopes(group.envelopes));
      });
      return { chunks: row.chunks, spans };
    } catch (error) {
      throw translateError(error);
    }
  }

  async chunkEnvelopes(key: SeriesKey, seqs: readonly number[]): Promise<ChunkEnvelope[]> {
    if (seqs.length === 0) return [];
    const wanted = new Set(seqs);
    try {
      const { rows } = await this.ready.query<{ envelopes: Buffer }>(
        `SELECT envelopes FROM metric_chunk_envelope_groups WHERE run = $1 AND type = $2 AND name = $3
         AND grp = ANY($4::int[]) ORDER BY grp`,
        [key.run, key.type, key.name, [...new Set(seqs.map(groupOf))]],
      );
      return rows.flatMap((row) => unpackEnvelopes(row.envelopes).filter((envelope) => wanted.has(envelope.seq)));
    } catch (error) {
      throw translateError(error);
    }
  }

  async segmentEnvelopes(key: SeriesKey, seqs: readonly number[]): Promise<ChunkEnvelope[]> {
    if (seqs.length === 0) return [];
    try {
      const { rows } = await this.ready.query<{ envelopes: Buffer }>(
        `SELECT envelopes FROM metric_segment_envelopes WHERE run = $1 AND type = $2 AND name = $3
         AND seq = ANY($4::int[]) ORDER BY seq`,
        [key.run, key.type, key.name, [...seqs]],
      );
      // Unpacked at once: a zoom of a few million points asks for ~1,000 chunks' segments.
      return unpackEnvelopes(Buffer.concat(rows.map((row) => row.envelopes)));
    } catch (error) {
      throw translateError(error);
    }
  }

  async readChunks(key: SeriesKey, seqs: readonly number[]): Promise<{ seq: number; columns: PointColumns }[]> {
    if (seqs.length === 0) return [];
    try {
      const { rows } = await this.ready.query<{ seq: number; steps: Buffer; vals: Buffer }>(
        'SELECT seq, steps, vals FROM metric_chunks WHERE run = $1 AND type = $2 AND name = $3 AND seq = ANY($4::int[])',
        [key.run, key.type, key.name, [...seqs]],
      );
      const bySeq = new Map(rows.map((row) => [row.seq, row]));
      return seqs.flatMap((seq) => {
        const row = bySeq.get(seq);
        return row ? [{ seq, columns: unpackRow(row) }] : [];
      });
    } catch (error) {
      throw translateError(error);
    }
  }

  async list(run: string): Promise<SeriesSummary[]> {
    try {
      const { rows } = await this.ready.query<SeriesRow>(
        'SELECT * FROM metric_series WHERE run = $1 AND count > 0 ORDER BY type COLLATE "C", name COLLATE "C"',
        [run],
      );
      return rows.map(toSummary);
    } catch (error) {
      throw translateError(error);
    }
  }

  async removeRun(run: string): Promise<void> {
    try {
      await inTransaction(this.ready, async (client) => {
        await client.query('DELETE FROM metric_chunks WHERE run = $1', [run]);
        await client.query('DELETE FROM metric_segment_envelopes WHERE run = $1', [run]);
        await client.query('DELETE FROM metric_chunk_envelope_groups WHERE run = $1', [run]);
        await client.query('DELETE FROM metric_span_envelopes WHERE run = $1', [run]);
        await client.query('DELETE FROM metric_series WHERE run = $1', [run]);
      });
    } catch (error) {
      throw translateError(error);
    }
  }
}

function unpackRow(row: { steps: Buffer; vals: Buffer; epochs?: Buffer; times?: Buffer }): PointColumns {
  return {
    steps: unpackColumn(row.steps),
    values: unpackColumn(row.vals),
    epochs: row.epochs ? unpackColumn(row.epochs) : new Float64Array(0),
    times: row.times ? unpackColumn(row.times) : new Float64Array(0),
  };
}

/**
 * Metric series on PostgreSQL, beside the documents: whole chunks are rows of four float64
 * `bytea` columns, the open chunk rows of the pieces appended to it (`open-chunk.ts`); a series
 * row keeps the summary and is locked (`FOR UPDATE`) while an append plans its chunks, so
 * instances appending to one series at once stay exactly-once.
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
import { type ChunkPiece, joinPieces, openChunkEnvelopes, withOpenSpan } from '../open-chunk.js';
import {
  chunksOfIndexes,
  concatColumns,
  concatValues,
  emptySummary,
  fillsOpenChunk,
  freshPoints,
  openChunkSeq,
  packColumn,
  planAppend,
  type SeriesRow,
  selectPoints,
  stepRange,
  toSummary,
  unpackColumn,
} from '../series-chunks.js';
import { translateError } from './postgres-errors.js';
import { migrateMetricTables, writeGroupRows } from './postgres-metric-schema.js';
import { assertSchemaName, inTransaction, openPostgresPool, type PostgresPoolOptions } from './postgres-pool.js';

export type PostgresMetricStoreOptions = PostgresPoolOptions;

/** Arbitrary constant naming the metric tables' migration lock. */
const MIGRATION_LOCK_KEY = 7_415_221_903;

export class PostgresMetricStore implements MetricStore {
  readonly kind = 'postgres';
  private pool: pg.Pool | undefined;
  private readonly envelopeCache = new EnvelopeCache();

  constructor(private readonly options: PostgresMetricStoreOptions) {
    assertSchemaName(options.schema);
  }

  async open(): Promise<void> {
    if (this.pool) return;
    this.pool = await openPostgresPool(this.options, 4, MIGRATION_LOCK_KEY, migrateMetricTables);
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
    // The series row is locked, so 'end' is where this append really starts.
    const fresh = freshPoints(key, offset === 'end' ? row.count : offset, points, row.count);
    if (fresh.steps.length === 0) return existing?.summary ?? emptySummary(key);
    // Only the append that fills the open chunk reads its pieces (and deletes them: they become a whole chunk).
    const openSeq = openChunkSeq(row.count);
    let open: PointColumns | undefined;
    if (openSeq !== undefined && fillsOpenChunk(row.count, fresh.steps.length)) {
      const stored = await client.query<PieceRow>(
        `DELETE FROM metric_chunk_pieces WHERE run = $1 AND type = $2 AND name = $3 AND seq = $4
         RETURNING start, steps, vals, epochs, times`,
        [...where, openSeq],
      );
      open = joinPieces(stored.rows.map(unpackPiece));
    }
    const plan = planAppend(key, fresh, existing, open);
    const written: ChunkEnvelope[] = [];
    for (const chunk of plan.sealed) {
      const [first, last] = stepRange(chunk.columns.steps);
      await client.query(
        `INSERT INTO metric_chunks (run, type, name, seq, count, first_step, last_step, steps, vals, epochs, times)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (run, type, name, seq) DO UPDATE SET count = excluded.count, first_step = excluded.first_step,
           last_step = excluded.last_step, steps = excluded.steps, vals = excluded.vals, epochs = excluded.epochs,
           times = excluded.times`,
        [...where, chunk.seq, chunk.columns.steps.length, first, last, ...packColumns(chunk.columns)],
      );
      const segments = segmentEnvelopes(chunk.seq, chunk.columns);
      await client.query(
        `INSERT INTO metric_segment_envelopes (run, type, name, seq, envelopes) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (run, type, name, seq) DO UPDATE SET envelopes = excluded.envelopes`,
        [...where, chunk.seq, packEnvelopes(segments)],
      );
      written.push(foldEnvelopes(segments));
    }
    // Each group the batch sealed chunks in is read and written once, its spans with it.
    const whole = Math.floor(plan.summary.count / CHUNK_POINTS);
    for (const [grp, envelopes] of byGroup(written)) {
      const stored = await client.query<{ envelopes: Buffer }>(
        'SELECT envelopes FROM metric_chunk_envelope_groups WHERE run = $1 AND type = $2 AND name = $3 AND grp = $4',
        [...where, grp],
      );
      const group = withChunkEnvelopes(stored.rows[0] ? unpackEnvelopes(stored.rows[0].envelopes) : [], envelopes);
      await writeGroupRows(client, where, grp, group, whole);
    }
    if (plan.piece) {
      const { seq, start, columns } = plan.piece;
      await client.query(
        `INSERT INTO metric_chunk_pieces (run, type, name, seq, start, steps, vals, epochs, times)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [...where, seq, start, ...packColumns(columns)],
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
      // One statement, so one snapshot: an append that fills the open chunk moves its pieces.
      const { firstSeq, lastSeq } = chunksOfIndexes(options);
      const { rows } = await this.ready.query<{ steps: Buffer; vals: Buffer; epochs?: Buffer; times?: Buffer }>(
        `SELECT ${columns} FROM (
           SELECT 0 AS part, seq, 0 AS start, ${columns} FROM metric_chunks
            WHERE run = $1 AND type = $2 AND name = $3 AND seq BETWEEN $4 AND $5
           UNION ALL
           SELECT 1 AS part, seq, start, ${columns} FROM metric_chunk_pieces
            WHERE run = $1 AND type = $2 AND name = $3 AND seq BETWEEN $4 AND $5
         ) AS stored ORDER BY part, seq, start`,
        [key.run, key.type, key.name, firstSeq, lastSeq],
      );
      if (rows.length === 0) return emptyColumns();
      const parts = rows.map(unpackRow);
      return selectPoints(options.withTimes ? concatColumns(parts) : concatValues(parts), options, firstSeq);
    } catch (error) {
      throw translateError(error);
    }
  }

  /**
   * Runs `work` in a read-only transaction that sees one snapshot, so that the series row, the
   * stored envelopes and the open chunk's pieces agree while appends go on.
   */
  private async snapshot<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.ready, async (client) => {
      await client.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      return work(client);
    });
  }

  /** The open chunk's number and points (steps and values) as `client` sees them. */
  private async openChunk(
    client: pg.PoolClient,
    key: SeriesKey,
  ): Promise<{ seq: number; columns: PointColumns } | undefined> {
    const { rows } = await client.query<PieceRow & { count: number }>(
      `SELECT s.count, p.start, p.steps, p.vals FROM metric_series s
         JOIN metric_chunk_pieces p ON p.run = s.run AND p.type = s.type AND p.name = s.name AND p.seq = s.chunks - 1
        WHERE s.run = $1 AND s.type = $2 AND s.name = $3`,
      [key.run, key.type, key.name],
    );
    const seq = rows[0] ? openChunkSeq(rows[0].count) : undefined;
    if (seq === undefined) return undefined;
    return { seq, columns: joinPieces(rows.map(unpackPiece), false) };
  }

  async spanEnvelopes(key: SeriesKey): Promise<{ chunks: number; spans: ChunkEnvelope[] }> {
    const where = [key.run, key.type, key.name];
    try {
      return await this.snapshot(async (client) => {
        const series = await client.query<{
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
        const spans = await this.envelopeCache.get(key, seriesStamp(row), async () => {
          const stored = await client.query<{ envelopes: Buffer }>(
            'SELECT envelopes FROM metric_span_envelopes WHERE run = $1 AND type = $2 AND name = $3 ORDER BY grp',
            where,
          );
          const open = await this.openChunk(client, key);
          const whole = stored.rows.flatMap((group) => unpackEnvelopes(group.envelopes));
          return withOpenSpan(whole, open && openChunkEnvelopes(open.seq, open.columns).chunk);
        });
        return { chunks: row.chunks, spans };
      });
    } catch (error) {
      throw translateError(error);
    }
  }

  async chunkEnvelopes(key: SeriesKey, seqs: readonly number[]): Promise<ChunkEnvelope[]> {
    if (seqs.length === 0) return [];
    const wanted = new Set(seqs);
    try {
      return await this.snapshot(async (client) => {
        const { rows } = await client.query<{ envelopes: Buffer }>(
          `SELECT envelopes FROM metric_chunk_envelope_groups WHERE run = $1 AND type = $2 AND name = $3
           AND grp = ANY($4::int[]) ORDER BY grp`,
          [key.run, key.type, key.name, [...new Set(seqs.map(groupOf))]],
        );
        const found = rows.flatMap((row) => unpackEnvelopes(row.envelopes).filter((each) => wanted.has(each.seq)));
        const open = await this.openChunk(client, key);
        const chunk = open && wanted.has(open.seq) ? openChunkEnvelopes(open.seq, open.columns).chunk : undefined;
        if (chunk) found.push(chunk);
        return found;
      });
    } catch (error) {
      throw translateError(error);
    }
  }

  async segmentEnvelopes(key: SeriesKey, seqs: readonly number[]): Promise<ChunkEnvelope[]> {
    if (seqs.length === 0) return [];
    try {
      return await this.snapshot(async (client) => {
        const { rows } = await client.query<{ envelopes: Buffer }>(
          `SELECT envelopes FROM metric_segment_envelopes WHERE run = $1 AND type = $2 AND name = $3
           AND seq = ANY($4::int[]) ORDER BY seq`,
          [key.run, key.type, key.name, [...seqs]],
        );
        // Unpacked at once: a zoom of a few million points asks for ~1,000 chunks' segments.
        const found = unpackEnvelopes(Buffer.concat(rows.map((row) => row.envelopes)));
        const open = await this.openChunk(client, key);
        if (open && seqs.includes(open.seq)) found.push(...openChunkEnvelopes(open.seq, open.columns).segments);
        return found;
      });
    } catch (error) {
      throw translateError(error);
    }
  }

  async readChunks(key: SeriesKey, seqs: readonly number[]): Promise<{ seq: number; columns: PointColumns }[]> {
    if (seqs.length === 0) return [];
    try {
      // One statement, so one snapshot: a chunk is either whole or in pieces.
      const { rows } = await this.ready.query<{ seq: number; start: number; steps: Buffer; vals: Buffer }>(
        `SELECT seq, 0 AS start, steps, vals FROM metric_chunks
          WHERE run = $1 AND type = $2 AND name = $3 AND seq = ANY($4::int[])
         UNION ALL
         SELECT seq, start, steps, vals FROM metric_chunk_pieces
          WHERE run = $1 AND type = $2 AND name = $3 AND seq = ANY($4::int[])`,
        [key.run, key.type, key.name, [...seqs]],
      );
      const bySeq = new Map<number, ChunkPiece[]>();
      for (const row of rows) {
        const pieces = bySeq.get(row.seq);
        if (pieces) pieces.push(unpackPiece(row));
        else bySeq.set(row.seq, [unpackPiece(row)]);
      }
      return seqs.flatMap((seq) => {
        const pieces = bySeq.get(seq);
        return pieces ? [{ seq, columns: joinPieces(pieces, false) }] : [];
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
        await client.query('DELETE FROM metric_chunk_pieces WHERE run = $1', [run]);
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

interface PieceRow {
  start: number;
  steps: Buffer;
  vals: Buffer;
  epochs?: Buffer;
  times?: Buffer;
}

function unpackPiece(row: PieceRow): ChunkPiece {
  return { start: row.start, columns: unpackRow(row) };
}

function packColumns(columns: PointColumns): Buffer[] {
  return [packColumn(columns.steps), packColumn(columns.values), packColumn(columns.epochs), packColumn(columns.times)];
}

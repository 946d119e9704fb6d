/**
 * Metric series on SQLite, in a file of their own (`metrics.db` beside `larder.db`), so
 * that heavy ingest never waits on the document writer or the other way round. Whole chunks
 * are rows of four little-endian float64 BLOBs, the open chunk rows of the pieces appended
 * to it (`open-chunk.ts`); a series row keeps the summary.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { LarderError } from '@larder/protocol';
import Database from 'better-sqlite3';
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
  type StoredSeries,
  selectPoints,
  stepRange,
  toSummary,
  unpackColumn,
} from '../series-chunks.js';
import { SCHEMA, SCHEMA_VERSION, upgradeMetricsDb } from './sqlite-metric-schema.js';

/** SQLite's page size for a new metrics.db. */
const PAGE_BYTES = 32_768;

export class SqliteMetricStore implements MetricStore {
  readonly kind = 'sqlite';
  private db: Database.Database | undefined;
  private statements: ReturnType<SqliteMetricStore['prepare']> | undefined;
  private readonly envelopeCache = new EnvelopeCache();

  constructor(private readonly options: { file: string }) {}

  async open(): Promise<void> {
    if (this.db) return;
    mkdirSync(dirname(this.options.file), { recursive: true });
    const db = new Database(this.options.file);
    // Large pages for a new file (an existing one keeps its own): a chunk's four 32 KiB
    // columns take a few overflow pages instead of 32, about a third less CPU per point.
    db.pragma(`page_size = ${PAGE_BYTES}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      db.close();
      throw new LarderError('GeneralError', `metrics.db was written by a newer Larder (schema ${version})`);
    }
    db.exec(SCHEMA);
    this.db = db;
    this.statements = this.prepare(db);
    upgradeMetricsDb(db, version);
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
    this.envelopeCache.clear();
    this.statements = undefined;
  }

  private prepare(db: Database.Database) {
    return {
      series: db.prepare<[string, string, string], SeriesRow>(
        'SELECT * FROM series WHERE run = ? AND type = ? AND name = ?',
      ),
      chunk: db.prepare<
        [string, string, string, number],
        { steps: Buffer; vals: Buffer; epochs: Buffer; times: Buffer }
      >('SELECT steps, vals, epochs, times FROM chunks WHERE run = ? AND type = ? AND name = ? AND seq = ?'),
      writeChunk: db.prepare(
        `INSERT INTO chunks (run, type, name, seq, count, first_step, last_step, steps, vals, epochs, times)
         VALUES (@run, @type, @name, @seq, @count, @first, @last, @steps, @vals, @epochs, @times)
         ON CONFLICT (run, type, name, seq) DO UPDATE SET count = excluded.count, first_step = excluded.first_step,
           last_step = excluded.last_step, steps = excluded.steps, vals = excluded.vals, epochs = excluded.epochs,
           times = excluded.times`,
      ),
      writePiece: db.prepare(
        `INSERT INTO chunk_pieces (run, type, name, seq, start, steps, vals, epochs, times)
         VALUES (@run, @type, @name, @seq, @start, @steps, @vals, @epochs, @times)`,
      ),
      pieces: db.prepare<
        [string, string, string, number],
        { start: number; steps: Buffer; vals: Buffer; epochs: Buffer; times: Buffer }
      >(
        'SELECT start, steps, vals, epochs, times FROM chunk_pieces WHERE run = ? AND type = ? AND name = ? AND seq = ?',
      ),
      pieceValues: db.prepare<[string, string, string, number], { start: number; steps: Buffer; vals: Buffer }>(
        'SELECT start, steps, vals FROM chunk_pieces WHERE run = ? AND type = ? AND name = ? AND seq = ?',
      ),
      allPieces: db.prepare<
        [string, string, string, number, number],
        { start: number; steps: Buffer; vals: Buffer; epochs: Buffer; times: Buffer }
      >(
        'SELECT start, steps, vals, epochs, times FROM chunk_pieces WHERE run = ? AND type = ? AND name = ? AND seq BETWEEN ? AND ? ORDER BY seq, start',
      ),
      removePieces: db.prepare('DELETE FROM chunk_pieces WHERE run = ? AND type = ? AND name = ? AND seq = ?'),
      removeRunPieces: db.prepare('DELETE FROM chunk_pieces WHERE run = ?'),
      writeSegments: db.prepare(
        `INSERT INTO segment_envelopes (run, type, name, seq, envelopes) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (run, type, name, seq) DO UPDATE SET envelopes = excluded.envelopes`,
      ),
      segmentRange: db
        .prepare<[string, string, string, number, number], Buffer>(
          'SELECT envelopes FROM segment_envelopes WHERE run = ? AND type = ? AND name = ? AND seq BETWEEN ? AND ? ORDER BY seq',
        )
        .pluck(),
      group: db.prepare<[string, string, string, number], { envelopes: Buffer }>(
        'SELECT envelopes FROM chunk_envelope_groups WHERE run = ? AND type = ? AND name = ? AND grp = ?',
      ),
      writeGroup: db.prepare(
        `INSERT INTO chunk_envelope_groups (run, type, name, grp, envelopes) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (run, type, name, grp) DO UPDATE SET envelopes = excluded.envelopes`,
      ),
      writeSpans: db.prepare(
        `INSERT INTO span_envelopes (run, type, name, grp, envelopes) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (run, type, name, grp) DO UPDATE SET envelopes = excluded.envelopes`,
      ),
      spans: db.prepare<[string, string, string], { envelopes: Buffer }>(
        'SELECT envelopes FROM span_envelopes WHERE run = ? AND type = ? AND name = ? ORDER BY grp',
      ),
      chunkValues: db.prepare<[string, string, string, number], { steps: Buffer; vals: Buffer }>(
        'SELECT steps, vals FROM chunks WHERE run = ? AND type = ? AND name = ? AND seq = ?',
      ),
      removeSegments: db.prepare('DELETE FROM segment_envelopes WHERE run = ?'),
      removeGroups: db.prepare('DELETE FROM chunk_envelope_groups WHERE run = ?'),
      removeSpans: db.prepare('DELETE FROM span_envelopes WHERE run = ?'),
      writeSeries: db.prepare(
        `INSERT INTO series (run, type, name, count, chunks, first_step, last_step, last, min, max, last_epoch, last_time)
         VALUES (@run, @type, @name, @count, @chunks, @firstStep, @lastStep, @last, @min, @max, @lastEpoch, @lastTime)
         ON CONFLICT (run, type, name) DO UPDATE SET count = excluded.count, chunks = excluded.chunks,
           first_step = excluded.first_step, last_step = excluded.last_step, last = excluded.last, min = excluded.min,
           max = excluded.max, last_epoch = excluded.last_epoch, last_time = excluded.last_time`,
      ),
      readAll: db.prepare<
        [string, string, string, number, number],
        { steps: Buffer; vals: Buffer; epochs?: Buffer; times?: Buffer }
      >(
        'SELECT steps, vals, epochs, times FROM chunks WHERE run = ? AND type = ? AND name = ? AND seq BETWEEN ? AND ? ORDER BY seq',
      ),
      readValues: db.prepare<[string, string, string, number, number], { steps: Buffer; vals: Buffer }>(
        'SELECT steps, vals FROM chunks WHERE run = ? AND type = ? AND name = ? AND seq BETWEEN ? AND ? ORDER BY seq',
      ),
      list: db.prepare<[string], SeriesRow>('SELECT * FROM series WHERE run = ? ORDER BY type, name'),
      removeChunks: db.prepare('DELETE FROM chunks WHERE run = ?'),
      removeSeries: db.prepare('DELETE FROM series WHERE run = ?'),
    };
  }

  private get ready() {
    if (!this.statements) throw new LarderError('Unavailable', 'The metric store is not open');
    return this.statements;
  }

  async append(batches: readonly AppendBatch[]): Promise<SeriesSummary[]> {
    const statements = this.ready;
    const db = this.db as Database.Database;
    return db.transaction(() =>
      batches.map(({ key, offset, points }) => {
        const row = statements.series.get(key.run, key.type, key.name);
        const existing: StoredSeries | undefined = row ? { summary: toSummary(row), chunks: row.chunks } : undefined;
        const count = existing?.summary.count ?? 0;
        const fresh = freshPoints(key, offset === 'end' ? count : offset, points, count);
        if (fresh.steps.length === 0) return existing?.summary ?? emptySummary(key);
        // Only the append that fills the open chunk reads its pieces.
        const openSeq = openChunkSeq(count);
        const open =
          openSeq !== undefined && fillsOpenChunk(count, fresh.steps.length)
            ? joinPieces(statements.pieces.all(key.run, key.type, key.name, openSeq).map(unpackPiece))
            : undefined;
        const plan = planAppend(key, fresh, existing, open);
        if (plan.sealsOpen && openSeq !== undefined) statements.removePieces.run(key.run, key.type, key.name, openSeq);
        const written: ChunkEnvelope[] = [];
        for (const chunk of plan.sealed) {
          const [first, last] = stepRange(chunk.columns.steps);
          statements.writeChunk.run({
            ...key,
            seq: chunk.seq,
            count: chunk.columns.steps.length,
            first,
            last,
            ...packColumns(chunk.columns),
          });
          const segments = segmentEnvelopes(chunk.seq, chunk.columns);
          statements.writeSegments.run(key.run, key.type, key.name, chunk.seq, packEnvelopes(segments));
          written.push(foldEnvelopes(segments));
        }
        // Each group the batch sealed chunks in is read and written once, its spans with it.
        const whole = Math.floor(plan.summary.count / CHUNK_POINTS);
        for (const [grp, envelopes] of byGroup(written)) {
          const stored = statements.group.get(key.run, key.type, key.name, grp);
          const group = withChunkEnvelopes(stored ? unpackEnvelopes(stored.envelopes) : [], envelopes);
          statements.writeGroup.run(key.run, key.type, key.name, grp, packEnvelopes(group));
          statements.writeSpans.run(key.run, key.type, key.name, grp, packEnvelopes(spansOf(group, whole)));
        }
        if (plan.piece) {
          const { seq, start, columns } = plan.piece;
          statements.writePiece.run({ ...key, seq, start, ...packColumns(columns) });
        }
        statements.writeSeries.run({ ...plan.summary, chunks: plan.chunks });
        return plan.summary;
      }),
    )();
  }

  async read(key: SeriesKey, options: ReadOptions = {}): Promise<PointColumns> {
    const statements = this.ready;
    const unpack = options.withTimes ? unpackRow : unpackValues;
    const { firstSeq, lastSeq } = chunksOfIndexes(options);
    const rows = (options.withTimes ? statements.readAll : statements.readValues)
      .all(key.run, key.type, key.name, firstSeq, lastSeq)
      .map(unpack);
    rows.push(...statements.allPieces.all(key.run, key.type, key.name, firstSeq, lastSeq).map(unpack));
    if (rows.length === 0) return emptyColumns();
    return selectPoints(options.withTimes ? concatColumns(rows) : concatValues(rows), options, firstSeq);
  }

  /** The open chunk's number and points (steps and values), if the series has one. */
  private openChunk(key: SeriesKey): { seq: number; columns: PointColumns } | undefined {
    const statements = this.ready;
    const row = statements.series.get(key.run, key.type, key.name);
    const seq = row ? openChunkSeq(row.count) : undefined;
    if (seq === undefined) return undefined;
    const pieces = statements.pieceValues.all(key.run, key.type, key.name, seq);
    return { seq, columns: joinPieces(pieces.map(unpackPiece), false) };
  }

  async spanEnvelopes(key: SeriesKey): Promise<{ chunks: number; spans: ChunkEnvelope[] }> {
    const statements = this.ready;
    const row = statements.series.get(key.run, key.type, key.name);
    if (!row) return { chunks: 0, spans: [] };
    const spans = await this.envelopeCache.get(key, seriesStamp(row), async () => {
      const stored = statements.spans
        .all(key.run, key.type, key.name)
        .flatMap((group) => unpackEnvelopes(group.envelopes));
      const open = this.openChunk(key);
      return withOpenSpan(stored, open && openChunkEnvelopes(open.seq, open.columns).chunk);
    });
    return { chunks: row.chunks, spans };
  }

  async chunkEnvelopes(key: SeriesKey, seqs: readonly number[]): Promise<ChunkEnvelope[]> {
    const statements = this.ready;
    const wanted = new Set(seqs);
    const groups = [...new Set(seqs.map(groupOf))].sort((a, b) => a - b);
    const found = groups.flatMap((grp) => {
      const row = statements.group.get(key.run, key.type, key.name, grp);
      return row ? unpackEnvelopes(row.envelopes).filter((envelope) => wanted.has(envelope.seq)) : [];
    });
    const open = this.openChunk(key);
    const chunk = open && wanted.has(open.seq) ? openChunkEnvelopes(open.seq, open.columns).chunk : undefined;
    if (chunk) found.push(chunk);
    return found;
  }

  async segmentEnvelopes(key: SeriesKey, seqs: readonly number[]): Promise<ChunkEnvelope[]> {
    const statements = this.ready;
    // One scan per run of consecutive chunks (a zoom asks for one), unpacked at once: a zoom
    // of a few million points asks for ~1,000 chunks' segments.
    const rows: Buffer[] = [];
    for (const [first, last] of consecutiveRuns(seqs)) {
      rows.push(...statements.segmentRange.all(key.run, key.type, key.name, first, last));
    }
    const found = unpackEnvelopes(Buffer.concat(rows));
    const open = this.openChunk(key);
    if (open && seqs.includes(open.seq)) found.push(...openChunkEnvelopes(open.seq, open.columns).segments);
    return found;
  }

  async readChunks(key: SeriesKey, seqs: readonly number[]): Promise<{ seq: number; columns: PointColumns }[]> {
    const statements = this.ready;
    const found: { seq: number; columns: PointColumns }[] = [];
    for (const seq of seqs) {
      const row = statements.chunkValues.get(key.run, key.type, key.name, seq);
      if (row) {
        found.push({ seq, columns: unpackValues(row) });
        continue;
      }
      const pieces = statements.pieceValues.all(key.run, key.type, key.name, seq);
      if (pieces.length > 0) found.push({ seq, columns: joinPieces(pieces.map(unpackPiece), false) });
    }
    return found;
  }

  async list(run: string): Promise<SeriesSummary[]> {
    return this.ready.list.all(run).map(toSummary);
  }

  async removeRun(run: string): Promise<void> {
    const statements = this.ready;
    (this.db as Database.Database).transaction(() => {
      statements.removeChunks.run(run);
      statements.removeRunPieces.run(run);
      statements.removeSegments.run(run);
      statements.removeGroups.run(run);
      statements.removeSpans.run(run);
      statements.removeSeries.run(run);
    })();
  }
}

/** Sorted chunk numbers as runs of consecutive ones: `[first, last]` each. */
function consecutiveRuns(seqs: readonly number[]): [number, number][] {
  const sorted = [...new Set(seqs)].sort((a, b) => a - b);
  const runs: [number, number][] = [];
  for (const seq of sorted) {
    const current = runs[runs.length - 1];
    if (current && seq === current[1] + 1) current[1] = seq;
    else runs.push([seq, seq]);
  }
  return runs;
}

function packColumns(columns: PointColumns): { steps: Buffer; vals: Buffer; epochs: Buffer; times: Buffer } {
  return {
    steps: packColumn(columns.steps),
    vals: packColumn(columns.values),
    epochs: packColumn(columns.epochs),
    times: packColumn(columns.times),
  };
}

function unpackPiece(row: { start: number; steps: Buffer; vals: Buffer; epochs?: Buffer; times?: Buffer }): ChunkPiece {
  return { start: row.start, columns: unpackRow(row) };
}

function unpackValues(row: { steps: Buffer; vals: Buffer }): PointColumns {
  return {
    steps: unpackColumn(row.steps),
    values: unpackColumn(row.vals),
    epochs: new Float64Array(0),
    times: new Float64Array(0),
  };
}

function unpackRow(row: { steps: Buffer; vals: Buffer; epochs?: Buffer; times?: Buffer }): PointColumns {
  return {
    steps: unpackColumn(row.steps),
    values: unpackColumn(row.vals),
    epochs: unpackColumn(row.epochs ?? Buffer.alloc(0)),
    times: unpackColumn(row.times ?? Buffer.alloc(0)),
  };
}

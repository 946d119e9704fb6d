/**
 * Metric series on SQLite, in a file of their own (`metrics.db` beside `larder.db`), so
 * that heavy ingest never waits on the document writer or the other way round. Chunks are
 * rows of four little-endian float64 BLOBs; a series row keeps the summary.
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
import {
  type Chunk,
  concatColumns,
  concatValues,
  emptySummary,
  filterSteps,
  packColumn,
  planAppend,
  type SeriesRow,
  type StoredSeries,
  stepRange,
  toSummary,
  unpackColumn,
} from '../series-chunks.js';

/**
 * 2: chunk envelopes; 3: span envelopes (a newer schema an older Larder must not write to, or
 * envelopes would go stale).
 */
const SCHEMA_VERSION = 3;
/** SQLite's page size for a new metrics.db. */
const PAGE_BYTES = 32_768;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS series (
  run TEXT NOT NULL, type TEXT NOT NULL, name TEXT NOT NULL,
  count INTEGER NOT NULL, chunks INTEGER NOT NULL,
  first_step REAL, last_step REAL, last REAL, min REAL, max REAL, last_epoch REAL, last_time REAL,
  PRIMARY KEY (run, type, name)
);
CREATE TABLE IF NOT EXISTS chunks (
  run TEXT NOT NULL, type TEXT NOT NULL, name TEXT NOT NULL, seq INTEGER NOT NULL,
  count INTEGER NOT NULL, first_step REAL, last_step REAL,
  steps BLOB NOT NULL, vals BLOB NOT NULL, epochs BLOB NOT NULL, times BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS chunks_by_series ON chunks (run, type, name, seq);
DROP TABLE IF EXISTS chunk_envelopes;
CREATE TABLE IF NOT EXISTS segment_envelopes (
  run TEXT NOT NULL, type TEXT NOT NULL, name TEXT NOT NULL, seq INTEGER NOT NULL, envelopes BLOB NOT NULL,
  PRIMARY KEY (run, type, name, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chunk_envelope_groups (
  run TEXT NOT NULL, type TEXT NOT NULL, name TEXT NOT NULL, grp INTEGER NOT NULL, envelopes BLOB NOT NULL,
  PRIMARY KEY (run, type, name, grp)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS span_envelopes (
  run TEXT NOT NULL, type TEXT NOT NULL, name TEXT NOT NULL, grp INTEGER NOT NULL, envelopes BLOB NOT NULL,
  PRIMARY KEY (run, type, name, grp)
) WITHOUT ROWID;
`;

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
    if (version < 3) this.fillSpans();
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }

  /** Schema 3: the span envelopes of series stored before them, from their groups' chunk envelopes. */
  private fillSpans(): void {
    const statements = this.ready;
    const db = this.db as Database.Database;
    db.transaction(() => {
      for (const row of statements.allSeries.all()) {
        for (const group of statements.groupsWithNumbers.all(row.run, row.type, row.name)) {
          const spans = spansOf(unpackEnvelopes(group.envelopes), row.chunks);
          statements.writeSpans.run(row.run, row.type, row.name, group.grp, packEnvelopes(spans));
        }
      }
    })();
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
      groupsWithNumbers: db.prepare<[string, string, string], { grp: number; envelopes: Buffer }>(
        'SELECT grp, envelopes FROM chunk_envelope_groups WHERE run = ? AND type = ? AND name = ? ORDER BY grp',
      ),
      writeSpans: db.prepare(
        `INSERT INTO span_envelopes (run, type, name, grp, envelopes) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (run, type, name, grp) DO UPDATE SET envelopes = excluded.envelopes`,
      ),
      spans: db.prepare<[string, string, string], { envelopes: Buffer }>(
        'SELECT envelopes FROM span_envelopes WHERE run = ? AND type = ? AND name = ? ORDER BY grp',
      ),
      allSeries: db.prepare<[], { run: string; type: string; name: string; chunks: number }>(
        'SELECT run, type, name, chunks FROM series',
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
      readAll: db.prepare<[string, string, string], { steps: Buffer; vals: Buffer; epochs?: Buffer; times?: Buffer }>(
        'SELECT steps, vals, epochs, times FROM chunks WHERE run = ? AND type = ? AND name = ? ORDER BY seq',
      ),
      readValues: db.prepare<[string, string, string], { steps: Buffer; vals: Buffer }>(
        'SELECT steps, vals FROM chunks WHERE run = ? AND type = ? AND name = ? ORDER BY seq',
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
        let open: Chunk | undefined;
        if (row && row.count % CHUNK_POINTS !== 0) {
          const stored = statements.chunk.get(key.run, key.type, key.name, row.chunks - 1);
          if (stored) open = { seq: row.chunks - 1, columns: unpackRow(stored) };
        }
        const start = offset === 'end' ? (existing?.summary.count ?? 0) : offset;
        const plan = planAppend(key, start, points, existing, open);
        if (!plan) return existing?.summary ?? emptySummary(key);
        const written: ChunkEnvelope[] = [];
        for (const chunk of plan.writes) {
          const [first, last] = stepRange(chunk.columns.steps);
          statements.writeChunk.run({
            ...key,
            seq: chunk.seq,
            count: chunk.columns.steps.length,
            first,
            last,
            steps: packColumn(chunk.columns.steps),
            vals: packColumn(chunk.columns.values),
            epochs: packColumn(chunk.columns.epochs),
            times: packColumn(chunk.columns.times),
          });
          const segments = segmentEnvelopes(chunk.seq, chunk.columns);
          statements.writeSegments.run(key.run, key.type, key.name, chunk.seq, packEnvelopes(segments));
          written.push(foldEnvelopes(segments));
        }
        // Each group the batch touched is read and written once, its spans with it.
        for (const [grp, envelopes] of byGroup(written)) {
          const stored = statements.group.get(key.run, key.type, key.name, grp);
          const group = withChunkEnvelopes(stored ? unpackEnvelopes(stored.envelopes) : [], envelopes);
          statements.writeGroup.run(key.run, key.type, key.name, grp, packEnvelopes(group));
          statements.writeSpans.run(key.run, key.type, key.name, grp, packEnvelopes(spansOf(group, plan.chunks)));
        }
        statements.writeSeries.run({ ...plan.summary, chunks: plan.chunks });
        return plan.summary;
      }),
    )();
  }

  async read(key: SeriesKey, options: ReadOptions = {}): Promise<PointColumns> {
    const statements = this.ready;
    const rows = options.withTimes
      ? statements.readAll.all(key.run, key.type, key.name).map(unpackRow)
      : statements.readValues.all(key.run, key.type, key.name).map((row) => ({
          steps: unpackColumn(row.steps),
          values: unpackColumn(row.vals),
          epochs: new Float64Array(0),
          times: new Float64Array(0),
        }));
    if (rows.length === 0) return emptyColumns();
    return filterSteps(options.withTimes ? concatColumns(rows) : concatValues(rows), options);
  }

  async spanEnvelopes(key: SeriesKey): Promise<{ chunks: number; spans: ChunkEnvelope[] }> {
    const statements = this.ready;
    const row = statements.series.get(key.run, key.type, key.name);
    if (!row) return { chunks: 0, spans: [] };
    const spans = await this.envelopeCache.get(key, seriesStamp(row), async () =>
      statements.spans.all(key.run, key.type, key.name).flatMap((group) => unpackEnvelopes(group.envelopes)),
    );
    return { chunks: row.chunks, spans };
  }

  async chunkEnvelopes(key: SeriesKey, seqs: readonly number[]): Promise<ChunkEnvelope[]> {
    const statements = this.ready;
    const wanted = new Set(seqs);
    const groups = [...new Set(seqs.map(groupOf))].sort((a, b) => a - b);
    return groups.flatMap((grp) => {
      const row = statements.group.get(key.run, key.type, key.name, grp);
      return row ? unpackEnvelopes(row.envelopes).filter((envelope) => wanted.has(envelope.seq)) : [];
    });
  }

  async segmentEnvelopes(key: SeriesKey, seqs: readonly number[]): Promise<ChunkEnvelope[]> {
    const statements = this.ready;
    // One scan per run of consecutive chunks (a zoom asks for one), unpacked at once: a zoom
    // of a few million points asks for ~1,000 chunks' segments.
    const rows: Buffer[] = [];
    for (const [first, last] of consecutiveRuns(seqs)) {
      rows.push(...statements.segmentRange.all(key.run, key.type, key.name, first, last));
    }
    return unpackEnvelopes(Buffer.concat(rows));
  }

  async readChunks(key: SeriesKey, seqs: readonly number[]): Promise<{ seq: number; columns: PointColumns }[]> {
    const statements = this.ready;
    const found: { seq: number; columns: PointColumns }[] = [];
    for (const seq of seqs) {
      const row = statements.chunkValues.get(key.run, key.type, key.name, seq);
      if (!row) continue;
      const columns = {
        steps: unpackColumn(row.steps),
        values: unpackColumn(row.vals),
        epochs: new Float64Array(0),
        times: new Float64Array(0),
      };
      found.push({ seq, columns });
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

function unpackRow(row: { steps: Buffer; vals: Buffer; epochs?: Buffer; times?: Buffer }): PointColumns {
  return {
    steps: unpackColumn(row.steps),
    values: unpackColumn(row.vals),
    epochs: unpackColumn(row.epochs ?? Buffer.alloc(0)),
    times: unpackColumn(row.times ?? Buffer.alloc(0)),
  };
}

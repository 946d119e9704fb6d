/**
 * The tables of `metrics.db` and the upgrades of files older Larders wrote, run at open:
 * schema 3 fills span envelopes for series stored before them, schema 4 turns each series'
 * open chunk, stored as a chunk row with envelopes, into a piece (`open-chunk.ts`).
 */
import type Database from 'better-sqlite3';
import { groupOf, packEnvelopes, spansOf, unpackEnvelopes } from '../chunk-envelope.js';
import { CHUNK_POINTS } from '../metric-store.js';

/**
 * 2: chunk envelopes; 3: span envelopes (a newer schema an older Larder must not write to, or
 * envelopes would go stale); 4: the open chunk kept as pieces (`open-chunk.ts`).
 */
export const SCHEMA_VERSION = 4;

export const SCHEMA = `
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
CREATE TABLE IF NOT EXISTS chunk_pieces (
  run TEXT NOT NULL, type TEXT NOT NULL, name TEXT NOT NULL, seq INTEGER NOT NULL, start INTEGER NOT NULL,
  steps BLOB NOT NULL, vals BLOB NOT NULL, epochs BLOB NOT NULL, times BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS chunk_pieces_by_series ON chunk_pieces (run, type, name, seq, start);
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

/** Upgrades a metrics.db of schema `version` (its tables made by `SCHEMA`) to `SCHEMA_VERSION`. */
export function upgradeMetricsDb(db: Database.Database, version: number): void {
  db.transaction(() => {
    if (version < 3) fillSpans(db);
    if (version < 4) openChunksToPieces(db);
  })();
  db.pragma(`user_version = ${SCHEMA_VERSION}`);
}

function writeSpans(db: Database.Database, run: string, type: string, name: string, grp: number, spans: Buffer): void {
  db.prepare(
    `INSERT INTO span_envelopes (run, type, name, grp, envelopes) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (run, type, name, grp) DO UPDATE SET envelopes = excluded.envelopes`,
  ).run(run, type, name, grp, spans);
}

/** Schema 3: the span envelopes of series stored before them, from their groups' chunk envelopes. */
function fillSpans(db: Database.Database): void {
  const series = db.prepare<[], { run: string; type: string; name: string; count: number }>(
    'SELECT run, type, name, count FROM series',
  );
  const groups = db.prepare<[string, string, string], { grp: number; envelopes: Buffer }>(
    'SELECT grp, envelopes FROM chunk_envelope_groups WHERE run = ? AND type = ? AND name = ? ORDER BY grp',
  );
  for (const row of series.all()) {
    for (const group of groups.all(row.run, row.type, row.name)) {
      // Whole chunks only: so the span of an open chunk stored as pieces is whole too.
      const spans = spansOf(unpackEnvelopes(group.envelopes), Math.floor(row.count / CHUNK_POINTS));
      writeSpans(db, row.run, row.type, row.name, group.grp, packEnvelopes(spans));
    }
  }
}

/**
 * Schema 4: each series' open chunk, stored before as a chunk row with envelopes, becomes a
 * piece, and the envelopes of its group and span cover its whole chunks only.
 */
function openChunksToPieces(db: Database.Database): void {
  const open = db.prepare<[number], { run: string; type: string; name: string; seq: number }>(
    'SELECT run, type, name, seq FROM chunks WHERE count < ?',
  );
  const where = 'run = ? AND type = ? AND name = ? AND seq = ?';
  const toPiece = db.prepare(
    `INSERT INTO chunk_pieces (run, type, name, seq, start, steps, vals, epochs, times)
     SELECT run, type, name, seq, 0, steps, vals, epochs, times FROM chunks WHERE ${where}`,
  );
  const removeChunk = db.prepare(`DELETE FROM chunks WHERE ${where}`);
  const removeSegments = db.prepare(`DELETE FROM segment_envelopes WHERE ${where}`);
  const group = db.prepare<[string, string, string, number], { envelopes: Buffer }>(
    'SELECT envelopes FROM chunk_envelope_groups WHERE run = ? AND type = ? AND name = ? AND grp = ?',
  );
  const writeGroup = db.prepare(
    'UPDATE chunk_envelope_groups SET envelopes = ? WHERE run = ? AND type = ? AND name = ? AND grp = ?',
  );
  for (const { run, type, name, seq } of open.all(CHUNK_POINTS)) {
    toPiece.run(run, type, name, seq);
    removeChunk.run(run, type, name, seq);
    removeSegments.run(run, type, name, seq);
    const grp = groupOf(seq);
    const stored = group.get(run, type, name, grp);
    if (!stored) continue;
    // Chunks stored before envelopes were kept have none: their group stays as it was.
    const kept = unpackEnvelopes(stored.envelopes).filter((each) => each.seq !== seq);
    writeGroup.run(packEnvelopes(kept), run, type, name, grp);
    writeSpans(db, run, type, name, grp, packEnvelopes(spansOf(kept, seq)));
  }
}

/**
 * The PostgreSQL metric tables and their upgrades, run at open under the migration lock:
 * span envelopes for series stored before them, and open chunks stored as chunk rows turned
 * into pieces (`open-chunk.ts`) when the pieces' table is new.
 */
import type pg from 'pg';
import { type ChunkEnvelope, groupOf, packEnvelopes, spansOf, unpackEnvelopes } from '../chunk-envelope.js';
import { CHUNK_POINTS } from '../metric-store.js';

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
CREATE TABLE IF NOT EXISTS metric_chunk_pieces (
  run text NOT NULL, type text NOT NULL, name text NOT NULL, seq integer NOT NULL, start integer NOT NULL,
  steps bytea NOT NULL, vals bytea NOT NULL, epochs bytea NOT NULL, times bytea NOT NULL,
  PRIMARY KEY (run, type, name, seq, start)
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
      whole: number;
    }>(
      // Whole chunks only: an open chunk stored as pieces has no envelope in its group.
      `SELECT g.run, g.type, g.name, g.grp, g.envelopes, s.count / ${CHUNK_POINTS} AS whole
         FROM metric_chunk_envelope_groups g JOIN metric_series s USING (run, type, name)
        WHERE NOT EXISTS (SELECT 1 FROM metric_span_envelopes p
                           WHERE p.run = g.run AND p.type = g.type AND p.name = g.name AND p.grp = g.grp)
        LIMIT ${FILL_BATCH}`,
    );
    for (const row of rows) {
      await client.query(
        'INSERT INTO metric_span_envelopes (run, type, name, grp, envelopes) VALUES ($1, $2, $3, $4, $5)',
        [row.run, row.type, row.name, row.grp, packEnvelopes(spansOf(unpackEnvelopes(row.envelopes), row.whole))],
      );
    }
    if (rows.length < FILL_BATCH) return;
  }
}

/**
 * Each series' open chunk, stored before pieces were kept as a chunk row with envelopes, as a
 * piece; the envelopes of its group and span then cover its whole chunks only (at open, under
 * the lock, when the pieces' table is new).
 */
async function openChunksToPieces(client: pg.PoolClient): Promise<void> {
  const { rows } = await client.query<{ run: string; type: string; name: string; seq: number }>(
    'SELECT run, type, name, seq FROM metric_chunks WHERE count < $1',
    [CHUNK_POINTS],
  );
  for (const { run, type, name, seq } of rows) {
    const where = [run, type, name, seq];
    await client.query(
      `INSERT INTO metric_chunk_pieces (run, type, name, seq, start, steps, vals, epochs, times)
       SELECT run, type, name, seq, 0, steps, vals, epochs, times FROM metric_chunks
        WHERE run = $1 AND type = $2 AND name = $3 AND seq = $4`,
      where,
    );
    await client.query('DELETE FROM metric_chunks WHERE run = $1 AND type = $2 AND name = $3 AND seq = $4', where);
    await client.query(
      'DELETE FROM metric_segment_envelopes WHERE run = $1 AND type = $2 AND name = $3 AND seq = $4',
      where,
    );
    const grp = groupOf(seq);
    const stored = await client.query<{ envelopes: Buffer }>(
      'SELECT envelopes FROM metric_chunk_envelope_groups WHERE run = $1 AND type = $2 AND name = $3 AND grp = $4',
      [run, type, name, grp],
    );
    const envelopes = stored.rows[0] ? unpackEnvelopes(stored.rows[0].envelopes) : [];
    const group = envelopes.filter((each) => each.seq !== seq);
    await writeGroupRows(client, [run, type, name], grp, group, seq);
  }
}

/** Writes a group's chunk envelopes and its spans (of a series with `whole` whole chunks). */
export async function writeGroupRows(
  client: pg.PoolClient,
  where: readonly string[],
  grp: number,
  group: readonly ChunkEnvelope[],
  whole: number,
): Promise<void> {
  await client.query(
    `INSERT INTO metric_chunk_envelope_groups (run, type, name, grp, envelopes) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (run, type, name, grp) DO UPDATE SET envelopes = excluded.envelopes`,
    [...where, grp, packEnvelopes(group)],
  );
  await client.query(
    `INSERT INTO metric_span_envelopes (run, type, name, grp, envelopes) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (run, type, name, grp) DO UPDATE SET envelopes = excluded.envelopes`,
    [...where, grp, packEnvelopes(spansOf(group, whole))],
  );
}

/** Creates the metric tables and upgrades what older versions stored. */
export async function migrateMetricTables(client: pg.PoolClient): Promise<void> {
  const { rows } = await client.query<{ found: string | null }>(
    `SELECT to_regclass('metric_chunk_pieces')::text AS found`,
  );
  await client.query(SCHEMA);
  await fillSpans(client);
  if (rows[0]?.found === null) await openChunksToPieces(client);
}

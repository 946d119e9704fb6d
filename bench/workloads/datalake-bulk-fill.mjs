/**
 * The lake filled to a million assets without the HTTP path (which makes ~350 assets/s, so a
 * million would take most of an hour): filler asset records written straight into the
 * metadata store through its adapter (`insert`, 10,000 per transaction, field indexes kept
 * as the server keeps them; SQLite or PostgreSQL), while the server is stopped. Each record is a copy of one that
 * `POST /assets/upload` made (the template), with its own content hash, id, name, tags and
 * time. Their bytes are not stored: the tag query reads records only.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fillerTags } from './datalake-fill.mjs';

const distModule = (path) =>
  pathToFileURL(new URL(`../../packages/server/dist/${path}`, import.meta.url).pathname).href;
const BATCH = 10_000;

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/** The record of filler `index`, shaped as `template` (an asset the upload route made). */
function fillerRecord(template, index, groups, startMs) {
  const hash = sha256(`filler asset ${index}\n`);
  const filename = `asset-${index}.txt`;
  const time = new Date(startMs + index).toISOString();
  return {
    ...template,
    // As the server derives it for a caller without an account (`--no-auth`).
    _id: `p${sha256(`local:${hash}`).slice(0, 31)}`,
    sha256: hash,
    filename,
    filenames: [filename],
    tags: fillerTags(index, groups),
    createdAt: time,
    updatedAt: time,
  };
}

/** The metadata store the server of `dataDir` uses: its SQLite file, or PostgreSQL at `postgresUrl`. */
async function openStore(dataDir, postgresUrl) {
  if (postgresUrl) {
    const { PostgresDocumentStore } = await import(distModule('stores/postgres/postgres-document-store.js'));
    return new PostgresDocumentStore({ connectionString: postgresUrl });
  }
  const { SqliteDocumentStore } = await import(distModule('index.js'));
  // Random ids land all over the tables: with them in memory the fill is not bound by page reads.
  return new SqliteDocumentStore({ file: join(dataDir, 'larder.db'), readers: 0, cacheMiB: 2048 });
}

/**
 * Writes fillers `from` to `to - 1` into the metadata store of the server of `dataDir` (the
 * server stopped). On PostgreSQL the tables are vacuumed and analyzed afterwards, as autovacuum would
 * soon after so many rows. Answers the seconds it took.
 */
export async function bulkFillAssets({ dataDir, postgresUrl, template, from, to, groups, log }) {
  const store = await openStore(dataDir, postgresUrl);
  await store.open();
  const started = performance.now();
  const startMs = Date.parse(template.createdAt);
  try {
    for (let start = from; start < to; start += BATCH) {
      const batch = [];
      for (let index = start; index < Math.min(to, start + BATCH); index += 1) {
        batch.push(fillerRecord(template, index, groups, startMs));
      }
      await store.insert('assets', batch);
      if ((start - from) % 100_000 < BATCH) log(`datalake: ${start - from + batch.length} of ${to - from} written`);
    }
  } finally {
    await store.close();
  }
  if (postgresUrl) {
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    // One statement each: several in one query run as one transaction, where VACUUM cannot.
    try {
      await client.query('VACUUM (ANALYZE) documents');
      await client.query('VACUUM (ANALYZE) field_postings');
    } finally {
      await client.end();
    }
  }
  return (performance.now() - started) / 1000;
}

/**
 * The document workloads on Larder with its metadata in PostgreSQL (`larder serve --db`):
 * a scratch database is created from BENCH_POSTGRES_URL and dropped afterwards.
 */
import { join } from 'node:path';
import pg from 'pg';
import { createHttpClient } from '../measure/http-client.mjs';
import { round } from '../measure/percentiles.mjs';
import { startLarder } from '../servers/larder-server.mjs';
import { runDocumentSuite } from '../workloads/document-suite.mjs';

async function adminQuery(url, sql) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** @returns {Promise<object>} figures of Larder on PostgreSQL */
export async function benchLarderOnPostgres(tempRoot, suite, baseUrl, log) {
  const name = `larder_bench_${Date.now()}`;
  await adminQuery(baseUrl, `CREATE DATABASE ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  let server;
  let client;
  try {
    log('Larder on PostgreSQL: starting');
    server = await startLarder(join(tempRoot, 'larder-pg-data'), ['--db', url.toString()]);
    client = createHttpClient(server.url);
    const documents = await runDocumentSuite(client, suite, (line) => log(`Larder on PostgreSQL: ${line}`));
    return { available: true, startMs: round(server.startMs), documents };
  } finally {
    client?.close();
    await server?.stop();
    await adminQuery(baseUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

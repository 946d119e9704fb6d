/**
 * The peer's part of the run: install on demand, start, the same document workloads, a
 * restart over its data. Any failure is recorded as the reason it was not measured, so
 * Larder's figures are reported regardless.
 */
import { join } from 'node:path';
import { createHttpClient } from '../measure/http-client.mjs';
import { round } from '../measure/percentiles.mjs';
import { ensureMarcelleInstalled, MARCELLE_VERSION, startMarcelle } from '../peers/marcelle.mjs';
import { runDocumentSuite } from '../workloads/document-suite.mjs';
import { restartFigures } from './restart-figures.mjs';

/** What a reader of the figures should know about how the peer was run and answered. */
function notesOn(documents) {
  const notes = [
    'Started with NODE_ENV=production (no feathers-debugger service) through bench/peers/marcelle-launcher.cjs, ' +
      "which runs the package's own app as its bin does but binds 127.0.0.1.",
    'Its express.json() keeps the default 100 kB body limit; the dataset is shaped so a batch of 1,000 fits under it.',
  ];
  const { correct, count } = documents.findScoreThreshold;
  if (correct < count) {
    notes.push(
      `findScoreThreshold: ${correct}/${count} answers correct. Over REST, Feathers 4 hands query-string values ` +
        'to NeDB as strings, so score[$gt]=<number> compares a number with a string and matches nothing; ' +
        'findNameThreshold is the same query shape with a string threshold, which both servers answer correctly.',
    );
  }
  return notes;
}

/** @returns {Promise<object>} `{ available: true, ... }` or `{ available: false, reason }` */
export async function benchMarcelle(tempRoot, suite, log) {
  const install = ensureMarcelleInstalled();
  if (!install.ok) return { available: false, reason: install.reason };
  const dataDir = join(tempRoot, 'marcelle-data');
  let server;
  let client;
  try {
    log('Marcelle: starting');
    server = await startMarcelle(dataDir);
    const result = { available: true, version: MARCELLE_VERSION, store: 'nedb', startMs: round(server.startMs) };
    client = createHttpClient(server.url);
    result.documents = await runDocumentSuite(client, suite, (line) => log(`Marcelle: ${line}`));
    result.notes = notesOn(result.documents);
    client.close();
    await server.stop();
    log('Marcelle: restarting over the data');
    // NeDB loads a collection's file when the service is first used, not at start.
    let figures;
    ({ server, client, figures } = await restartFigures(() => startMarcelle(dataDir)));
    return { ...result, ...figures };
  } catch (error) {
    return { available: false, reason: `Marcelle backend failed: ${error instanceof Error ? error.message : error}` };
  } finally {
    client?.close();
    await server?.stop();
  }
}

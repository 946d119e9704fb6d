/**
 * Write throughput: batched creates (arrays of documents in one POST), then single-document
 * POSTs one at a time and with several in flight. Bodies are serialised before the clock
 * starts and responses parsed after it stops, so the figures are the server's.
 */
import { performance } from 'node:perf_hooks';
import { jsonBody } from '../measure/http-client.mjs';
import { round } from '../measure/percentiles.mjs';
import { inBatches } from './document-dataset.mjs';

function throughput(documents, ms) {
  return { documents, seconds: round(ms / 1000, 3), docsPerSec: round(documents / (ms / 1000), 0) };
}

/**
 * POSTs `documents` to `/<service>` in batches, one batch in flight.
 * @returns {Promise<{ result: object, ids: string[] }>} ids in document order, for get-by-id
 */
export async function batchedCreate(client, service, documents, batchSize) {
  const bodies = inBatches(documents, batchSize).map(jsonBody);
  const answers = [];
  const started = performance.now();
  for (const body of bodies) answers.push((await client.expect(201, 'POST', `/${service}`, body)).text);
  const ms = performance.now() - started;
  const ids = answers.flatMap((text) => JSON.parse(text).map((record) => record._id));
  if (ids.length !== documents.length) throw new Error(`Created ${ids.length} of ${documents.length} documents`);
  const largestBatchBytes = Math.max(...bodies.map((body) => body.byteLength));
  return { result: { ...throughput(documents.length, ms), batchSize, largestBatchBytes }, ids };
}

/** POSTs one document per request with `concurrency` requests in flight. */
export async function singleCreate(client, service, documents, concurrency = 1) {
  const bodies = documents.map(jsonBody);
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++];
      await client.expect(201, 'POST', `/${service}`, body);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ...throughput(documents.length, performance.now() - started), concurrency };
}

/**
 * The document workloads, in the order every server runs them: batched create of the
 * dataset, single creates (into a second service, so the finds still see exactly the
 * dataset), then the read queries over the dataset.
 */
import { batchedCreate, singleCreate } from './create-workloads.mjs';
import { makeDocuments } from './document-dataset.mjs';
import { runQueryWorkloads } from './query-workloads.mjs';

/**
 * @param {{ documents: number, batchSize: number, singleCreates: number, concurrency: number, queries: number }} config
 */
export function prepareDocumentSuite(config) {
  const dataset = makeDocuments(config.documents, 1);
  const singles = makeDocuments(config.singleCreates, 2);
  return { config, dataset, singles };
}

/** @param {ReturnType<typeof prepareDocumentSuite>} suite */
export async function runDocumentSuite(client, suite, log) {
  const { config, dataset, singles } = suite;
  log(`batched create: ${dataset.length} documents in batches of ${config.batchSize}`);
  const batched = await batchedCreate(client, 'bench', dataset, config.batchSize);
  log(`single create: ${singles.length} sequential, then ${singles.length} with ${config.concurrency} in flight`);
  const single = await singleCreate(client, 'bench_single', singles, 1);
  const concurrent = await singleCreate(client, 'bench_single', singles, config.concurrency);
  log(`queries: ${config.queries} of each kind`);
  const queries = await runQueryWorkloads(client, 'bench', dataset, batched.ids, config.queries);
  return {
    batchedCreate: batched.result,
    singleCreate: single,
    singleCreateConcurrent: concurrent,
    ...queries,
  };
}

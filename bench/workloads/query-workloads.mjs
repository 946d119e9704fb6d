/**
 * Read latency: every query kind is warmed up, then timed one request at a time; each
 * answer is checked against the dataset after the clock stops.
 */
import { summarizeLatencies } from '../measure/percentiles.mjs';
import { planQueries, queryKinds } from './query-plans.mjs';

const WARMUP = 20;

async function timePlans(client, plans) {
  const latencies = [];
  const answers = [];
  for (const plan of plans) {
    const answer = await client.send('GET', plan.path);
    latencies.push(answer.ms);
    answers.push(answer);
  }
  let correct = 0;
  let firstWrong;
  answers.forEach((answer, i) => {
    const plan = plans[i];
    const ok = answer.status === 200 && plan.check(JSON.parse(answer.text));
    if (ok) correct++;
    else firstWrong ??= { path: plan.path, status: answer.status, answer: answer.text.slice(0, 200) };
  });
  return { ...summarizeLatencies(latencies), correct, ...(firstWrong ? { firstWrong } : {}) };
}

/**
 * @param {ReturnType<import('../measure/http-client.mjs').createHttpClient>} client
 * @param {string[]} ids created ids in document order
 * @returns {Promise<Record<string, object>>} latency summary per query kind
 */
export async function runQueryWorkloads(client, service, documents, ids, queries) {
  const kinds = Object.entries(queryKinds(documents, service));
  for (const [, build] of kinds) await timePlans(client, planQueries(build, WARMUP, 999, ids));
  const results = {};
  for (const [index, [name, build]] of kinds.entries()) {
    results[name] = await timePlans(client, planQueries(build, queries, 100 + index, ids));
  }
  return results;
}

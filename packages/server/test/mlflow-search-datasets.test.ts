/**
 * MLflow's `experiments/search-datasets` on the wire: the distinct datasets (with their
 * `mlflow.data.context`) of the caller's runs, MLflow's refusals, and another user's
 * experiment adding nothing, as an experiment that does not exist.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_STORES, type TestServer } from './support/test-server.js';

const API = '/ajax-api/2.0/mlflow';

describe.each(TEST_STORES)('MLflow search-datasets (%s)', (store) => {
  let server: TestServer;
  let ada: { token: string };
  let bob: { token: string };
  let experimentId: string;
  const post = (path: string, token: string, body: unknown) => server.request('POST', `${API}${path}`, { token, body });
  const dataset = (name: string, digest: string, context?: string) => ({
    dataset: { name, digest, source_type: 'local', source: '/data' },
    tags: context ? [{ key: 'mlflow.data.context', value: context }] : [],
  });

  beforeAll(async () => {
    server = await startTestServer({ store, gcIntervalMs: 0 });
    ada = await server.createUser('ada@example.com');
    bob = await server.createUser('bob@example.com');
    experimentId = (await post('/experiments/create', ada.token, { name: 'data' })).body.experiment_id;
    for (const datasets of [
      [dataset('mnist', 'd1', 'training'), dataset('mnist', 'd2', 'eval')],
      [dataset('mnist', 'd1', 'training'), dataset('cifar', 'c1')],
    ]) {
      const run = (await post('/runs/create', ada.token, { experiment_id: experimentId })).body.run.info.run_id;
      expect((await post('/runs/log-inputs', ada.token, { run_id: run, datasets })).status).toBe(200);
    }
    await post('/runs/create', ada.token, { experiment_id: experimentId });
  });
  afterAll(() => server?.close());

  it("answers each dataset and context the experiment's runs used, once", async () => {
    const answer = await post('/experiments/search-datasets', ada.token, { experiment_ids: [experimentId] });
    expect(answer.status).toBe(200);
    const key = (summary: Record<string, string>) => `${summary.name}@${summary.digest}:${summary.context ?? ''}`;
    expect(answer.body.dataset_summaries.map(key).sort()).toEqual(['cifar@c1:', 'mnist@d1:training', 'mnist@d2:eval']);
    expect(
      answer.body.dataset_summaries.every(
        (summary: { experiment_id: string }) => summary.experiment_id === experimentId,
      ),
    ).toBe(true);
  });

  it("refuses in MLflow's words and shows another user nothing", async () => {
    for (const body of [{}, { experiment_ids: [] }]) {
      const answer = await post('/experiments/search-datasets', ada.token, body);
      expect(answer.status).toBe(400);
      expect(answer.body.message).toBe('SearchDatasets request must specify at least one experiment_id.');
    }
    const many = await post('/experiments/search-datasets', ada.token, {
      experiment_ids: Array.from({ length: 21 }, (_, index) => `e${index}`),
    });
    expect(many.body.message).toMatch(/^SearchDatasets request cannot specify more than 20 experiment_ids/);
    const intruder = await post('/experiments/search-datasets', bob.token, { experiment_ids: [experimentId] });
    const nowhere = await post('/experiments/search-datasets', bob.token, { experiment_ids: ['no-such-experiment'] });
    expect(intruder.status).toBe(200);
    expect(intruder.body).toEqual({ dataset_summaries: [] });
    expect(nowhere.body).toEqual(intruder.body);
  });
});

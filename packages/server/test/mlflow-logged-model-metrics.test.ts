/**
 * MLflow 3's metrics on logged models, on the wire: `log_metric` / `log_batch` with a
 * `model_id` keep the model's latest point per key, dataset and run as its `data.metrics`,
 * a logged-model search filters on the datasets measured, and a user who cannot write the
 * model is refused before anything is stored, as for a model that does not exist.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_STORES, type TestServer } from './support/test-server.js';

const API = '/api/2.0/mlflow';

describe.each(TEST_STORES)('metrics of MLflow logged models (%s)', (store) => {
  let server: TestServer;
  let ada: { token: string };
  let bob: { token: string };
  let experimentId: string;
  let runId: string;
  let modelId: string;
  const post = (path: string, token: string, body: unknown) => server.request('POST', `${API}${path}`, { token, body });

  beforeAll(async () => {
    server = await startTestServer({ store, gcIntervalMs: 0 });
    ada = await server.createUser('ada@example.com');
    bob = await server.createUser('bob@example.com');
    experimentId = (await post('/experiments/create', ada.token, { name: 'models' })).body.experiment_id;
    runId = (await post('/runs/create', ada.token, { experiment_id: experimentId })).body.run.info.run_id;
    modelId = (await post('/logged-models', ada.token, { experiment_id: experimentId })).body.model.info.model_id;
  });
  afterAll(() => server?.close());

  const modelMetrics = async () =>
    (await server.request('GET', `${API}/logged-models/${modelId}`, { token: ada.token })).body.model.data.metrics;

  it('keeps the latest point of each key and dataset on the model, with its run', async () => {
    const point = {
      run_id: runId,
      key: 'acc',
      timestamp: 1000,
      model_id: modelId,
      dataset_name: 'val',
      dataset_digest: 'd1',
    };
    expect((await post('/runs/log-metric', ada.token, { ...point, value: 0.5, step: 1 })).status).toBe(200);
    const batch = await post('/runs/log-batch', ada.token, {
      run_id: runId,
      metrics: [
        { ...point, value: 0.1, step: 0 },
        { ...point, value: 0.7, step: 2 },
        { ...point, dataset_name: 'test', value: 0.6, step: 2 },
        { key: 'loss', value: 3, timestamp: 1000, step: 0 },
      ],
    });
    expect(batch.status).toBe(200);
    const metrics = await modelMetrics();
    expect(metrics).toHaveLength(2);
    expect(metrics).toEqual(
      expect.arrayContaining([
        {
          key: 'acc',
          value: 0.7,
          timestamp: 1000,
          step: 2,
          run_id: runId,
          model_id: modelId,
          dataset_name: 'val',
          dataset_digest: 'd1',
        },
        {
          key: 'acc',
          value: 0.6,
          timestamp: 1000,
          step: 2,
          run_id: runId,
          model_id: modelId,
          dataset_name: 'test',
          dataset_digest: 'd1',
        },
      ]),
    );
    // The run has every point, the model's metrics are on top of them.
    const history = await server.request('GET', `${API}/metrics/get-history?run_id=${runId}&metric_key=acc`, {
      token: ada.token,
    });
    expect(history.body.metrics).toHaveLength(4);
  });

  it('finds models by the datasets their metrics were measured on', async () => {
    const other = (await post('/logged-models', ada.token, { experiment_id: experimentId })).body.model.info.model_id;
    const search = async (datasets: unknown) =>
      (await post('/logged-models/search', ada.token, { experiment_ids: [experimentId], datasets })).body.models.map(
        (model: { info: { model_id: string } }) => model.info.model_id,
      );
    expect(await search([{ dataset_name: 'val', dataset_digest: 'd1' }])).toEqual([modelId]);
    expect(await search([{ dataset_name: 'test' }])).toEqual([modelId]);
    expect(await search([{ dataset_name: 'val', dataset_digest: 'other' }])).toEqual([]);
    expect((await search(undefined)).sort()).toEqual([modelId, other].sort());
    const bad = await post('/logged-models/search', ada.token, { experiment_ids: [experimentId], datasets: 'val' });
    expect(bad.status).toBe(400);
  });

  it("refuses points on another user's model before storing any, as for a missing model", async () => {
    const bobExperiment = (await post('/experiments/create', bob.token, { name: 'bobs' })).body.experiment_id;
    const bobRun = (await post('/runs/create', bob.token, { experiment_id: bobExperiment })).body.run.info.run_id;
    const before = await modelMetrics();
    const metric = { run_id: bobRun, key: 'acc', value: 1, timestamp: 5, step: 99 };
    const intruding = await post('/runs/log-metric', bob.token, { ...metric, model_id: modelId });
    const missing = await post('/runs/log-metric', bob.token, { ...metric, model_id: `m-${'0'.repeat(32)}` });
    expect(intruding.status).toBe(404);
    expect(intruding.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(missing.status).toBe(intruding.status);
    expect(await modelMetrics()).toEqual(before);
    const bobHistory = await server.request('GET', `${API}/metrics/get-history?run_id=${bobRun}&metric_key=acc`, {
      token: bob.token,
    });
    expect(bobHistory.body.metrics).toEqual([]);
  });
});

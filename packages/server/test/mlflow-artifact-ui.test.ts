/**
 * The artifact endpoints of MLflow's web UI on the wire (no Python needed): upload-artifact,
 * get-artifact (also at the server root, as the UI calls it), artifacts/list, a registered
 * version's and a logged model's files; MLflow's "Invalid path" for unsafe paths, its 10 MB
 * limit, and another user who can neither read, list, write nor detect any of it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_STORES, type TestServer } from './support/test-server.js';

const API = '/ajax-api/2.0/mlflow';

describe.each(TEST_STORES)("MLflow's UI artifact endpoints (%s)", (store) => {
  let server: TestServer;
  let ada: { token: string };
  let bob: { token: string };
  let runId: string;
  let experimentId: string;
  const call = (method: string, path: string, token: string | undefined, raw?: string) =>
    server.request(method, path, { token, ...(raw === undefined ? {} : { raw }) });

  beforeAll(async () => {
    server = await startTestServer({ store, gcIntervalMs: 0 });
    ada = await server.createUser('ada@example.com');
    bob = await server.createUser('bob@example.com');
    const experiment = await server.request('POST', `${API}/experiments/create`, {
      token: ada.token,
      body: { name: 'ui-artifacts' },
    });
    experimentId = experiment.body.experiment_id;
    const run = await server.request('POST', `${API}/runs/create`, {
      token: ada.token,
      body: { experiment_id: experimentId, start_time: Date.now() },
    });
    runId = run.body.run.info.run_id;
  });
  afterAll(() => server?.close());

  it('uploads a file, lists it relative to the run and gives it back as an attachment', async () => {
    const up = await call('POST', `${API}/upload-artifact?run_uuid=${runId}&path=plots/loss.txt`, ada.token, 'hello');
    expect(up.status).toBe(200);
    const root = await call('GET', `/api/2.0/mlflow/artifacts/list?run_id=${runId}`, ada.token);
    expect(root.body).toEqual({
      root_uri: `mlflow-artifacts:/${experimentId}/${runId}/artifacts`,
      files: [{ path: 'plots', is_dir: true }],
    });
    const inner = await call('GET', `/api/2.0/mlflow/artifacts/list?run_id=${runId}&path=plots`, ada.token);
    expect(inner.body.files).toEqual([{ path: 'plots/loss.txt', is_dir: false, file_size: 5 }]);
    for (const path of [`/get-artifact`, `//get-artifact`, `${API}/get-artifact`]) {
      const got = await call('GET', `${path}?run_uuid=${runId}&path=plots/loss.txt`, ada.token);
      expect(got.status, path).toBe(200);
      expect(got.body).toBe('hello');
      expect(got.headers.get('content-disposition')).toBe('attachment; filename=loss.txt');
    }
    // The proxy sees the same file.
    const proxied = await call(
      'GET',
      `/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/plots/loss.txt`,
      ada.token,
    );
    expect(proxied.body).toBe('hello');
  });

  it("answers MLflow's refusals: missing fields, unsafe paths, empty and oversized bodies", async () => {
    const refusal = async (method: string, path: string, message: string, raw?: string) => {
      const answer = await call(method, path, ada.token, raw);
      expect(answer.status, path).toBe(400);
      expect(answer.body.error_code, path).toBe('INVALID_PARAMETER_VALUE');
      expect(answer.body.message, path).toContain(message);
    };
    await refusal('POST', `${API}/upload-artifact`, 'Request must specify run_uuid.');
    await refusal('POST', `${API}/upload-artifact?run_uuid=${runId}&path=`, 'Request must specify path.');
    await refusal('POST', `${API}/upload-artifact?run_uuid=${runId}&path=..%2Fx`, 'Invalid path', 'x');
    await refusal('POST', `${API}/upload-artifact?run_uuid=${runId}&path=a.txt`, 'Request must specify data.');
    await refusal(
      'POST',
      `${API}/upload-artifact?run_uuid=${runId}&path=big.bin`,
      'Max size is 10MB',
      'x'.repeat(10 * 1024 * 1024 + 1),
    );
    for (const path of ['../x', '/etc/passwd', 'a\\b', 'a#b']) {
      const query = `run_id=${runId}&path=${encodeURIComponent(path)}`;
      const answer = await call('GET', `/get-artifact?${query}`, ada.token);
      expect(answer.body, path).toEqual({ error_code: 'INVALID_PARAMETER_VALUE', message: 'Invalid path' });
      const listing = await call('GET', `/api/2.0/mlflow/artifacts/list?${query}`, ada.token);
      expect(listing.status, path).toBe(400);
    }
    const nothingStored = await call('GET', `/api/2.0/mlflow/artifacts/list?run_id=${runId}`, ada.token);
    expect(nothingStored.body.files).toEqual([{ path: 'plots', is_dir: true }]);
  });

  it("hides another user's run: reading, listing and writing answer as for a run that does not exist", async () => {
    const missing = await call('GET', `/get-artifact?run_id=r-${'0'.repeat(20)}&path=plots/loss.txt`, bob.token);
    for (const [method, path, raw] of [
      ['GET', `/get-artifact?run_id=${runId}&path=plots/loss.txt`, undefined],
      ['GET', `/api/2.0/mlflow/artifacts/list?run_id=${runId}`, undefined],
      ['POST', `${API}/upload-artifact?run_uuid=${runId}&path=evil.txt`, 'evil'],
    ] as const) {
      const answer = await call(method, path, bob.token, raw);
      expect(answer.status, path).toBe(404);
      expect(answer.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
      expect(answer.status).toBe(missing.status);
    }
    const anonymous = await call('GET', `/get-artifact?run_id=${runId}&path=plots/loss.txt`, undefined);
    expect(anonymous.status).toBe(401);
    const files = await call('GET', `/api/2.0/mlflow/artifacts/list?run_id=${runId}`, ada.token);
    expect(files.body.files.map((file: { path: string }) => file.path)).toEqual(['plots']);
  });

  it("serves a registered version's files and a logged model's files to their readers only", async () => {
    await call('POST', `${API}/upload-artifact?run_uuid=${runId}&path=model/MLmodel`, ada.token, 'flavors: {}\n');
    await server.request('POST', `${API}/registered-models/create`, { token: ada.token, body: { name: 'ui-model' } });
    const version = await server.request('POST', `${API}/model-versions/create`, {
      token: ada.token,
      body: { name: 'ui-model', source: `runs:/${runId}/model`, run_id: runId },
    });
    expect(version.status).toBe(200);
    const file = '/model-versions/get-artifact?name=ui-model&version=1&path=MLmodel';
    const got = await call('GET', file, ada.token);
    expect(got.status).toBe(200);
    expect(got.body).toBe('flavors: {}\n');
    expect((await call('GET', file, bob.token)).status).toBe(404);
    const unsafe = await call('GET', '/model-versions/get-artifact?name=ui-model&version=1&path=../x', ada.token);
    expect(unsafe.body).toEqual({ error_code: 'INVALID_PARAMETER_VALUE', message: 'Invalid path' });

    const model = await server.request('POST', `${API}/logged-models`, {
      token: ada.token,
      body: { experiment_id: experimentId, name: 'm' },
    });
    const modelId = model.body.model.info.model_id;
    const location = `${experimentId}/models/${modelId}/artifacts/MLmodel`;
    const put = await server.request('PUT', `/api/2.0/mlflow-artifacts/artifacts/${location}`, {
      token: ada.token,
      raw: `model_id: ${modelId}\n`,
    });
    expect(put.status).toBe(200);
    const files = `${API}/logged-models/${modelId}/artifacts/files?artifact_file_path=MLmodel`;
    const own = await call('GET', files, ada.token);
    expect(own.status).toBe(200);
    expect(own.body).toContain(modelId);
    expect((await call('GET', files, bob.token)).status).toBe(404);
    const noPath = await call('GET', `${API}/logged-models/${modelId}/artifacts/files`, ada.token);
    expect(noPath.status).toBe(400);
  });
});

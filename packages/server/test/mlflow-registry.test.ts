/**
 * MLflow's model registry and logged models against a real server, with MLflow's own Python
 * client (the newest 3.x and a 2.x, from `LARDER_TEST_MLFLOW_PYTHON` and
 * `LARDER_TEST_MLFLOW2_PYTHON`): scikit-learn autolog logs a model that pyfunc loads and
 * predicts the same with, it is registered, an alias moves and `models:/name@alias` loads;
 * searches, tags, stages, renames and deletes; MLflow 3 logged models; another user sees
 * none of it. What MLflow registers is a Larder registry model, readable through `/models`.
 */

import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableMlflowClients, runMlflowScenario } from './support/mlflow-python.js';
import { startTestServer, TEST_STORES, type TestServer } from './support/test-server.js';

const SCENARIO = resolve(import.meta.dirname, 'mlflow/registry_scenario.py');
const OTHER_USER = resolve(import.meta.dirname, 'mlflow/registry_other_user.py');
describe.each(
  availableMlflowClients('mlflow-registry').flatMap((client) =>
    TEST_STORES.map((store) => [...client, store] as const),
  ),
)("MLflow's model registry with the %s client on %s", (label, python, store) => {
  const name = 'iris-classifier';
  const mlflow3 = label === '3.x';
  let server: TestServer;
  let ada: { id: string; token: string };
  let bob: { id: string; token: string };
  let result: Record<string, any>;
  let other: Record<string, any>;

  beforeAll(async () => {
    server = await startTestServer({ store, gcIntervalMs: 0 });
    ada = await server.createUser('ada@example.com');
    bob = await server.createUser('bob@example.com');
    const env = (token: string) => ({ MLFLOW_TRACKING_URI: server.url, MLFLOW_TRACKING_TOKEN: token });
    result = await runMlflowScenario(python, SCENARIO, [name], env(ada.token), 'REGISTRY-RESULT');
    other = await runMlflowScenario(
      python,
      OTHER_USER,
      [name, result.run_id, ...(result.lm_id ? [result.lm_id] : [])],
      env(bob.token),
      'REGISTRY-OTHER-RESULT',
    );
  }, 400_000);
  afterAll(async () => {
    await server?.close();
  });

  it('logs the autologged model so that pyfunc loads it and predicts the same', () => {
    expect(result.pyfunc_same).toBe(true);
    if (mlflow3) {
      expect(result.logged_model_status).toContain('READY');
      expect(result.logged_model_source_run).toBe(true);
    }
  });

  it('registers versions that load by number and by alias, with the alias moved', () => {
    expect(result.registered_versions).toEqual(['1', '2']);
    if (mlflow3) {
      // Both the server and MLflow's register_model append to the tag, as with MLflow's own server.
      expect(result.logged_model_versions).toContainEqual({ name, version: 1 });
      expect(result.logged_model_versions).toContainEqual({ name, version: 2 });
    }
    expect(result.version_status).toBe('READY');
    expect(result.version_run).toBe(true);
    expect(result.alias_load_same).toBe(true);
    expect(result.version_load_same).toBe(true);
    expect(result.alias_moved_to).toBe('2');
    expect(result.model_aliases).toEqual({ champion: '2' });
    expect(result.download_uri).toMatch(/^mlflow-artifacts:\/model-versions\/[^/]+\/artifacts$/);
  });

  it('keeps tags and descriptions on models and versions', () => {
    expect(result.model_tags).toEqual({ team: 'vision' });
    expect(result.model_description).toBe('iris classifier');
    expect(result.version_tags).toEqual({ validated: 'yes' });
    expect(result.version_description).toBe('first one');
  });

  it('searches registered models and versions with filter strings and pages', () => {
    expect(result.search_like).toEqual([name]);
    expect(result.search_tag).toEqual([name]);
    expect(result.search_none).toEqual([]);
    expect(result.search_versions).toEqual(['1', '2']);
    expect(result.search_versions_by_run).toBe(2);
    expect(result.search_versions_by_tag).toEqual(['1']);
    expect(result.all_models, 'every model ada may read').toEqual([name]);
    expect(result.paged).toEqual([[`${name}-b`], true, [name], false]);
  });

  it('moves stages, archiving the others, and answers the latest per stage', () => {
    expect(result.stages).toEqual(['Archived', 'Staging']);
    expect(result.latest_staging).toEqual(['2']);
  });

  it("answers MLflow's error codes", () => {
    expect(result.bad_stage).toBe('INVALID_PARAMETER_VALUE');
    expect(result.missing_model).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(result.missing_version).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(result.create_twice).toBe('RESOURCE_ALREADY_EXISTS');
  });

  it('renames models with their versions, removes aliases and versions', () => {
    expect(result.renamed_versions).toEqual(['1', '2']);
    expect(result.alias_after_delete).toEqual({});
    expect(result.after_version_delete).toEqual(['2']);
  });

  it.runIf(mlflow3)('creates, tags, finalizes, searches and deletes logged models', () => {
    expect(result.lm_pending).toContain('PENDING');
    expect(result.lm_fetched.name).toBe('hand-made');
    expect(result.lm_fetched.status).toContain('READY');
    expect(result.lm_fetched.tags).toEqual({ kind: 'manual-2' });
    expect(result.lm_fetched.params).toEqual({ alpha: '0.5', beta: '2' });
    expect(result.lm_fetched.artifact_location).toMatch(
      new RegExp(`^mlflow-artifacts:/${result.experiment_id}/models/m-[0-9a-f]{32}/artifacts$`),
    );
    expect(result.lm_search).toEqual([true]);
    expect(result.lm_deleted).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('is a Larder registry model with its versions, visible through /models', async () => {
    const models = await server.request('GET', `/models?name=${name}`, { token: ada.token });
    expect(models.status).toBe(200);
    const [model] = models.body.data;
    expect(model.aliases).toEqual({ latest: 2 });
    const versions = await server.request('GET', `/model-versions?modelId=${model._id}`, { token: ada.token });
    expect(versions.body.data).toHaveLength(1);
    const [version] = versions.body.data;
    expect(version.format).toBe('mlflow');
    expect(version.mlflow.stage).toBe('Staging');
    expect(version.files.map((file: { path: string }) => file.path)).toContain('MLmodel');
    expect(version.producedBy).toEqual([result.run_id]);
    const mlmodel = await server.request('GET', `/model-files/${version._id}/MLmodel`, { token: ada.token });
    expect(mlmodel.status).toBe(200);
    expect(String(mlmodel.body)).toContain('sklearn');
  });

  it('shows another user none of it, and keeps their names apart', () => {
    expect(other.get_model).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(other.get_version).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(other.alias).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(other.search).toEqual([]);
    expect(other.search_versions).toBe(0);
    expect(other.download_run).toMatch(/RESOURCE_DOES_NOT_EXIST|404/);
    if (mlflow3) {
      expect(other.get_logged_model).toBe('RESOURCE_DOES_NOT_EXIST');
      expect(other.load_logged_model).toMatch(/RESOURCE_DOES_NOT_EXIST|404/);
    }
    expect(other.own_model).toBe(name);
    expect(other.register_their_run).toBeNull();
    expect(other.own_versions).toBe(1);
  });

  it('copies no bytes into a version whose source the registering user cannot read', async () => {
    const [model] = (await server.request('GET', `/models?name=${name}`, { token: bob.token })).body.data;
    expect(model.userId).toBe(bob.id);
    const [version] = (await server.request('GET', `/model-versions?modelId=${model._id}`, { token: bob.token })).body
      .data;
    expect(version.files).toEqual([]);
    expect(version.producedBy).toEqual([]);
    expect(version.mlflow.source).toBe(`runs:/${result.run_id}/model`);
  });
});

describe('the registry and logged models on the wire', () => {
  let server: TestServer;
  let ada: { id: string; token: string };
  let bob: { id: string; token: string };
  const api = (path: string) => `/api/2.0/mlflow${path}`;

  beforeAll(async () => {
    server = await startTestServer({ gcIntervalMs: 0 });
    ada = await server.createUser('ada@example.com');
    bob = await server.createUser('bob@example.com');
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers bad input with 4xx and an MLflow error code, never a 5xx', async () => {
    const created = await server.request('POST', api('/registered-models/create'), {
      token: ada.token,
      body: { name: 'wire-model' },
    });
    expect(created.status).toBe(200);
    const cases: [string, string, unknown][] = [
      ['POST', '/registered-models/create', { name: 42 }],
      ['POST', '/registered-models/create', { name: 'has/slash' }],
      ['POST', '/registered-models/create', { name: 'trailing space ' }],
      ['POST', '/registered-models/create', { name: 'x', tags: 'not-a-list' }],
      ['POST', '/registered-models/create', {}],
      ['GET', '/registered-models/search?max_results=abc', undefined],
      ['GET', '/registered-models/search?max_results=5000', undefined],
      ['GET', '/registered-models/search?page_token=%25%25', undefined],
      ['GET', '/registered-models/search?order_by=colour%20ASC', undefined],
      ['GET', "/registered-models/search?filter=name%20~%20'x'", undefined],
      ['GET', "/registered-models/search?filter=owner%20%3D%20'x'", undefined],
      ['GET', '/model-versions/get?name=wire-model&version=abc', undefined],
      ['GET', '/model-versions/search?filter=name%20IN%20x', undefined],
      ['POST', '/model-versions/create', { name: 'wire-model', source: 'runs:/../../etc' }],
      ['POST', '/model-versions/create', { name: 'wire-model', source: 'mlflow-artifacts:/0/run/artifacts/a\u0000b' }],
      ['POST', '/model-versions/transition-stage', { name: 'wire-model', version: '1', stage: 'Staging' }],
      ['POST', '/registered-models/alias', { name: 'wire-model', alias: 'latest', version: '1' }],
      ['POST', '/logged-models', {}],
      ['POST', '/logged-models', { experiment_id: 'no-such-experiment' }],
      ['POST', '/logged-models/search', {}],
      ['GET', '/logged-models/%ZZ', undefined],
      ['PATCH', '/logged-models/m-0', { status: 'DONE' }],
    ];
    for (const [method, path, body] of cases) {
      const answer = await server.request(method, api(path), { token: ada.token, ...(body ? { body } : {}) });
      expect([400, 404], `${method} ${path}`).toContain(answer.status);
      expect(answer.body.error_code, `${method} ${path}`).toMatch(/^[A-Z_]+$/);
    }
    const twice = await server.request('POST', api('/registered-models/create'), {
      token: ada.token,
      body: { name: 'wire-model' },
    });
    expect(twice.body).toEqual({
      error_code: 'RESOURCE_ALREADY_EXISTS',
      message: 'Registered Model (name=wire-model) already exists.',
    });
  });

  it('records mlflow-artifacts sources outside its layout as given, and refuses relative references', async () => {
    const create = (source: string) =>
      server.request('POST', api('/model-versions/create'), { token: ada.token, body: { name: 'wire-model', source } });
    for (const source of ['mlflow-artifacts:/models', 'mlflow-artifacts://host:9000/models/artifact/..../']) {
      const answer = await create(source);
      expect(answer.status, source).toBe(200);
      expect(answer.body.model_version.source).toBe(source);
    }
    for (const source of [
      'mlflow-artifacts://host:9000/models/../../../',
      'http://host:9000/models/../../../',
      'mlflow-artifacts://host:9000/models/..%2f..%2fartifacts',
      'mlflow-artifacts://host:9000/models/artifact%00',
    ]) {
      const answer = await create(source);
      expect(answer.status, source).toBe(400);
      expect(answer.body.message).toContain('If supplying a source as an http, https,');
    }
  });

  it('keeps logged models to whoever may read their experiment, tag keys decoded from the path', async () => {
    const created = await server.request('POST', api('/logged-models'), {
      token: ada.token,
      body: { experiment_id: '0', name: 'wire', tags: [{ key: 'a/b', value: '1' }] },
    });
    expect(created.status).toBe(200);
    const { model_id: id, experiment_id: experimentId, status } = created.body.model.info;
    expect(id).toMatch(/^m-[0-9a-f]{32}$/);
    expect(experimentId).toBe('0');
    expect(status).toBe('LOGGED_MODEL_PENDING');
    const finalized = await server.request('PATCH', api(`/logged-models/${id}`), {
      token: ada.token,
      body: { model_id: id, status: 'LOGGED_MODEL_READY' },
    });
    expect(finalized.body.model.info.status).toBe('LOGGED_MODEL_READY');
    const untag = await server.request('DELETE', api(`/logged-models/${id}/tags/a%2Fb`), { token: ada.token });
    expect(untag.status).toBe(200);
    const fetched = await server.request('GET', api(`/logged-models/${id}`), { token: ada.token });
    expect(fetched.body.model.info.tags).toEqual([]);
    // Experiment 0 is each caller's own default folder: bob's 0 is not ada's.
    const hidden = await server.request('GET', api(`/logged-models/${id}`), { token: bob.token });
    expect(hidden.status).toBe(404);
    expect(hidden.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    const bobSearch = await server.request('POST', api('/logged-models/search'), {
      token: bob.token,
      body: { experiment_ids: ['0'] },
    });
    expect(bobSearch.body.models ?? []).toEqual([]);
    const adaSearch = await server.request('POST', api('/logged-models/search'), {
      token: ada.token,
      body: { experiment_ids: ['0'], filter: "name = 'wire'" },
    });
    expect(adaSearch.body.models.map((model: { info: { model_id: string } }) => model.info.model_id)).toEqual([id]);
  });

  it('refuses an MLflow-format version over Larder HTTP that names bytes its writer does not hold', async () => {
    const [model] = (await server.request('GET', '/models?name=wire-model', { token: ada.token })).body.data;
    const forged = await server.request('POST', '/model-versions', {
      token: ada.token,
      body: {
        format: 'mlflow',
        modelId: model._id,
        mlflow: { source: 's3://somewhere' },
        files: [{ path: 'MLmodel', sha256: 'a'.repeat(64), size: 10 }],
      },
    });
    expect(forged.status).toBe(400);
  });
});

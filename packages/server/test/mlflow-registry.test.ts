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
    expect(other.register_their_run).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(other.own_versions).toBe(0);
  });
});

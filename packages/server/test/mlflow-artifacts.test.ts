/**
 * MLflow's artifact proxy against a real server: MLflow's own Python client (the newest 3.x
 * and a 2.x, from `LARDER_TEST_MLFLOW_PYTHON` and `LARDER_TEST_MLFLOW2_PYTHON`) logs, lists,
 * downloads and deletes artifacts, with a multi-MB file through the proxied multipart upload;
 * the raw routes refuse bad paths with 400 and hide another user's artifacts (404).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableMlflowClients, runMlflowScenario } from './support/mlflow-python.js';
import { startTestServer, type TestServer } from './support/test-server.js';

const SCRIPT = resolve(import.meta.dirname, 'mlflow/artifacts_scenario.py');
describe.each(availableMlflowClients('mlflow-artifacts'))(
  "MLflow's artifact proxy with the %s client",
  (_label, python) => {
    let server: TestServer;
    let work: string;
    let ada: { id: string; token: string };
    let bob: { id: string; token: string };
    let result: Record<string, any>;

    beforeAll(async () => {
      server = await startTestServer({ gcIntervalMs: 0 });
      work = await mkdtemp(join(tmpdir(), 'larder-mlflow-artifacts-'));
      ada = await server.createUser('ada@example.com');
      bob = await server.createUser('bob@example.com');
      result = await runMlflowScenario(
        python,
        SCRIPT,
        [work],
        { MLFLOW_TRACKING_URI: server.url, MLFLOW_TRACKING_TOKEN: ada.token },
        'ARTIFACTS-RESULT',
      );
    }, 300_000);
    afterAll(async () => {
      await server?.close();
      if (work) await rm(work, { recursive: true, force: true });
    });

    it('gives runs the artifact location of an MLflow server with --serve-artifacts', () => {
      expect(result.artifact_uri).toBe(`mlflow-artifacts:/${result.experiment_id}/${result.run_id}/artifacts`);
    });

    it('lists what was logged, directories first-class, with sizes', () => {
      const paths = result.root.map((entry: [string, boolean, number | null]) => entry[0]);
      expect(paths).toEqual(['config.json', 'large', 'nested', 'notes', 'plots', 'small.txt']);
      expect(result.root).toContainEqual(['small.txt', false, 16]);
      expect(result.root).toContainEqual(['nested', true, null]);
      expect(result.nested).toEqual([
        ['nested/a.txt', false, 1],
        ['nested/sub', true, null],
      ]);
      expect(result.nested_sub).toEqual([['nested/sub/b.bin', false, 1024]]);
      expect(result.large).toEqual([['large/big.bin', false, 5 * 1024 * 1024 + 123]]);
    });

    it('downloads the same bytes, text, dicts and figures, the multipart file included', () => {
      expect(result.downloaded_tree_equal).toBe(true);
      expect(result.big_equal).toBe(true);
      expect(result.text).toBe('some other text');
      expect(result.dict).toEqual({ lr: 0.1, layers: [1, 2] });
      expect(result.png_magic).toBe('89504e470d0a1a0a');
    });

    it('deletes a directory of artifacts', () => {
      expect(result.after_delete.map((entry: [string]) => entry[0])).toEqual([
        'config.json',
        'large',
        'notes',
        'plots',
        'small.txt',
      ]);
    });

    it("hides a run's artifacts from other users, and lets no one write them", async () => {
      const root = `${result.experiment_id === '0' ? 'x' : result.experiment_id}/${result.run_id}/artifacts`;
      const list = await server.request('GET', `/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(root)}`, {
        token: bob.token,
      });
      expect(list.status).toBe(404);
      expect(list.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
      const get = await server.request('GET', `/api/2.0/mlflow-artifacts/artifacts/${root}/small.txt`, {
        token: bob.token,
      });
      expect(get.status).toBe(404);
      const put = await server.request('PUT', `/api/2.0/mlflow-artifacts/artifacts/${root}/evil.txt`, {
        token: bob.token,
        raw: 'evil',
      });
      expect(put.status).toBe(404);
      const anonymous = await server.request('GET', `/api/2.0/mlflow-artifacts/artifacts/${root}/small.txt`);
      expect(anonymous.status).toBe(401);
      const own = await server.request('GET', `/api/2.0/mlflow-artifacts/artifacts/${root}/small.txt`, {
        token: ada.token,
      });
      expect(own.status).toBe(200);
      expect(own.body).toBe('hello artifacts\n');
    });

    it('refuses bad paths with 400, never a 5xx', async () => {
      const base = `/api/2.0/mlflow-artifacts/artifacts/${result.experiment_id}/${result.run_id}/artifacts`;
      for (const path of [
        `${base}/%2e%2e/x`,
        `${base}/a/%2E%2E/%2E%2E/x`,
        `${base}/%E0%A4%A`,
        `${base}/a%5Cb`,
        `${base}/a%00b`,
      ]) {
        const answer = await server.request('PUT', path, { token: ada.token, raw: 'x' });
        expect(answer.status, path).toBe(400);
        expect(answer.body.error_code).toBe('INVALID_PARAMETER_VALUE');
      }
      const listing = await server.request('GET', '/api/2.0/mlflow-artifacts/artifacts?path=../etc', {
        token: ada.token,
      });
      expect(listing.status).toBe(400);
      const unknownUpload = await server.request('PUT', `/api/2.0/mlflow-artifacts/mpu/parts/${'0'.repeat(32)}/1`, {
        raw: 'x',
      });
      expect(unknownUpload.status).toBe(404);
    });
  },
);

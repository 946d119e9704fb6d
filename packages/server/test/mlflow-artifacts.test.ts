/**
 * MLflow's artifact proxy against a real server: MLflow's own Python client (the newest 3.x
 * and a 2.x, from `LARDER_TEST_MLFLOW_PYTHON` and `LARDER_TEST_MLFLOW2_PYTHON`) logs, lists,
 * downloads and deletes artifacts, with a multi-MB file through the proxied multipart upload;
 * the raw routes refuse bad paths with 400 and hide another user's artifacts (404).
 */

import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { availableMlflowClients, runMlflowScenario } from './support/mlflow-python.js';
import { startTestServer, TEST_STORES, type TestServer } from './support/test-server.js';

const SCRIPT = resolve(import.meta.dirname, 'mlflow/artifacts_scenario.py');
describe.each(
  availableMlflowClients('mlflow-artifacts').flatMap((client) =>
    TEST_STORES.map((store) => [...client, store] as const),
  ),
)("MLflow's artifact proxy with the %s client on %s", (_label, python, store) => {
  let server: TestServer;
  let work: string;
  let ada: { id: string; token: string };
  let bob: { id: string; token: string };
  let result: Record<string, any>;

  beforeAll(async () => {
    server = await startTestServer({ store, gcIntervalMs: 0 });
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
});

describe.each(TEST_STORES)('the artifact proxy on the wire (%s)', (store) => {
  let server: TestServer;
  let ada: { id: string; token: string };
  let root: string;
  let runId: string;
  const sha = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

  beforeAll(async () => {
    server = await startTestServer({ store, gcIntervalMs: 0 });
    ada = await server.createUser('ada@example.com');
    const run = await server.request('POST', '/api/2.0/mlflow/runs/create', {
      token: ada.token,
      body: { experiment_id: '0', run_name: 'raw' },
    });
    expect(run.status).toBe(200);
    runId = run.body.run.info.run_id;
    root = run.body.run.info.artifact_uri.replace('mlflow-artifacts:/', '/api/2.0/mlflow-artifacts/artifacts/');
  });
  afterAll(async () => {
    await server?.close();
  });

  const collect = async () => {
    const report = await server.request('POST', '/blobs/gc', { token: server.adminToken, body: { graceSeconds: 0 } });
    expect(report.status).toBe(200);
  };
  const stored = async (hash: string) =>
    (await server.request('HEAD', `/blobs/${hash}`, { token: server.adminToken })).status === 200;

  it('serves ranges and HEAD, and keeps the bytes from the collector while a record names them', async () => {
    const put = await server.request('PUT', `${root}/dir/range.txt`, { token: ada.token, raw: '0123456789' });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({});
    const range = await server.request('GET', `${root}/dir/range.txt`, {
      token: ada.token,
      headers: { range: 'bytes=2-4' },
    });
    expect(range.status).toBe(206);
    expect(range.body).toBe(234);
    const head = await server.request('HEAD', `${root}/dir/range.txt`, { token: ada.token });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('10');
    expect(head.headers.get('etag')).toBe(`"${sha('0123456789')}"`);
    await collect();
    expect(await stored(sha('0123456789'))).toBe(true);
    const remove = await server.request('DELETE', `${root}/dir`, { token: ada.token });
    expect(remove.status).toBe(200);
    expect((await server.request('GET', `${root}/dir/range.txt`, { token: ada.token })).status).toBe(404);
    await collect();
    expect(await stored(sha('0123456789'))).toBe(false);
  });

  it('composes multipart uploads from the parts the server hashed, refusing ETags it did not answer', async () => {
    const create = await server.request('POST', `${root.replace('/artifacts/', '/mpu/create/')}/big`, {
      token: ada.token,
      body: { path: '/home/ada/weights.bin', num_parts: 2 },
    });
    expect(create.status).toBe(200);
    const { upload_id: uploadId, credentials } = create.body;
    expect(credentials.map((each: { part_number: number }) => each.part_number)).toEqual([1, 2]);
    const parts = [Buffer.alloc(300_000, 1), Buffer.from('tail')];
    const etags: string[] = [];
    for (const [index, credential] of credentials.entries()) {
      // No credentials on parts, as MLflow's client sends them: the upload id is the capability.
      const answer = await fetch(credential.url, { method: 'PUT', body: parts[index] });
      expect(answer.status).toBe(200);
      etags.push(answer.headers.get('etag') ?? '');
    }
    expect(etags[0]).toBe(`"${sha(parts[0] as Buffer)}"`);
    const complete = (partsSent: { part_number: number; etag: string }[]) =>
      server.request('POST', `${root.replace('/artifacts/', '/mpu/complete/')}/big`, {
        token: ada.token,
        body: { path: '/home/ada/weights.bin', upload_id: uploadId, parts: partsSent },
      });
    const forged = await complete([
      { part_number: 1, etag: `"${'0'.repeat(64)}"` },
      { part_number: 2, etag: etags[1] as string },
    ]);
    expect(forged.status).toBe(400);
    expect(forged.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    const done = await complete(etags.map((etag, index) => ({ part_number: index + 1, etag })));
    expect(done.status).toBe(200);
    const whole = await fetch(`${server.url}${root}/big/weights.bin`, {
      headers: { authorization: `Bearer ${ada.token}` },
    });
    expect(whole.status).toBe(200);
    expect(sha(Buffer.from(await whole.arrayBuffer()))).toBe(sha(Buffer.concat(parts)));
    const again = await complete(etags.map((etag, index) => ({ part_number: index + 1, etag })));
    expect(again.status).toBe(404);
  });

  it('aborts uploads, after which their part URLs answer 404', async () => {
    const create = await server.request('POST', `${root.replace('/artifacts/', '/mpu/create/')}/aborted`, {
      token: ada.token,
      body: { path: 'x.bin', num_parts: 1 },
    });
    const abort = await server.request('POST', `${root.replace('/artifacts/', '/mpu/abort/')}/aborted`, {
      token: ada.token,
      body: { path: 'x.bin', upload_id: create.body.upload_id },
    });
    expect(abort.status).toBe(200);
    const part = await fetch(create.body.credentials[0].url, { method: 'PUT', body: 'late' });
    expect(part.status).toBe(404);
  });

  it("releases a run's artifacts when the run is removed through Larder", async () => {
    const bytes = 'kept only by this run';
    await server.request('PUT', `${root}/only.txt`, { token: ada.token, raw: bytes });
    await collect();
    expect(await stored(sha(bytes))).toBe(true);
    const removed = await server.request('DELETE', `/runs/${runId}`, { token: ada.token });
    expect(removed.status).toBe(200);
    // The run's artifact records go after the removal's event, not inside it: allow the
    // collector a few passes on a loaded machine.
    await vi.waitFor(
      async () => {
        await collect();
        expect(await stored(sha(bytes))).toBe(false);
      },
      { timeout: 15_000, interval: 200 },
    );
  });
});

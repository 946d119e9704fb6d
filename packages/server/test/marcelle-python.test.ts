/**
 * Marcelle's released Python client (`marcelle` 0.0.4 from PyPI) against a real server:
 * DataStore CRUD with its query encodings and paging, Remote's runs, tfjs model and asset
 * uploads (status codes and answer shapes it checks), retrieve_run, Uploader, remove_run.
 * Runs when that client can be imported by `LARDER_TEST_PYTHON` (default `python3`), e.g.
 * after `python3 -m pip install --no-deps marcelle==0.0.4 && python3 -m pip install requests filetype tqdm "numpy<2"`.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/test-server.js';

const PYTHON = process.env.LARDER_TEST_PYTHON ?? 'python3';
const SCENARIO = resolve(import.meta.dirname, 'marcelle-fixtures/python/marcelle_scenario.py');

function usable(): boolean {
  try {
    execFileSync(PYTHON, [SCENARIO, '--probe'], { stdio: 'ignore', timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}

function runScenario(url: string, work: string): Promise<Record<string, any>> {
  return new Promise((resolveResult, reject) => {
    execFile(PYTHON, [SCENARIO, url, work], { timeout: 120_000 }, (error, stdout, stderr) => {
      const line = stdout.split('\n').find((each) => each.startsWith('MARCELLE-RESULT '));
      if (error || !line) reject(new Error(`python failed: ${error?.message}\n${stdout}\n${stderr}`));
      else resolveResult(JSON.parse(line.slice('MARCELLE-RESULT '.length)));
    });
  });
}

describe.runIf(usable())("Marcelle's Python client 0.0.4", () => {
  let server: TestServer;
  let work: string;
  let result: Record<string, any>;

  beforeAll(async () => {
    // Marcelle's Python client sends no credentials: a server without auth, as Marcelle's own default.
    server = await startTestServer({ auth: false, gcIntervalMs: 0 });
    work = await mkdtemp(join(tmpdir(), 'larder-marcelle-python-'));
    result = await runScenario(server.url, work);
  }, 180_000);
  afterAll(async () => {
    await server.close();
    await rm(work, { recursive: true, force: true });
  });

  it('runs every DataStore method with its query encodings and paging', () => {
    expect(result.created).toBe(25);
    expect(result.get).toBe('t3');
    expect(result.gte_sorted).toEqual(['t24', 't23', 't22', 't21', 't20']);
    expect(result.total).toBe(5);
    expect(result.in).toEqual([1, 2, 3]);
    expect(result.nin_count).toBe(22);
    expect(result.lt).toBe(1);
    expect(result.ne_count).toBe(13);
    expect(result.eq_string).toBe(1);
    expect(result.items).toBe(13);
    expect(result.patched).toBe(100);
    expect(result.updated).toMatchObject({ name: 't0', n: 101 });
    expect(result.removed).toBe('t0');
    expect(result.after_remove).toBeNull();
  });

  it('uploads a tfjs model and an asset, which the server then serves', async () => {
    expect(result.model).toEqual({ name: 'py-model@1', format: 'tfjs', files: ['model.json', 'group1-shard1of1.bin'] });
    expect(result.asset).toMatchObject({ filename: 'frame.png', extension: '.png', mime: 'image/png' });
    const asset = await fetch(`${server.url}/assets/${result.asset.url}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('image/png');
  });

  it('keeps its runs, finds them by start, uploads a run folder once and removes runs with their checkpoints', async () => {
    expect(result.retrieved).toBe(result.run_id);
    expect(result.uploaded).toMatchObject({
      run_start_at: '2022-01-02T03:04:05',
      params: { batch_size: 8 },
      hparams: { batch_size: 8 },
      logs: { loss: [1, 0.5, 0.25] },
      metrics: { train: { loss: { count: 3, last: 0.25 } } },
    });
    const uploads = await server.request('GET', '/runs?run_start_at=2022-01-02T03:04:05');
    expect(uploads.body.total).toBe(1);
    expect(result.removed_run).toBe(true);
    expect((await server.request('GET', `/runs/${result.run_id}`)).status).toBe(404);
    expect((await server.request('GET', `/tfjs-models/${result.model_id}`)).status).toBe(404);
  });
});

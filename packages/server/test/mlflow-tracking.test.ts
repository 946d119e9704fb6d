/**
 * MLflow's released Python clients (3.x from `LARDER_TEST_MLFLOW_PYTHON`, 2.x from
 * `LARDER_TEST_MLFLOW2_PYTHON`; `.ci/run` makes both venvs) against a real server, on every
 * metadata store: experiments, runs, params, metrics, batches, tags, datasets, search with
 * filters and order (OR and parentheses too), metric history, token and basic auth, another
 * user who sees nothing, and runs read back through Larder's SDK and the other way round.
 * The wire checks that need no Python (errors, limits, anonymous calls) always run.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/test/support/run-cli.js';
import { DataStore } from '../../client/src/index.js';
import { startTestServer, TEST_STORES, type TestServer } from './support/test-server.js';

const SCENARIO = resolve(import.meta.dirname, 'mlflow/tracking_scenario.py');
const API = '/api/2.0/mlflow';

const CLIENTS = [
  { label: 'MLflow 3.x', variable: 'LARDER_TEST_MLFLOW_PYTHON' },
  { label: 'MLflow 2.x', variable: 'LARDER_TEST_MLFLOW2_PYTHON' },
] as const;

type Credentials = { token: string } | { username: string; password: string };

function runScenario(
  python: string,
  url: string,
  credentials: Credentials,
  mode: string,
  argument: string,
): Promise<Record<string, any>> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    MLFLOW_TRACKING_URI: url,
    // Failures must surface at once, not after the client's minutes of retries.
    MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0',
    ...('token' in credentials
      ? { MLFLOW_TRACKING_TOKEN: credentials.token }
      : { MLFLOW_TRACKING_USERNAME: credentials.username, MLFLOW_TRACKING_PASSWORD: credentials.password }),
  };
  return new Promise((resolveResult, reject) => {
    execFile(python, [SCENARIO, mode, argument], { env, timeout: 240_000 }, (error, stdout, stderr) => {
      const line = stdout.split('\n').find((each) => each.startsWith('MLFLOW-RESULT '));
      if (error || !line) reject(new Error(`python ${mode} failed: ${error?.message}\n${stdout}\n${stderr}`));
      else resolveResult(JSON.parse(line.slice('MLFLOW-RESULT '.length)));
    });
  });
}

for (const client of CLIENTS) {
  const python = process.env[client.variable];
  if (!python) {
    console.warn(
      `MLflow tracking: the ${client.label} client's tests are left out: ${client.variable} is not set (.ci/run makes its venv)`,
    );
    continue;
  }
  for (const storeKind of TEST_STORES) {
    describe(`${client.label} client against Larder (${storeKind})`, () => {
      let server: TestServer;
      let ada: { id: string; token: string; email: string };
      let apiKey: string;
      let main: Record<string, any>;
      let intruder: Record<string, any>;
      const tag = client.variable.includes('2') ? 'v2' : 'v3';

      beforeAll(async () => {
        server = await startTestServer({ store: storeKind, gcIntervalMs: 0 });
        ada = await server.createUser('ada@example.org');
        await server.createUser('bob@example.org', 'bob password 123');
        apiKey = (await server.request('POST', '/api-keys', { token: ada.token, body: { name: 'mlflow' } })).body.token;
        main = await runScenario(python, server.url, { token: apiKey }, 'main', tag);
        intruder = await runScenario(
          python,
          server.url,
          { username: 'bob@example.org', password: 'bob password 123' },
          'intruder',
          JSON.stringify({
            run: main.runs.r1,
            experiment: main.experiment_id,
            experiment_name: `/ada@example.org/exp-${tag}`,
          }),
        );
      }, 600_000);
      afterAll(() => server?.close());

      it('logs runs with params, metrics, tags and statuses that read back through MLflow', () => {
        expect(main.experiment_name).toBe(`exp-${tag}`);
        expect(main.r1).toMatchObject({
          status: 'FINISHED',
          run_name: 'r1',
          lifecycle_stage: 'active',
          experiment_id: main.experiment_id,
          params: { lr: '0.1', opt: 'adam', 'layers.depth': '3' },
          metrics: { loss: 0.1, 'val/acc': 0.9, 'final.score': 0.75 },
          tags: { team: 'vision', stage: 'dev', 'mlflow.runName': 'r1' },
          start_before_end: true,
        });
        expect(main.r2_status).toBe('FAILED');
        expect(main.r3_status).toBe('KILLED');
        expect(main.history).toEqual(Array.from({ length: 10 }, (_, step) => [step, 1 / (step + 1)]));
        expect(main.history_r3).toBe(100);
        expect(main.tag_deleted).toBe(true);
        expect(main.param_change).toBe('INVALID_PARAMETER_VALUE');
        expect(main.param_same).toBeNull();
        expect(main.missing_run).toBe('RESOURCE_DOES_NOT_EXIST');
        expect(main.default_experiment).toBe('Default');
      });

      it('keeps every point when threads log to one series at once', () => {
        const expected = Array.from({ length: 8 }, (_, thread) =>
          Array.from({ length: 25 }, (_, i) => thread * 100 + i),
        ).flat();
        expect(main.concurrent).toEqual(expected);
      });

      it('searches runs with filter strings (OR and parentheses too), orders and pages them', () => {
        expect(main.search).toEqual({
          loss_lt: ['r1'],
          param_eq: ['r1'],
          tag_ne: ['r1', 'r3'],
          or: ['r2', 'r3'],
          parens: ['r2'],
          status: ['r2'],
          like: ['r3'],
          run_id_in: ['r1', 'r3'],
          dataset: ['r1'],
          metric_key_with_slash: ['r1'],
          order_loss: ['r2', 'r3', 'r1'],
          order_start: ['r1', 'r2', 'r3'],
          bad_filter: 'INVALID_PARAMETER_VALUE',
          bad_comparator: 'INVALID_PARAMETER_VALUE',
        });
        expect(main.pages).toEqual([['r1'], ['r2'], ['r3']]);
        expect(main.fluent_search_rows).toBe(3);
        // Five evenly spaced steps of 0-99 and the last (0, 20, 40, 60, 80, 99), and each run's ends (r1: 0, 9):
        // r1 holds 0 and 9, r3 holds all seven.
        expect(main.bulk_interval).toEqual({ status: 200, runs: [main.runs.r1, main.runs.r3].sort(), count: 9 });
      });

      it('creates, tags, finds, deletes, restores and renames experiments (the id stays)', () => {
        expect(main.experiment).toEqual({
          name: `other-${tag}`,
          tags: { purpose: 'test', owner: 'ada' },
          stage: 'active',
        });
        expect(main.renamed).toEqual({
          name: `renamed-${tag}`,
          by_new_name: true,
          old_name_gone: true,
          run_experiment: true,
          searched: ['moved'],
          tags: { purpose: 'test', owner: 'ada' },
        });
        expect(main.by_name).toBe(true);
        expect(main.no_such_name).toBe(true);
        expect(main.duplicate).toBe('RESOURCE_ALREADY_EXISTS');
        expect(main.experiments_like).toEqual([`exp-${tag}`, `other-${tag}`]);
        expect(main.experiments_tag).toEqual([`other-${tag}`]);
        expect(main).toMatchObject({
          deleted_stage: 'deleted',
          deleted_hidden: true,
          deleted_listed: true,
          restored_stage: 'active',
          run_deleted: 'deleted',
          deleted_run_hidden: true,
          deleted_run_listed: true,
          run_restored: 'active',
        });
      });

      it("shows another user (signed in with HTTP Basic) nothing of ada's", () => {
        expect(intruder).toEqual({
          get_run: 'RESOURCE_DOES_NOT_EXIST',
          get_experiment: 'RESOURCE_DOES_NOT_EXIST',
          search_their_experiment: 0,
          log_to_their_run: 'RESOURCE_DOES_NOT_EXIST',
          their_experiment_by_name: false,
          own_runs: ['mine'],
          their_names: [],
        });
      });

      it("reads MLflow's runs back through Larder's SDK: hparams, tags, metric summaries and series, lineage", async () => {
        const store = new DataStore({ url: server.url, token: ada.token });
        try {
          const run = (await store.service('runs').get(main.runs.r1)) as Record<string, any>;
          expect(run).toMatchObject({
            name: 'r1',
            folder: `/ada@example.org/exp-${tag}`,
            status: 'Complete',
            hparams: { lr: '0.1', opt: 'adam', 'layers.depth': '3' },
            tags: { team: 'vision', stage: 'dev' },
            metrics: { mlflow: { loss: { last: 0.1, count: 10 } }, val: { acc: { last: 0.9 } } },
          });
          const series = (await store
            .service('metrics')
            .find({ query: { run: main.runs.r1, type: 'mlflow', name: 'loss', raw: true } })) as Record<string, any>;
          expect(series.steps).toEqual(Array.from({ length: 10 }, (_, step) => step));
          // Runs sort on the summaries MLflow's metrics keep.
          const sorted = (await store.service('runs').find({
            query: { folder: `/ada@example.org/exp-${tag}`, $sort: { 'metrics.mlflow.loss.last': 1 } },
          })) as unknown as { data: { name: string }[] };
          expect(sorted.data.map((each) => each.name)).toEqual(['r1', 'r3', 'r2']);
          const lineage = (await store
            .service('lineage')
            .find({ query: { kind: 'run', id: main.runs.r1 } })) as unknown as {
            nodes: { kind: string }[];
          };
          expect(lineage.nodes.map((node) => node.kind)).toContain('dataset-version');
        } finally {
          await store.close();
        }
      });

      it('lists MLflow runs with `larder runs ls`, hparams and metric summaries as columns', async () => {
        const listed = await runCli(
          [
            'runs',
            'ls',
            '--folder',
            `/ada@example.org/exp-${tag}`,
            '--columns',
            'hparams.opt,metrics.mlflow.loss.last',
          ],
          { env: { ...process.env, LARDER_URL: server.url, LARDER_TOKEN: ada.token, COLUMNS: '200' } },
        );
        expect(listed.code).toBe(0);
        const rows = listed.stdout.trim().split('\n').slice(1);
        expect(rows.find((row) => /\sr1\s/.test(row))).toMatch(/Complete\s.*adam\s+0\.1$/);
        expect(rows.find((row) => /\sr2\s/.test(row))).toMatch(/Failed\s.*sgd\s+3$/);
      });

      it("reads a run logged through Larder's own API in MLflow", async () => {
        const created = await server.request('POST', '/runs', {
          token: ada.token,
          body: {
            name: 'native',
            folder: 'native',
            makeFolder: true,
            status: 'Complete',
            hparams: { lr: 0.5, net: { depth: 4 } },
          },
        });
        expect(created.status).toBe(201);
        const points = await server.request('POST', '/metrics', {
          token: ada.token,
          body: {
            run: created.body._id,
            series: [{ type: 'train', name: 'loss', offset: 0, steps: [0, 1, 2], values: [0.9, 0.6, 0.3] }],
          },
        });
        expect(points.status).toBe(201);
        const read = await runScenario(python, server.url, { token: ada.token }, 'reader', created.body._id);
        expect(read).toEqual({
          name: 'native',
          status: 'FINISHED',
          params: { lr: '0.5', 'net.depth': '4' },
          metrics: { 'train/loss': 0.3 },
          history: [
            [0, 0.9],
            [1, 0.6],
            [2, 0.3],
          ],
          found: [created.body._id],
        });
      }, 120_000);
    });
  }
}

describe('the MLflow REST API on the wire', () => {
  let server: TestServer;
  let token: string;
  const call = (method: string, path: string, options: { body?: unknown; raw?: string; token?: string | null } = {}) =>
    server.request(method, `${API}${path}`, {
      ...(options.token === null ? {} : { token: options.token ?? token }),
      ...(options.body !== undefined ? { body: options.body } : {}),
      ...(options.raw !== undefined ? { raw: options.raw } : {}),
    });

  beforeAll(async () => {
    server = await startTestServer({ gcIntervalMs: 0 });
    token = (await server.createUser('wire@example.org')).token;
  });
  afterAll(() => server?.close());

  it('refuses anonymous callers and wrong passwords with UNAUTHENTICATED', async () => {
    const anonymous = await call('GET', '/experiments/search', { token: null });
    expect(anonymous).toMatchObject({ status: 401, body: { error_code: 'UNAUTHENTICATED' } });
    const basic = Buffer.from('wire@example.org:wrong password').toString('base64');
    const wrong = await server.request('GET', `${API}/experiments/search`, {
      headers: { authorization: `Basic ${basic}` },
    });
    expect(wrong).toMatchObject({ status: 401, body: { error_code: 'UNAUTHENTICATED' } });
    const right = Buffer.from('wire@example.org:correct horse battery').toString('base64');
    const ok = await server.request('GET', `${API}/experiments/search`, {
      headers: { authorization: `Basic ${right}` },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.experiments.map((each: { name: string }) => each.name)).toEqual(['Default']);
  });

  it("answers MLflow 3's server-info probe without sign-in", async () => {
    const info = await server.request('GET', '/api/3.0/mlflow/server-info');
    expect(info).toMatchObject({ status: 200, body: { store_type: 'SqlStore', workspaces_enabled: false } });
    // On the folder store, joining parts copies them: the client is told to send one stream.
    expect(info.body.multipart_uploads_enabled).toBe(false);
  });

  it('pages a long history with max_results and page tokens, across chunks, to the same points', async () => {
    const run = (await call('POST', '/runs/create', { body: { experiment_id: '0' } })).body.run.info.run_id as string;
    const total = 10_000;
    for (let start = 0; start < total; start += 1000) {
      const metrics = Array.from({ length: 1000 }, (_, at) => ({
        key: 'loss',
        value: (start + at) / 7,
        timestamp: 1_700_000_000_000 + start + at,
        step: start + at,
      }));
      expect((await call('POST', '/runs/log-batch', { body: { run_id: run, metrics } })).status).toBe(200);
    }
    const whole = await call('GET', `/metrics/get-history?run_id=${run}&metric_key=loss`);
    expect(whole.body.metrics).toHaveLength(total);
    for (const size of [3000, 4096, 1, 9999, 10_000, 25_000]) {
      const pages: unknown[] = [];
      let pageToken: string | undefined;
      let calls = 0;
      do {
        const query = `run_id=${run}&metric_key=loss&max_results=${size}${pageToken ? `&page_token=${pageToken}` : ''}`;
        const page = await call('GET', `/metrics/get-history?${query}`);
        expect(page.status).toBe(200);
        pages.push(...page.body.metrics);
        pageToken = page.body.next_page_token;
        calls += 1;
      } while (pageToken && calls <= total);
      expect(calls, `pages of ${size}`).toBe(Math.ceil(total / size));
      expect(pages, `pages of ${size}`).toEqual(whole.body.metrics);
    }
    const bad = await call('GET', `/metrics/get-history?run_id=${run}&metric_key=loss&max_results=0`);
    expect(bad).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE' } });
  });

  it('answers unknown endpoints with ENDPOINT_NOT_FOUND', async () => {
    expect(await call('GET', '/runs/teleport')).toMatchObject({
      status: 404,
      body: { error_code: 'ENDPOINT_NOT_FOUND' },
    });
  });

  it('answers malformed requests with a 400 and a sentence, never a 5xx', async () => {
    const run = (await call('POST', '/runs/create', { body: { experiment_id: '0' } })).body.run;
    expect(run.info).toMatchObject({ status: 'RUNNING', experiment_id: '0', lifecycle_stage: 'active' });
    const runId = run.info.run_id as string;
    const cases: [string, string, { body?: unknown; raw?: string }][] = [
      ['POST', '/runs/create', { raw: '{"experiment_id": ' }],
      ['POST', '/runs/create', { raw: '[1, 2]' }],
      ['POST', '/runs/log-metric', { body: { key: 'loss', value: 1, timestamp: 1 } }],
      ['POST', '/runs/log-metric', { body: { run_id: runId, key: 'loss', value: 'abc', timestamp: 1 } }],
      ['POST', '/runs/log-metric', { body: { run_id: runId, key: 'loss', value: 1 } }],
      ['POST', '/runs/log-metric', { body: { run_id: runId, key: '../x', value: 1, timestamp: 1 } }],
      ['POST', '/runs/log-parameter', { body: { run_id: runId, key: 'p', value: 'x'.repeat(6001) } }],
      ['POST', '/runs/log-batch', { body: { run_id: runId, metrics: 'many' } }],
      [
        'POST',
        '/runs/log-batch',
        { body: { run_id: runId, params: Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: '1' })) } },
      ],
      ['POST', '/runs/update', { body: { run_id: runId, status: 'EXPLODED' } }],
      ['POST', '/runs/search', { body: { experiment_ids: ['0'], max_results: 50_001 } }],
      ['POST', '/runs/search', { body: { experiment_ids: ['0'], filter: "params.a = 'x" } }],
      ['POST', '/runs/search', { body: { experiment_ids: ['0'], order_by: ['metrics.loss upwards'] } }],
      ['POST', '/runs/search', { body: { experiment_ids: ['0'], page_token: '!!!' } }],
      ['POST', '/experiments/create', { body: { name: 42 } }],
      ['POST', '/experiments/search', { body: { filter: 'name = 3' } }],
      ['GET', '/metrics/get-history?run_id=x', {}],
      ['POST', '/runs/log-inputs', { body: { run_id: runId, datasets: [{ dataset: { name: 'd' } }] } }],
    ];
    for (const [method, path, options] of cases) {
      const answer = await call(method, path, options);
      expect({ path, options, status: answer.status }).toEqual({ path, options, status: 400 });
      expect(['INVALID_PARAMETER_VALUE', 'MALFORMED_REQUEST', 'BAD_REQUEST']).toContain(answer.body.error_code);
      expect(answer.body.message.length).toBeGreaterThan(10);
    }
    expect(await call('GET', '/runs/get?run_id=nope')).toMatchObject({
      status: 404,
      body: { error_code: 'RESOURCE_DOES_NOT_EXIST' },
    });
    expect(await call('GET', '/experiments/get?experiment_id=../etc')).toMatchObject({
      status: 404,
      body: { error_code: 'RESOURCE_DOES_NOT_EXIST' },
    });
  });

  it('works without auth (--no-auth), where every caller is the local owner', async () => {
    const open = await startTestServer({ auth: false, gcIntervalMs: 0 });
    try {
      const created = await open.request('POST', `${API}/runs/create`, { body: { run_name: 'local' } });
      expect(created.status).toBe(200);
      const runId = created.body.run.info.run_id;
      await open.request('POST', `${API}/runs/log-metric`, {
        body: { run_id: runId, key: 'loss', value: 0.5, timestamp: Date.now(), step: 3 },
      });
      const found = await open.request('POST', `${API}/runs/search`, {
        body: { experiment_ids: ['0'], filter: 'metrics.loss = 0.5' },
      });
      expect(found.body.runs.map((each: { info: { run_name: string } }) => each.info.run_name)).toEqual(['local']);
    } finally {
      await open.close();
    }
  });
});

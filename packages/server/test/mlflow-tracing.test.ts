/**
 * MLflow 3 tracing against a real server: with MLflow's own 3.x client (`LARDER_TEST_MLFLOW_PYTHON`),
 * `@mlflow.trace` and `mlflow.start_span` record traces that `get_trace` and `search_traces`
 * read back with their spans (the spans travel as `traces.json` through the artifact proxy),
 * with tags, a filtered and ordered search, paging and deletion; another user sees and
 * changes none of it (RESOURCE_DOES_NOT_EXIST, as for a trace that does not exist). On the
 * wire: what StartTraceV3 refuses, and that nothing is stored when it does.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableMlflowClients, runMlflowScenario } from './support/mlflow-python.js';
import { startTestServer, TEST_STORES, type TestServer } from './support/test-server.js';

const SCENARIO = resolve(import.meta.dirname, 'mlflow/tracing_scenario.py');
const OTHER_USER = resolve(import.meta.dirname, 'mlflow/tracing_other_user.py');
const V3 = '/api/3.0/mlflow';
const V2 = '/api/2.0/mlflow';

// The 2.x client traces through MLflow 2's endpoints (StartTrace / EndTrace), which Larder does not serve.
const clients = availableMlflowClients('mlflow-tracing').filter(([label]) => label === '3.x');

describe.each(clients.flatMap((client) => TEST_STORES.map((store) => [...client, store] as const)))(
  'MLflow 3 tracing with the %s client on %s',
  (_label, python, store) => {
    let server: TestServer;
    let result: Record<string, any>;
    let other: Record<string, any>;

    beforeAll(async () => {
      server = await startTestServer({ store, gcIntervalMs: 0 });
      const ada = await server.createUser('ada@example.com');
      const bob = await server.createUser('bob@example.com');
      const env = (token: string) => ({ MLFLOW_TRACKING_URI: server.url, MLFLOW_TRACKING_TOKEN: token });
      result = await runMlflowScenario(python, SCENARIO, ['traced'], env(ada.token), 'TRACING-RESULT');
      other = await runMlflowScenario(
        python,
        OTHER_USER,
        [result.trace_id, result.experiment_id],
        env(bob.token),
        'TRACING-OTHER-RESULT',
      );
    }, 400_000);
    afterAll(async () => {
      await server?.close();
    });

    it('reads a traced call back with its spans, inputs, outputs and attributes', () => {
      expect(result.outputs).toEqual([7, 9]);
      expect(result.state).toContain('OK');
      expect(result.span_names).toEqual(['pipeline', 'double', 'add']);
      expect(result.root_inputs).toEqual({ x: 4 });
      expect(result.root_outputs).toBe(9);
      expect(result.root_attribute).toBe('demo');
      expect(result.double_inputs).toEqual({ x: 4 });
      expect(result.parents_ok).toBe(true);
      expect(result.execution_ms).toBeGreaterThanOrEqual(0);
      expect(Math.abs(result.request_time - Date.now())).toBeLessThan(10 * 60_000);
    });

    it('searches the experiment, newest first, with each trace and its spans', () => {
      expect(result.found).toHaveLength(3);
      expect(result.found[0]).toBe(result.failed_id);
      expect(result.found).toContain(result.trace_id);
      expect([...result.found_span_counts].sort()).toEqual([1, 3, 3]);
      expect(result.oldest_first).toEqual([...result.found].reverse());
      expect(result.frame_rows).toBe(3);
      expect(result.failed_only).toEqual([result.failed_id]);
      expect(result.paged_count).toBe(2);
      expect(result.paged_token).toBe(true);
    });

    it('sets, finds by and deletes trace tags, and deletes traces', () => {
      expect(result.tagged).toEqual([result.trace_id]);
      expect(result.untagged_value).toBeNull();
      expect(result.deleted).toBe(1);
      expect(result.after_delete).toHaveLength(2);
      expect(result.after_delete).not.toContain(result.failed_id);
    });

    it('finds the traces of a run, recorded in it or linked to it', () => {
      expect(result.by_run).toEqual(result.expected_by_run);
      expect(result.by_run).toHaveLength(2);
    });

    it("keeps another user's traces invisible and unchanged", async () => {
      expect(other.get_trace).toBe('RESOURCE_DOES_NOT_EXIST');
      expect(other.get_missing).toBe(other.get_trace);
      expect(other.set_tag).toBe('RESOURCE_DOES_NOT_EXIST');
      expect(other.delete_tag).toBe('RESOURCE_DOES_NOT_EXIST');
      expect(other.delete).toBe('RESOURCE_DOES_NOT_EXIST');
      expect(other.link).toBe('RESOURCE_DOES_NOT_EXIST');
      // A search of an experiment the caller cannot read finds nothing, as for runs.
      expect(other.search).toBeNull();
      expect(other.own_search).toBe(0);
    });
  },
);

describe.each(TEST_STORES)('MLflow trace endpoints on the wire (%s)', (store) => {
  let server: TestServer;
  let ada: { token: string };
  let bob: { token: string };
  let experimentId: string;
  const traceInfo = (traceId: string, extra: Record<string, unknown> = {}) => ({
    trace: {
      trace_info: {
        trace_id: traceId,
        trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } },
        request_time: '2026-01-02T03:04:05.678901Z',
        execution_duration: '1.5s',
        state: 'OK',
        trace_metadata: { 'mlflow.sourceRun': 'r1' },
        tags: { 'mlflow.traceName': 'predict' },
        ...extra,
      },
    },
  });
  const start = (token: string, body: unknown) => server.request('POST', `${V3}/traces`, { token, body });

  beforeAll(async () => {
    server = await startTestServer({ store, gcIntervalMs: 0 });
    ada = await server.createUser('ada@example.com');
    bob = await server.createUser('bob@example.com');
    experimentId = (await server.request('POST', `${V2}/experiments/create`, { token: ada.token, body: { name: 'e' } }))
      .body.experiment_id;
  });
  afterAll(() => server?.close());

  it('answers the trace info in MLflow JSON, with where its spans go', async () => {
    const started = await start(ada.token, traceInfo('tr-wire1'));
    expect(started.status).toBe(200);
    const info = started.body.trace.trace_info;
    expect(info.request_time).toBe('2026-01-02T03:04:05.678Z');
    expect(info.execution_duration).toBe('1.5s');
    expect(info.trace_location.mlflow_experiment.experiment_id).toBe(experimentId);
    expect(info.tags['mlflow.artifactLocation']).toBe(`mlflow-artifacts:/${experimentId}/traces/tr-wire1/artifacts`);
    const got = await server.request('GET', `${V3}/traces/tr-wire1`, { token: ada.token });
    expect(got.body.trace.trace_info).toEqual(info);
    const search = await server.request('POST', `${V3}/traces/search`, {
      token: ada.token,
      body: {
        locations: [{ mlflow_experiment: { experiment_id: experimentId } }],
        filter: "metadata.`mlflow.sourceRun` = 'r1' AND trace.name = 'predict'",
      },
    });
    expect(search.body.traces.map((trace: { trace_id: string }) => trace.trace_id)).toEqual(['tr-wire1']);
  });

  it('keeps the spans as an artifact of the trace, for its experiment readers only', async () => {
    await start(ada.token, traceInfo('tr-wire2'));
    const path = `/api/2.0/mlflow-artifacts/artifacts/${experimentId}/traces/tr-wire2/artifacts/traces.json`;
    const spans = JSON.stringify({ spans: [] });
    expect((await server.request('PUT', path, { token: ada.token, raw: spans })).status).toBe(200);
    const read = await server.request('GET', path, { token: ada.token });
    expect(read.status).toBe(200);
    expect(read.body).toEqual({ spans: [] });
    expect((await server.request('GET', path, { token: bob.token })).status).toBe(404);
    expect((await server.request('PUT', path, { token: bob.token, raw: '{}' })).status).toBe(404);
    expect((await server.request('GET', path, { token: ada.token })).body).toEqual({ spans: [] });
    // The UI's download of a trace's spans, by the trace id.
    const ui = `/ajax-api/2.0/mlflow/get-trace-artifact?request_id=tr-wire2`;
    const download = await server.request('GET', ui, { token: ada.token });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toBe('attachment; filename=traces.json');
    expect((await server.request('GET', ui, { token: bob.token })).status).toBe(404);
  });

  it("refuses traces in another user's experiment, and ids taken, storing nothing", async () => {
    const intruding = await start(bob.token, traceInfo('tr-bob'));
    expect(intruding.status).toBe(404);
    expect(intruding.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await server.request('GET', `${V3}/traces/tr-bob`, { token: ada.token })).status).toBe(404);
    // Bob's own default experiment cannot take over Ada's trace id.
    const taken = await start(bob.token, {
      trace: {
        trace_info: {
          ...traceInfo('tr-wire1').trace.trace_info,
          trace_location: { mlflow_experiment: { experiment_id: '0' } },
        },
      },
    });
    expect(taken.status).toBe(400);
    expect(taken.body.error_code).toBe('RESOURCE_ALREADY_EXISTS');
    const still = await server.request('GET', `${V3}/traces/tr-wire1`, { token: ada.token });
    expect(still.body.trace.trace_info.trace_location.mlflow_experiment.experiment_id).toBe(experimentId);
  });

  it('answers bad trace infos with INVALID_PARAMETER_VALUE and stores none of them', async () => {
    const bad = [
      { trace: 'x' },
      {},
      traceInfo('tr/../x'),
      traceInfo('tr-bad-time', { request_time: 'yesterday' }),
      traceInfo('tr-bad-duration', { execution_duration: 5 }),
      traceInfo('tr-bad-state', { state: 'DONE' }),
      traceInfo('tr-bad-tags', { tags: { k: 1 } }),
      traceInfo('tr-bad-location', { trace_location: { type: 'INFERENCE_TABLE', inference_table: {} } }),
    ];
    for (const body of bad) {
      const answer = await start(ada.token, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
    const search = await server.request('POST', `${V3}/traces/search`, {
      token: ada.token,
      body: { locations: [{ mlflow_experiment: { experiment_id: experimentId } }] },
    });
    expect(search.body.traces.every((trace: { trace_id: string }) => !trace.trace_id.startsWith('tr-bad'))).toBe(true);
    const badFilter = await server.request('POST', `${V3}/traces/search`, {
      token: ada.token,
      body: { locations: [{ mlflow_experiment: { experiment_id: experimentId } }], filter: 'spans.x = 1' },
    });
    expect(badFilter.status).toBe(400);
    const badOrder = await server.request('POST', `${V3}/traces/search`, {
      token: ada.token,
      body: { locations: [{ mlflow_experiment: { experiment_id: experimentId } }], order_by: ['tags.x'] },
    });
    expect(badOrder.status).toBe(400);
  });

  it('answers ENDPOINT_NOT_FOUND for the trace endpoints it does not serve', async () => {
    for (const path of [
      `${V3}/traces/get?trace_id=tr-wire1`,
      `${V3}/traces/batchGet?trace_ids=tr-wire1`,
      `${V2}/traces/tr-wire1/info`,
    ]) {
      const answer = await server.request('GET', path, { token: ada.token });
      expect(answer.status, path).toBe(404);
      expect(answer.body.error_code).toBe('ENDPOINT_NOT_FOUND');
    }
    // MLflow 2's StartTrace (its message has no `trace`) is not the V3 call under another prefix.
    for (const prefix of [V2, '/ajax-api/2.0/mlflow']) {
      const start = await server.request('POST', `${prefix}/traces`, {
        token: ada.token,
        body: { experiment_id: experimentId, timestamp_ms: 1000, request_metadata: [], tags: [] },
      });
      expect(start.status, prefix).toBe(404);
      expect(start.body.error_code).toBe('ENDPOINT_NOT_FOUND');
    }
  });

  it("answers the root paths MLflow's clients probe as unknown, not as collections", async () => {
    // `/version` decides whether the client sends spans to `/v1/traces`: neither is served.
    for (const [method, path] of [
      ['GET', '/version'],
      ['POST', '/graphql'],
      ['GET', '/graphql'],
      ['POST', '/v1'],
    ] as const) {
      const body = method === 'POST' ? { body: { query: '{ x }' } } : {};
      const answer = await server.request(method, path, { token: ada.token, ...body });
      expect(answer.status, `${method} ${path}`).toBe(404);
    }
  });
});

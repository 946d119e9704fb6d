/**
 * Experiment tracking, Larder beside an MLflow tracking server in the same run:
 * - metric ingest: points logged through the SDK (`run.log`, whose cost per call is
 *   measured too) then uploaded to the server, points per second; MLflow receives points
 *   through REST `runs/log-batch` (1000 metrics per request, its limit);
 * - a long series read back downsampled to 2000 points (Larder), beside MLflow's full
 *   `metrics/get-history` of its series (MLflow cannot downsample);
 * - runs search over many runs, filtering on an hparam and sorting on a metric summary,
 *   the same query on both;
 * - Larder only: metric ingest end to end (`createRun` with autoUpload to `finish()`, every
 *   point counted on the server, with the CPU time client and server spent per point);
 *   many runs logging at once from several processes (aggregate points/s, p95 latency of
 *   the SDK's batches); and the runs search at scale, over runs written straight into the
 *   stopped server's store (a fast fill) and queried through the HTTP API.
 *
 * Sizes: BENCH_TRACKING_SCALE_RUNS (default 100000; 0 skips), BENCH_WRITER_PROCESSES
 * (default 10), BENCH_WRITER_RUNS (runs in all, default 100), BENCH_WRITER_POINTS (per
 * run, default 100000; 0 skips), BENCH_WRITER_RATE (points a second per run of the paced
 * writers, default 12000: 1.2 M/s offered by 100 runs; the flat-out writers log as fast as
 * the CPU allows, where batch latency is the backlog's).
 */
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createHttpClient, jsonBody } from '../measure/http-client.mjs';
import { round, summarizeLatencies } from '../measure/percentiles.mjs';
import { processCpuSeconds } from '../measure/process-cpu.mjs';
import { installMlflow, MLFLOW_VERSION, startMlflow } from '../peers/mlflow.mjs';
import { startLarder } from '../servers/larder-server.mjs';

const PROTOCOL = pathToFileURL(new URL('../../packages/protocol/dist/index.js', import.meta.url).pathname).href;
const CLIENT = pathToFileURL(new URL('../../packages/client/dist/index.js', import.meta.url).pathname).href;
const SQLITE_STORE = pathToFileURL(
  new URL('../../packages/server/dist/stores/sqlite/sqlite-document-store.js', import.meta.url).pathname,
).href;
const WRITER = fileURLToPath(new URL('../workloads/metric-writers.mjs', import.meta.url));
const SEARCH_PATH = '/runs?hparams.optimizer=adam&$sort[metrics.val.accuracy.last]=-1&$limit=100';
const OPTIMIZERS = ['adam', 'sgd', 'rmsprop', 'adagrad'];
const READS = 30;
const SEARCHES = 50;
/** Searches at scale before the timed ones: they build the field indexes. */
const FIRST_SEARCHES_AT_SCALE = 5;

/** Runs `work` over `items` with `concurrency` workers. */
async function pool(items, concurrency, work) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index], index);
      }
    }),
  );
}

async function larderIngest(url, tempRoot, points, log) {
  process.env.LARDER_RUN_PARENT_DIR = join(tempRoot, 'bench-runs');
  const { createRun } = await import(CLIENT);
  const series = 10;
  const perSeries = Math.floor(points / series);
  const run = await createRun({ name: 'ingest', flushIntervalMs: 1000 });
  // Names made once and cheap values, so the loop times run.log rather than its arguments.
  const names = Array.from({ length: series }, (_, index) => `m${index}`);
  const metrics = {};
  const started = performance.now();
  for (let step = 0; step < perSeries; step += 1) {
    for (let index = 0; index < series; index += 1) metrics[names[index]] = step * 0.001 + index;
    run.log('train', metrics, step, Math.floor(step / 1000));
  }
  const loopMs = performance.now() - started;
  await run.finish();
  const total = perSeries * series;
  log(`Larder: ${total} points logged (${round((loopMs * 1000) / total, 3)} µs per point), uploading`);
  const uploadStarted = performance.now();
  const result = await run.upload({ folder: 'bench', makeFolder: true, connection: { url } });
  const seconds = (performance.now() - uploadStarted) / 1000;
  if (result.pointsSent !== total) throw new Error(`The upload sent ${result.pointsSent} points, not ${total}`);
  return {
    points: total,
    // One call logs `series` points: the cost per call is what a training loop pays per step.
    logMicrosPerCall: round((loopMs * 1000) / perSeries, 3),
    logMicrosPerPoint: round((loopMs * 1000) / total, 3),
    uploadSeconds: round(seconds, 3),
    pointsPerSec: Math.round(total / seconds),
    runId: result.id,
  };
}

async function larderLongSeries(client, url, points, log) {
  const { encodeMetricColumns, METRIC_COLUMNS_TYPE } = await import(PROTOCOL);
  const run = JSON.parse(
    (await client.expect(201, 'POST', '/runs', jsonBody({ name: 'long-series', folder: 'bench' }))).text,
  );
  // Filled as the SDK sends points (binary columns), a million a request: the fill is not timed.
  const batch = 1_000_000;
  const filling = performance.now();
  for (let offset = 0; offset < points; offset += batch) {
    const count = Math.min(batch, points - offset);
    const steps = new Float64Array(count);
    const values = new Float64Array(count);
    for (let at = 0; at < count; at += 1) {
      const step = offset + at;
      steps[at] = step;
      values[at] = Math.sin(step / 5000) + (step % 99_991 === 0 ? 5 : 0);
    }
    const answer = await fetch(`${url}/metrics`, {
      method: 'POST',
      headers: { 'content-type': METRIC_COLUMNS_TYPE },
      body: encodeMetricColumns(run._id, [{ type: 'train', name: 'loss', offset, steps, values }]),
    });
    if (answer.status !== 201) throw new Error(`POST /metrics answered ${answer.status}: ${await answer.text()}`);
  }
  const fillSeconds = round((performance.now() - filling) / 1000);
  log(`Larder: a ${points}-point series stored; reading it downsampled to 2000 points ${READS} times`);
  const samples = [];
  let answered = 0;
  for (let read = 0; read < READS; read += 1) {
    const answer = await client.expect(200, 'GET', `/metrics?run=${run._id}&type=train&name=loss&points=2000`);
    samples.push(answer.ms);
    answered = JSON.parse(answer.text).steps.length;
  }
  // Zoomed in: a window in the middle of the series, as a drag-zoom on a chart asks.
  const zooms = [];
  for (const fraction of [0.1, 0.001, 0.00001]) {
    const width = Math.max(1, Math.floor(points * fraction));
    const fromStep = Math.floor(points / 2 - width / 2);
    const toStep = fromStep + width;
    const zoomSamples = [];
    let zoomAnswered = 0;
    for (let read = 0; read < READS; read += 1) {
      const answer = await client.expect(
        200,
        'GET',
        `/metrics?run=${run._id}&type=train&name=loss&points=2000&fromStep=${fromStep}&toStep=${toStep}`,
      );
      zoomSamples.push(answer.ms);
      zoomAnswered = JSON.parse(answer.text).steps.length;
    }
    zooms.push({ fraction, returnedPoints: zoomAnswered, ...summarizeLatencies(zoomSamples) });
  }
  return { points, fillSeconds, returnedPoints: answered, ...summarizeLatencies(samples), zooms };
}

async function larderSearch(client, runs, log) {
  log(`Larder: creating ${runs} runs with hparams and a metric`);
  const indexes = Array.from({ length: runs }, (_, i) => i);
  await pool(indexes, 8, async (i) => {
    const body = {
      name: `sweep-${i}`,
      folder: 'sweep',
      makeFolder: true,
      hparams: { optimizer: OPTIMIZERS[i % 4], lr: (i % 100) / 10_000 },
    };
    const run = JSON.parse((await client.expect(201, 'POST', '/runs', jsonBody(body))).text);
    const accuracy = ((i * 7919) % 10_000) / 10_000;
    await client.expect(
      201,
      'POST',
      '/metrics',
      jsonBody({
        run: run._id,
        series: [{ type: 'val', name: 'accuracy', offset: 0, steps: [0, 1], values: [accuracy / 2, accuracy] }],
      }),
    );
  });
  const path = SEARCH_PATH;
  const samples = [];
  let first;
  for (let query = 0; query < SEARCHES; query += 1) {
    const answer = await client.expect(200, 'GET', path);
    samples.push(answer.ms);
    first ??= JSON.parse(answer.text);
  }
  if (first.total !== runs / 4) throw new Error(`The search matched ${first.total} runs, not ${runs / 4}`);
  return { runs, matched: first.total, query: path, ...summarizeLatencies(samples) };
}

function envInteger(name, fallback) {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number, not "${text}"`);
  return value;
}

/** Points the server holds for a run, summed over its series. */
async function serverPoints(client, runId) {
  const series = JSON.parse((await client.expect(200, 'GET', `/metrics?run=${runId}`)).text);
  return series.reduce((sum, each) => sum + each.count, 0);
}

/** CPU milliseconds (user + system) a process has used (Linux). */
const processCpuMs = async (pid) => (await processCpuSeconds(pid)) * 1000;

/** `createRun` with autoUpload, a tight logging loop, `finish()`: the time until the server holds every point. */
async function larderEndToEnd(server, client, tempRoot, points, log) {
  process.env.LARDER_RUN_PARENT_DIR = join(tempRoot, 'bench-runs-e2e');
  const { createRun } = await import(CLIENT);
  const series = 10;
  const perSeries = Math.floor(points / series);
  const names = Array.from({ length: series }, (_, index) => `m${index}`);
  const metrics = {};
  log(`Larder: ${perSeries * series} points end to end (createRun with autoUpload to finish)`);
  const serverCpuBefore = await processCpuMs(server.pid);
  const clientCpuBefore = process.cpuUsage();
  const started = performance.now();
  const run = await createRun({
    name: 'ingest-e2e',
    folder: 'bench',
    makeFolder: true,
    autoUpload: true,
    connection: { url: server.url },
    systemMetrics: false,
    captureConsole: false,
  });
  for (let step = 0; step < perSeries; step += 1) {
    for (let index = 0; index < series; index += 1) metrics[names[index]] = step * 0.001 + index;
    run.log('train', metrics, step, Math.floor(step / 1000));
  }
  await run.finish();
  const seconds = (performance.now() - started) / 1000;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const serverCpuMs = (await processCpuMs(server.pid)) - serverCpuBefore;
  if (run.uploadError) throw run.uploadError;
  const found = JSON.parse((await client.expect(200, 'GET', '/runs?name=ingest-e2e&folder=/local/bench')).text);
  const runId = (found.data ?? found)[0]?._id;
  const counted = await serverPoints(client, runId);
  const total = perSeries * series;
  if (counted !== total) throw new Error(`The server holds ${counted} of the ${total} points logged`);
  return {
    points: total,
    seconds: round(seconds, 3),
    pointsPerSec: Math.round(total / seconds),
    clientCpuMicrosPerPoint: round((clientCpu.user + clientCpu.system) / total, 3),
    serverCpuMicrosPerPoint: round((serverCpuMs * 1000) / total, 3),
  };
}

/**
 * `processes` child processes, `runs` live runs in all, each logging `pointsPerRun` points at
 * once, at `rate` points a second per run (0: flat out); `folder` holds this round's runs.
 */
async function larderConcurrentWriters(server, client, tempRoot, { processes, runs, pointsPerRun, rate, folder }, log) {
  log(
    `Larder: ${runs} runs logging at once from ${processes} processes, ${pointsPerRun} points each, ${rate > 0 ? `${rate} points/s per run` : 'flat out'}`,
  );
  const serverCpuBefore = await processCpuMs(server.pid);
  const children = Array.from({ length: processes }, (_, index) => {
    const share = Math.floor(runs / processes) + (index < runs % processes ? 1 : 0);
    return new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          WRITER,
          server.url,
          String(share),
          String(pointsPerRun),
          join(tempRoot, `${folder}-runs-${index}`),
          `w${index}`,
          String(rate),
          folder,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
      });
      child.stderr.on('data', (chunk) => {
        stderr = (stderr + chunk).slice(-4000);
      });
      child.on('error', reject);
      child.on('exit', (code) => {
        if (code === 0) resolve(JSON.parse(stdout.trim().split('\n').at(-1)));
        else reject(new Error(`Writer process ${index} exited with ${code}:\n${stderr}`));
      });
    });
  });
  const results = await Promise.all(children);
  const serverCpuMs = (await processCpuMs(server.pid)) - serverCpuBefore;
  const startedAt = Math.min(...results.map((each) => each.startedAt));
  const endedAt = Math.max(...results.map((each) => each.endedAt));
  const logged = results.reduce((sum, each) => sum + each.logged, 0);
  const page = JSON.parse((await client.expect(200, 'GET', `/runs?folder=/local/${folder}&$limit=${runs + 1}`)).text);
  const ids = (page.data ?? page).map((each) => each._id);
  let counted = 0;
  for (const id of ids) counted += await serverPoints(client, id);
  if (ids.length !== runs || counted !== logged) {
    throw new Error(`The server holds ${counted} points in ${ids.length} runs; ${logged} were logged in ${runs}`);
  }
  const seconds = (endedAt - startedAt) / 1000;
  return {
    processes,
    runs,
    ...(rate > 0 ? { offeredPointsPerSec: rate * runs } : { offered: 'flat out' }),
    points: counted,
    seconds: round(seconds, 3),
    pointsPerSec: Math.round(counted / seconds),
    serverCpuMicrosPerPoint: round((serverCpuMs * 1000) / counted, 3),
    batches: summarizeLatencies(results.flatMap((each) => each.batchMs)),
  };
}

/**
 * The runs search over `runs` runs: one made through the API as the template, the rest
 * written into the stopped server's SQLite store in batches (hparams and a summary each,
 * as the services would leave them), then the server restarted and queried over HTTP.
 */
async function larderSearchAtScale(tempRoot, runs, log) {
  const dataDir = join(tempRoot, 'larder-search-scale-data');
  let server = await startLarder(dataDir);
  let client = createHttpClient(server.url);
  try {
    const made = JSON.parse(
      (
        await client.expect(
          201,
          'POST',
          '/runs',
          jsonBody({ name: 'template', folder: 'sweep', makeFolder: true, hparams: { optimizer: 'adam', lr: 0 } }),
        )
      ).text,
    );
    await client.expect(
      201,
      'POST',
      '/metrics',
      jsonBody({ run: made._id, series: [{ type: 'val', name: 'accuracy', offset: 0, steps: [0], values: [0] }] }),
    );
    client.close();
    await server.stop();
    log(`Larder: filling the store with ${runs} runs`);
    const { SqliteDocumentStore } = await import(SQLITE_STORE);
    const store = new SqliteDocumentStore({ file: join(dataDir, 'larder.db'), readers: 0 });
    await store.open();
    const [template] = await store.find('runs', { filter: { op: 'eq', path: ['_id'], value: made._id } });
    const fillStarted = performance.now();
    const batch = 5000;
    for (let from = 0; from < runs; from += batch) {
      const documents = [];
      for (let i = from; i < Math.min(runs, from + batch); i += 1) {
        const accuracy = ((i * 7919) % 10_000) / 10_000;
        documents.push({
          ...template,
          _id: `scale${String(i).padStart(19, '0')}`,
          name: `sweep-${i}`,
          altName: `sweep-${i}`,
          hparams: { optimizer: OPTIMIZERS[i % 4], lr: (i % 100) / 10_000 },
          metrics: {
            val: { accuracy: { ...template.metrics.val.accuracy, last: accuracy, min: accuracy / 2, max: accuracy } },
          },
        });
      }
      await store.insert('runs', documents);
    }
    await store.remove('runs', { op: 'eq', path: ['_id'], value: made._id });
    await store.close();
    const fillSeconds = (performance.now() - fillStarted) / 1000;
    server = await startLarder(dataDir);
    client = createHttpClient(server.url);
    // The first searches make the store index the filtered and the sorted fields (it does so
    // after a field's third use): reported apart, the steady state after them.
    const searchOnce = async () => {
      const answer = await client.expect(200, 'GET', SEARCH_PATH);
      const { total } = JSON.parse(answer.text);
      if (total !== runs / 4) throw new Error(`The search matched ${total} runs, not ${runs / 4}`);
      return answer.ms;
    };
    const firstSearchesMs = [];
    for (let query = 0; query < FIRST_SEARCHES_AT_SCALE; query += 1) firstSearchesMs.push(round(await searchOnce(), 1));
    const samples = [];
    for (let query = 0; query < SEARCHES; query += 1) samples.push(await searchOnce());
    return {
      runs,
      fillSeconds: round(fillSeconds, 2),
      matched: runs / 4,
      query: SEARCH_PATH,
      firstSearchesMs,
      ...summarizeLatencies(samples),
    };
  } finally {
    client.close();
    await server.stop();
  }
}

async function mlflowFigures(tempRoot, points, runs, log) {
  const installed = installMlflow(log);
  if (!installed.ok) return { available: false, reason: installed.reason };
  const server = await startMlflow(await mkdtemp(join(tempRoot, 'mlflow-')));
  const client = createHttpClient(server.url);
  const api = async (path, body) =>
    JSON.parse((await client.expect(200, 'POST', `/api/2.0/mlflow/${path}`, jsonBody(body))).text);
  try {
    log(`MLflow ${MLFLOW_VERSION}: ingesting ${points} points through log-batch`);
    const { run } = await api('runs/create', { experiment_id: '0', run_name: 'ingest', start_time: Date.now() });
    const runId = run.info.run_id;
    const series = 10;
    const perSeries = Math.floor(points / series);
    const batches = [];
    let batch = [];
    const timestamp = Date.now();
    for (let step = 0; step < perSeries; step += 1) {
      for (let index = 0; index < series; index += 1) {
        batch.push({ key: `m${index}`, value: Math.sin(step / 100 + index), timestamp, step });
        if (batch.length === 1000) {
          batches.push(jsonBody({ run_id: runId, metrics: batch }));
          batch = [];
        }
      }
    }
    if (batch.length > 0) batches.push(jsonBody({ run_id: runId, metrics: batch }));
    const started = performance.now();
    for (const body of batches) await client.expect(200, 'POST', '/api/2.0/mlflow/runs/log-batch', body);
    const seconds = (performance.now() - started) / 1000;
    const ingest = {
      points: perSeries * series,
      seconds: round(seconds, 3),
      pointsPerSec: Math.round((perSeries * series) / seconds),
    };

    log(`MLflow: reading the ${perSeries}-point series back with get-history ${READS} times`);
    const reads = [];
    for (let read = 0; read < READS; read += 1) {
      reads.push(
        (
          await client.expect(
            200,
            'GET',
            `/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=m0&max_results=${perSeries}`,
          )
        ).ms,
      );
    }

    log(`MLflow: creating ${runs} runs with a param and a metric`);
    const indexes = Array.from({ length: runs }, (_, i) => i);
    await pool(indexes, 8, async (i) => {
      const created = await api('runs/create', { experiment_id: '0', run_name: `sweep-${i}`, start_time: Date.now() });
      const accuracy = ((i * 7919) % 10_000) / 10_000;
      await api('runs/log-batch', {
        run_id: created.run.info.run_id,
        params: [
          { key: 'optimizer', value: OPTIMIZERS[i % 4] },
          { key: 'lr', value: String((i % 100) / 10_000) },
        ],
        metrics: [
          { key: 'accuracy', value: accuracy / 2, timestamp, step: 0 },
          { key: 'accuracy', value: accuracy, timestamp, step: 1 },
        ],
      });
    });
    const search = {
      experiment_ids: ['0'],
      filter: "params.optimizer = 'adam'",
      order_by: ['metrics.accuracy DESC'],
      max_results: 100,
    };
    const searches = [];
    for (let query = 0; query < SEARCHES; query += 1) {
      searches.push((await client.expect(200, 'POST', '/api/2.0/mlflow/runs/search', jsonBody(search))).ms);
    }
    return {
      available: true,
      version: MLFLOW_VERSION,
      backend: 'sqlite (mlflow server default), 1 worker',
      startMs: round(server.startMs),
      ingest,
      historyRead: {
        points: perSeries,
        note: 'full series: MLflow has no server-side downsampling',
        ...summarizeLatencies(reads),
      },
      search: { runs, query: search, ...summarizeLatencies(searches) },
    };
  } finally {
    client.close();
    await server.stop();
  }
}

/** @returns {Promise<object>} tracking figures of Larder and MLflow */
export async function benchTracking(tempRoot, config, log) {
  const server = await startLarder(join(tempRoot, 'larder-tracking-data'));
  const client = createHttpClient(server.url);
  let larder;
  try {
    const ingest = await larderIngest(server.url, tempRoot, config.trackingPoints, log);
    const longSeries = await larderLongSeries(client, server.url, config.seriesPoints, log);
    const search = await larderSearch(client, config.trackingRuns, log);
    const endToEnd = await larderEndToEnd(server, client, tempRoot, config.trackingPoints, log);
    const writers = {
      processes: envInteger('BENCH_WRITER_PROCESSES', 10),
      runs: envInteger('BENCH_WRITER_RUNS', 100),
      pointsPerRun: envInteger('BENCH_WRITER_POINTS', 100_000),
    };
    const writing = writers.pointsPerRun > 0 && writers.runs > 0;
    const skipped = { available: false, reason: 'skipped (BENCH_WRITER_POINTS=0)' };
    const rate = envInteger('BENCH_WRITER_RATE', 12_000);
    const concurrentWriters = writing
      ? await larderConcurrentWriters(server, client, tempRoot, { ...writers, rate, folder: 'writers' }, log)
      : skipped;
    const concurrentWritersFlatOut = writing
      ? await larderConcurrentWriters(
          server,
          client,
          tempRoot,
          { ...writers, rate: 0, folder: 'writers-flat-out' },
          log,
        )
      : skipped;
    larder = { ingest, endToEnd, concurrentWriters, concurrentWritersFlatOut, longSeries, search };
  } finally {
    client.close();
    await server.stop();
  }
  const scaleRuns = envInteger('BENCH_TRACKING_SCALE_RUNS', 100_000);
  larder.searchAtScale =
    scaleRuns > 0
      ? await larderSearchAtScale(tempRoot, scaleRuns, log)
      : { available: false, reason: 'skipped (BENCH_TRACKING_SCALE_RUNS=0)' };
  const mlflow =
    config.mlflow === 'none'
      ? { available: false, reason: 'skipped (BENCH_MLFLOW=none)' }
      : await mlflowFigures(tempRoot, config.mlflowPoints, config.trackingRuns, log);
  const ratios = mlflow.available
    ? {
        ingestPointsPerSec: round(larder.ingest.pointsPerSec / mlflow.ingest.pointsPerSec),
        searchP95: round(mlflow.search.p95 / larder.search.p95),
      }
    : undefined;
  return { larder, mlflow, ...(ratios ? { ratios, note: 'ratio > 1 means Larder is ahead' } : {}) };
}

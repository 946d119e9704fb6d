/**
 * One process of the concurrent-writers workload: `runs` live runs (createRun with
 * autoUpload) logging at once, each `points` points over 10 series, yielding to the event
 * loop every 100 steps as a training loop does between batches; at `rate` points a second
 * per run when given (a training loop's pace: it waits between batches when ahead), else
 * as fast as the CPU allows. Every `POST /metrics` the
 * SDK sends is timed through a wrapped remote. Prints one JSON line: the wall-clock span
 * (epoch milliseconds, so spans of several processes combine), points logged, and the
 * batch latencies (the bench counts the points on the server).
 *
 * Usage: node metric-writers.mjs <server url> <runs> <points per run> <run parent dir> <label> [points/s per run] [folder]
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep, setImmediate as yieldToLoop } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';

const CLIENT = pathToFileURL(new URL('../../packages/client/dist/index.js', import.meta.url).pathname).href;
const SERIES = 10;
const STEPS_PER_YIELD = 100;

const [url, runsText, pointsText, parentDir, label, rateText = '0', folder = 'writers'] = process.argv.slice(2);
const rate = Number(rateText);
const runs = Number(runsText);
const pointsPerRun = Number(pointsText);
process.env.LARDER_RUN_PARENT_DIR = parentDir;
const { createRun, DataStoreRunsRemote } = await import(CLIENT);

const remote = await DataStoreRunsRemote.connect({ url });
const batchMs = [];
// The SDK's own remote, with its metric calls timed; everything else passes through.
const timed = new Proxy(remote, {
  get(target, property) {
    if (property === 'appendMetrics') {
      return async (body) => {
        const started = performance.now();
        const answer = await target.appendMetrics(body);
        batchMs.push(performance.now() - started);
        return answer;
      };
    }
    const value = Reflect.get(target, property);
    return typeof value === 'function' ? value.bind(target) : value;
  },
});

async function oneRun(index) {
  const run = await createRun({
    name: `${label}-${index}`,
    folder,
    makeFolder: true,
    autoUpload: true,
    remote: timed,
    systemMetrics: false,
    captureConsole: false,
  });
  const names = Array.from({ length: SERIES }, (_, i) => `m${i}`);
  const metrics = {};
  const steps = Math.floor(pointsPerRun / SERIES);
  const started = performance.now();
  for (let step = 0; step < steps; step += 1) {
    for (let i = 0; i < SERIES; i += 1) metrics[names[i]] = Math.sin(step / 100 + i);
    run.log('train', metrics, step, Math.floor(step / 1000));
    if (step % STEPS_PER_YIELD === STEPS_PER_YIELD - 1) {
      const ahead = rate > 0 ? started + (((step + 1) * SERIES) / rate) * 1000 - performance.now() : 0;
      await (ahead > 0 ? sleep(ahead) : yieldToLoop());
    }
  }
  await run.finish();
  if (run.uploadError) throw run.uploadError;
  return steps * SERIES;
}

const startedAt = Date.now();
const logged = await Promise.all(Array.from({ length: runs }, (_, index) => oneRun(index)));
const endedAt = Date.now();
await remote.close();
process.stdout.write(
  `${JSON.stringify({ startedAt, endedAt, logged: logged.reduce((sum, count) => sum + count, 0), batchMs })}\n`,
);

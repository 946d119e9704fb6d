// Measures what the system metrics sampler costs the training process, in CPU time:
//  1. per sample, reading the machine's counters (/proc on Linux) and computing the metrics,
//     measured over many samples back to back (process CPU time, libuv's threads included);
//  2. per nvidia-smi call, the CPU time of the child (where nvidia-smi is installed), and how
//     often the sampler then reads GPUs (every sample unless a call outlasts its budget);
//  3. in a real run left idle: process CPU with the sampler on (short interval) minus the same
//     run with it off, per sample (timers, the writer's appends and flushes included).
// Each figure is turned into percent of one core at the default 10 s interval (the target is
// under 1 %). Run after `npx tsc -b packages/client`:
//   node packages/client/src/runs/system-metrics/system-metrics-cost.bench.mjs [samples]
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRun } from '../../../dist/index.js';
import { NvidiaSmi } from '../../../dist/runs/system-metrics/nvidia-smi.js';
import { GPU_QUERY_BUDGET } from '../../../dist/runs/system-metrics/system-metrics-sampler.js';
import { SnapshotReader, systemMetricsBetween } from '../../../dist/runs/system-metrics/system-snapshot.js';

const samples = Number(process.argv[2] ?? 2000);
const INTERVAL_MS = 10_000;
const cpuMicros = () => {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
};
/** CPU time of reaped children (cutime + cstime of /proc/self/stat), microseconds. */
const childMicros = () => {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1e6) / 100; // USER_HZ is 100 on Linux
};
const percentOfCore = (micros, intervalMs = INTERVAL_MS) => (micros / (intervalMs * 1000)) * 100;
const result = { machine: { platform: process.platform, node: process.version, load: readLoad() } };

// 1. A sample, back to back.
const reader = new SnapshotReader();
let previous = await reader.read(Promise.resolve([]));
for (let index = 0; index < 200; index++) previous = await reader.read(Promise.resolve([])); // warm up
let cpuBefore = cpuMicros();
const wallBefore = process.hrtime.bigint();
for (let index = 0; index < samples; index++) {
  const next = await reader.read(Promise.resolve([]));
  systemMetricsBetween(previous, next);
  previous = next;
}
const perSample = (cpuMicros() - cpuBefore) / samples;
result.sample = {
  samples,
  cpuMicrosPerSample: round(perSample),
  wallMicrosPerSample: round(Number(process.hrtime.bigint() - wallBefore) / 1000 / samples),
  percentOfOneCoreAt10s: round(percentOfCore(perSample), 4),
};

// 2. nvidia-smi, where present.
const smi = new NvidiaSmi();
const first = await smi.query();
if (smi.working) {
  const calls = 20;
  const childBefore = childMicros();
  cpuBefore = cpuMicros();
  const wallStart = performance.now();
  for (let index = 0; index < calls; index++) await smi.query();
  const wallPerCall = ((performance.now() - wallStart) * 1000) / calls;
  const perCall = (childMicros() - childBefore) / calls + (cpuMicros() - cpuBefore) / calls;
  // The sampler reads GPUs every `every`-th sample when a call's wall time exceeds its budget.
  const every = Math.max(1, Math.ceil(wallPerCall / (INTERVAL_MS * 1000 * GPU_QUERY_BUDGET)));
  result.nvidiaSmi = {
    gpus: first.length,
    calls,
    cpuMicrosPerCall: round(perCall),
    wallMicrosPerCall: round(wallPerCall),
    gpuReadEverySamplesAt10s: every,
    percentOfOneCoreAt10s: round(percentOfCore(perCall / every), 4),
  };
} else {
  result.nvidiaSmi = { absent: 'nvidia-smi is not installed or found no GPU: no GPU readings, no cost' };
}

// 3. In a run: idle with the sampler every 100 ms, against idle without it.
const directory = await mkdtemp(join(tmpdir(), 'larder-system-cost-'));
process.env.LARDER_RUN_PARENT_DIR = directory;
const idleMs = 5000;
const idle = async (options) => {
  const run = await createRun({ name: 'bench', captureConsole: false, ...options });
  const before = cpuMicros();
  await new Promise((resolve) => setTimeout(resolve, idleMs));
  const spent = cpuMicros() - before;
  await run.finish();
  return spent;
};
const off = await idle({ systemMetrics: false });
const on = await idle({ systemMetricsIntervalMs: 100 });
const inRunPerSample = Math.max(0, on - off) / (idleMs / 100);
result.inRun = {
  idleMs,
  samples: idleMs / 100,
  cpuMicrosOff: off,
  cpuMicrosOn: on,
  cpuMicrosPerSample: round(inRunPerSample),
  percentOfOneCoreAt10s: round(percentOfCore(inRunPerSample), 4),
};
await rm(directory, { recursive: true, force: true });

const gpuMicros = (result.nvidiaSmi.cpuMicrosPerCall ?? 0) / (result.nvidiaSmi.gpuReadEverySamplesAt10s ?? 1);
result.total = {
  percentOfOneCoreAt10s: round(percentOfCore(Math.max(perSample, inRunPerSample) + gpuMicros), 4),
  target: 1,
};
result.total.met = result.total.percentOfOneCoreAt10s < result.total.target;
console.log(JSON.stringify(result, null, 2));

function round(value, digits = 1) {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
function readLoad() {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  } catch {
    return null;
  }
}

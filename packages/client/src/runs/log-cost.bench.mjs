// Measures the amortised cost of run.log (buffering plus the background flushes it causes).
// Run after `npx tsc -b packages/client`: node packages/client/src/runs/log-cost.bench.mjs
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRun } from '../../dist/index.js';

const directory = await mkdtemp(join(tmpdir(), 'larder-log-cost-'));
process.env.LARDER_RUN_PARENT_DIR = directory;
const run = await createRun({ name: 'bench' });
const calls = Number(process.argv[2] ?? 2_000_000);
const metrics = { loss: 0.5, accuracy: 0.9 };

// Warm up the JIT, then measure.
for (let step = 0; step < 100_000; step++) run.log('train', metrics, step, 0);
await run.flush();
const started = process.hrtime.bigint();
for (let step = 0; step < calls; step++) {
  metrics.loss = 1 / (step + 1);
  run.log('train', metrics, step, step >> 10);
  // Yield now and then, as a training loop does between batches, so background flushes run.
  if ((step & 0xffff) === 0) await new Promise((resolve) => setImmediate(resolve));
}
const logged = Number(process.hrtime.bigint() - started) / calls / 1000;
await run.finish();
const total = Number(process.hrtime.bigint() - started) / calls / 1000;
console.log(`run.log: ${logged.toFixed(3)} µs per call (2 metrics), ${total.toFixed(3)} µs including the final flush`);
await rm(directory, { recursive: true, force: true });

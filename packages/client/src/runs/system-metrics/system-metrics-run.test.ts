/** System metrics in a run: recorded in the background as the `system` type, off when asked. */
import { SYSTEM_METRIC_TYPE } from '@larder/protocol';
import { describe, expect, it } from 'vitest';
import { createRun } from '../create-run.js';
import { useTemporaryRunDirectories } from '../test-support/run-directories.js';

useTemporaryRunDirectories();

/** Trains for `ms`: logs a point now and then, yielding like a training loop between batches. */
async function trainFor(run: Awaited<ReturnType<typeof createRun>>, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (let step = 0; Date.now() < until; step++) {
    run.log('train', { loss: 1 / (step + 1) }, step);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('system metrics in a run', () => {
  it('records CPU, memory and RSS as system metrics at steps of seconds since the start', async () => {
    const created = Date.now();
    const run = await createRun({ name: 'sampled', systemMetricsIntervalMs: 50, captureConsole: false });
    await trainFor(run, 600);
    await run.finish();
    const finished = Date.now();
    const system = (await run.metrics()).filter((series) => series.type === SYSTEM_METRIC_TYPE);
    const names = system.map((series) => series.name);
    expect(names).toEqual(expect.arrayContaining(['cpu_percent', 'memory_used_mib', 'process_rss_mib']));
    const rss = system.find((series) => series.name === 'process_rss_mib');
    expect(rss?.steps.length).toBeGreaterThanOrEqual(3);
    expect(rss?.steps.every((step, index) => index === 0 || step > (rss.steps[index - 1] as number))).toBe(true);
    // Steps are seconds since the run started, so none lies past the time the run was open.
    expect(rss?.steps[0]).toBeGreaterThan(0);
    expect(rss?.steps.at(-1)).toBeLessThanOrEqual((finished - created) / 1000);
    const cpu = system.find((series) => series.name === 'cpu_percent');
    expect(cpu?.values.every((value) => value !== null && value >= 0 && value <= 100)).toBe(true);
    // The training metrics are untouched by the sampler.
    expect((await run.metrics()).find((series) => series.type === 'train')?.name).toBe('loss');
  });

  it('records none with systemMetrics: false, and refuses an interval below 50 ms before writing anything', async () => {
    const run = await createRun({ name: 'unsampled', systemMetrics: false, systemMetricsIntervalMs: 50 });
    await trainFor(run, 200);
    await run.finish();
    expect((await run.metrics()).filter((series) => series.type === SYSTEM_METRIC_TYPE)).toEqual([]);
    await expect(createRun({ name: 'too-often', systemMetricsIntervalMs: 5 })).rejects.toThrow(/at least 50/);
  });
});

import { describe, expect, it } from 'vitest';
import { SystemMetricsSampler } from './system-metrics-sampler.js';

describe('SystemMetricsSampler', () => {
  it('records a sample every interval, at steps of seconds since the start, with the GPUs it is given', async () => {
    const samples: { metrics: Record<string, number>; step: number; time: number }[] = [];
    const startTime = Date.now();
    let reached: () => void = () => {};
    const three = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const sampler = new SystemMetricsSampler({
      intervalMs: 50,
      startTime,
      gpus: { query: async () => [{ index: 1, utilizationPercent: 42, powerW: 100 }] },
      // However slow this machine is, GPUs are read at every sample here.
      gpuQueryBudget: 1,
      record: (metrics, step, time) => {
        samples.push({ metrics, step, time });
        if (samples.length === 3) reached();
      },
    });
    sampler.start();
    await three;
    await sampler.stop();
    const count = samples.length;
    expect(count).toBeGreaterThanOrEqual(3);
    for (const [index, sample] of samples.entries()) {
      expect(sample.step).toBeCloseTo((sample.time - startTime) / 1000, 3);
      if (index > 0) expect(sample.step).toBeGreaterThan((samples[index - 1] as (typeof samples)[number]).step);
      expect(sample.metrics.gpu1_utilization_percent).toBe(42);
      expect(sample.metrics.gpu1_power_w).toBe(100);
      expect(sample.metrics.process_rss_mib).toBeGreaterThan(0);
    }
    // Stopped means stopped: no sample after stop() resolved.
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(samples.length).toBe(count);
  });

  it('reads GPUs less often when a query costs more than half a percent of the interval', async () => {
    const withGpus: boolean[] = [];
    let reached: () => void = () => {};
    const enough = new Promise<void>((resolve) => {
      reached = resolve;
    });
    // Each query takes about 10 ms against a budget of 0.25 ms (0.5 % of 50 ms): one in 40 samples at most.
    const slowGpus = {
      query: () =>
        new Promise<{ index: number; powerW: number }[]>((resolve) =>
          setTimeout(() => resolve([{ index: 0, powerW: 1 }]), 10),
        ),
    };
    const sampler = new SystemMetricsSampler({
      intervalMs: 50,
      startTime: Date.now(),
      gpus: slowGpus,
      record: (metrics) => {
        withGpus.push('gpu0_power_w' in metrics);
        if (withGpus.length === 6) reached();
      },
    });
    sampler.start();
    await enough;
    await sampler.stop();
    // The first reading (no sample of its own) asked; the next 6 samples did not.
    expect(withGpus.slice(0, 6)).toEqual([false, false, false, false, false, false]);
  });

  it('refuses an interval that would sample too often', () => {
    expect(() => new SystemMetricsSampler({ intervalMs: 1, startTime: 0, record: () => {} })).toThrow(/at least 50/);
  });
});

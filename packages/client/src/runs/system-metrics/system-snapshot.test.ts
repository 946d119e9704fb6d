import { describe, expect, it } from 'vitest';
import { SnapshotReader, type SystemSnapshot, systemMetricsBetween } from './system-snapshot.js';

const MIB = 1024 * 1024;

describe('systemMetricsBetween', () => {
  const before: SystemSnapshot = {
    time: 1_000_000,
    cpu: { busy: 1000, total: 10_000 },
    memory: { usedBytes: 1024 * MIB, totalBytes: 4096 * MIB },
    rssBytes: 100 * MIB,
    processCpuMicros: 2_000_000,
    disk: { readBytes: 0, writtenBytes: 10 * MIB },
    network: { receivedBytes: 5 * MIB, sentBytes: 0 },
    gpus: [],
  };
  const after: SystemSnapshot = {
    time: 1_002_000,
    cpu: { busy: 1250, total: 11_000 },
    memory: { usedBytes: 2048 * MIB, totalBytes: 4096 * MIB },
    rssBytes: 150 * MIB,
    processCpuMicros: 2_500_000,
    disk: { readBytes: 4 * MIB, writtenBytes: 30 * MIB },
    network: { receivedBytes: 6 * MIB, sentBytes: 3 * MIB },
    gpus: [
      { index: 0, utilizationPercent: 80, memoryUsedMiB: 1000, memoryTotalMiB: 4000, temperatureC: 60, powerW: 250.5 },
    ],
  };

  it('turns two readings into percentages, the later memory and per-second rates', () => {
    expect(systemMetricsBetween(before, after)).toEqual({
      cpu_percent: 25,
      process_cpu_percent: 25,
      memory_used_mib: 2048,
      memory_percent: 50,
      process_rss_mib: 150,
      disk_read_mib_per_s: 2,
      disk_write_mib_per_s: 10,
      network_received_mib_per_s: 0.5,
      network_sent_mib_per_s: 1.5,
      gpu0_utilization_percent: 80,
      gpu0_memory_used_mib: 1000,
      gpu0_memory_percent: 25,
      gpu0_temperature_c: 60,
      gpu0_power_w: 250.5,
    });
  });

  it('leaves out what a reading lacks, and never reports a negative rate (a counter reset)', () => {
    const { cpu, disk, network, ...bare } = after;
    const metrics = systemMetricsBetween(before, { ...bare, gpus: [], disk: { readBytes: 0, writtenBytes: 0 } });
    expect(Object.keys(metrics).sort()).toEqual(
      [
        'disk_read_mib_per_s',
        'disk_write_mib_per_s',
        'memory_percent',
        'memory_used_mib',
        'process_cpu_percent',
        'process_rss_mib',
      ].sort(),
    );
    expect(metrics.disk_write_mib_per_s).toBe(0);
  });
});

describe('SnapshotReader', () => {
  it('reads this machine: CPU, memory and the process RSS at least', async () => {
    const reader = new SnapshotReader();
    const first = await reader.read(Promise.resolve([]));
    let spin = 0;
    for (let index = 0; index < 5_000_000; index++) spin += index;
    const second = await reader.read(Promise.resolve([]));
    const metrics = systemMetricsBetween(first, second);
    expect(spin).toBeGreaterThan(0);
    expect(metrics.process_rss_mib).toBeGreaterThan(1);
    expect(metrics.memory_used_mib).toBeGreaterThan(1);
    expect(metrics.memory_percent).toBeGreaterThan(0);
    expect(metrics.memory_percent).toBeLessThanOrEqual(100);
    if (process.platform === 'linux') {
      expect(second.disk ?? second.network).toBeDefined();
    }
  });
});

/**
 * One reading of the machine's counters, and the `system` metrics between two readings.
 * On Linux the counters come from `/proc` (read asynchronously, a few small files); on
 * other systems CPU and memory come from `node:os`, and disk and network are left out.
 */
import { readdir, readFile } from 'node:fs/promises';
import { cpus, freemem, totalmem } from 'node:os';
import {
  type CpuTimes,
  type DiskCounters,
  isWholeDisk,
  type MemoryUse,
  type NetworkCounters,
  parseDiskstats,
  parseMeminfo,
  parseNetDev,
  parseProcStat,
} from './linux-proc.js';
import type { GpuReading } from './nvidia-smi.js';

export interface SystemSnapshot {
  /** Milliseconds since the Unix epoch. */
  time: number;
  cpu?: CpuTimes;
  memory?: MemoryUse;
  rssBytes: number;
  /** This process's CPU time (user + system), microseconds. */
  processCpuMicros: number;
  disk?: DiskCounters;
  network?: NetworkCounters;
  gpus: readonly GpuReading[];
}

const MIB = 1024 * 1024;

/**
 * The metrics between two snapshots, named as stored (`system` type): rates are per second
 * over the time between them, CPU is percent of the whole machine (`process_cpu_percent`
 * is percent of one core), memory and GPU readings are the later snapshot's.
 *
 * @example
 * systemMetricsBetween(before, after); // { cpu_percent: 12.5, memory_used_mib: 2048, … }
 */
export function systemMetricsBetween(before: SystemSnapshot, after: SystemSnapshot): Record<string, number> {
  const seconds = (after.time - before.time) / 1000;
  const metrics: Record<string, number> = {};
  if (before.cpu && after.cpu && after.cpu.total > before.cpu.total) {
    metrics.cpu_percent = round((100 * (after.cpu.busy - before.cpu.busy)) / (after.cpu.total - before.cpu.total));
  }
  if (seconds > 0) {
    metrics.process_cpu_percent = round(((after.processCpuMicros - before.processCpuMicros) / 1e6 / seconds) * 100);
  }
  if (after.memory) {
    metrics.memory_used_mib = round(after.memory.usedBytes / MIB);
    metrics.memory_percent = round((100 * after.memory.usedBytes) / after.memory.totalBytes);
  }
  metrics.process_rss_mib = round(after.rssBytes / MIB);
  const rate = (from: number, to: number) => round(Math.max(0, to - from) / MIB / seconds);
  if (seconds > 0 && before.disk && after.disk) {
    metrics.disk_read_mib_per_s = rate(before.disk.readBytes, after.disk.readBytes);
    metrics.disk_write_mib_per_s = rate(before.disk.writtenBytes, after.disk.writtenBytes);
  }
  if (seconds > 0 && before.network && after.network) {
    metrics.network_received_mib_per_s = rate(before.network.receivedBytes, after.network.receivedBytes);
    metrics.network_sent_mib_per_s = rate(before.network.sentBytes, after.network.sentBytes);
  }
  for (const gpu of after.gpus) {
    const prefix = `gpu${gpu.index}_`;
    if (gpu.utilizationPercent !== undefined) metrics[`${prefix}utilization_percent`] = gpu.utilizationPercent;
    if (gpu.memoryUsedMiB !== undefined) metrics[`${prefix}memory_used_mib`] = gpu.memoryUsedMiB;
    if (gpu.memoryUsedMiB !== undefined && gpu.memoryTotalMiB) {
      metrics[`${prefix}memory_percent`] = round((100 * gpu.memoryUsedMiB) / gpu.memoryTotalMiB);
    }
    if (gpu.temperatureC !== undefined) metrics[`${prefix}temperature_c`] = gpu.temperatureC;
    if (gpu.powerW !== undefined) metrics[`${prefix}power_w`] = gpu.powerW;
  }
  return metrics;
}

/** Reads the machine's counters; each source that fails is left out of the snapshot. */
export class SnapshotReader {
  readonly #linux = process.platform === 'linux';
  #blockDevices: Promise<ReadonlySet<string> | undefined> | undefined;

  async read(gpus: Promise<readonly GpuReading[]>): Promise<SystemSnapshot> {
    const usage = process.cpuUsage();
    const base = {
      time: Date.now(),
      rssBytes: process.memoryUsage.rss(),
      processCpuMicros: usage.user + usage.system,
    };
    if (!this.#linux) return { ...base, cpu: osCpuTimes(), memory: osMemory(), gpus: await gpus };
    this.#blockDevices ??= readdir('/sys/block').then(
      (names) => new Set(names),
      () => undefined,
    );
    const [stat, meminfo, diskstats, netDev, blockDevices, gpuReadings] = await Promise.all([
      readText('/proc/stat'),
      readText('/proc/meminfo'),
      readText('/proc/diskstats'),
      readText('/proc/net/dev'),
      this.#blockDevices,
      gpus,
    ]);
    const snapshot: SystemSnapshot = { ...base, gpus: gpuReadings };
    const cpu = stat === undefined ? osCpuTimes() : parseProcStat(stat);
    const memory = meminfo === undefined ? osMemory() : parseMeminfo(meminfo);
    const disk =
      diskstats === undefined ? undefined : parseDiskstats(diskstats, (name) => isWholeDisk(name, blockDevices));
    const network = netDev === undefined ? undefined : parseNetDev(netDev);
    if (cpu) snapshot.cpu = cpu;
    if (memory) snapshot.memory = memory;
    if (disk) snapshot.disk = disk;
    if (network) snapshot.network = network;
    return snapshot;
  }
}

function readText(path: string): Promise<string | undefined> {
  return readFile(path, 'latin1').catch(() => undefined);
}

function osCpuTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

function osMemory(): MemoryUse {
  return { usedBytes: totalmem() - freemem(), totalBytes: totalmem() };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

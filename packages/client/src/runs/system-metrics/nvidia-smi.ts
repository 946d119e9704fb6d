/**
 * GPU readings from the NVIDIA driver's own tool: `nvidia-smi --query-gpu=<fields>
 * --format=csv,noheader,nounits`, one line per GPU. Parsing is a pure function of that
 * text; querying answers nothing (silently) where the tool is missing or the driver is not
 * loaded, and after the first such failure never spawns it again.
 */
import { execFile } from 'node:child_process';

/** The fields asked for, in the order of the columns of each line. */
export const GPU_QUERY_FIELDS = [
  'index',
  'utilization.gpu',
  'memory.used',
  'memory.total',
  'temperature.gpu',
  'power.draw',
] as const;

/** One GPU's reading; a field the GPU does not report (`[N/A]`, `[Not Supported]`) is absent. */
export interface GpuReading {
  index: number;
  utilizationPercent?: number;
  memoryUsedMiB?: number;
  memoryTotalMiB?: number;
  temperatureC?: number;
  powerW?: number;
}

/**
 * The GPUs in the text `nvidia-smi` printed for {@link GPU_QUERY_FIELDS}; lines that do not
 * have the expected columns are skipped.
 *
 * @example
 * parseNvidiaSmi('0, 35, 1024, 81559, 41, 75.31\n');
 * // [{ index: 0, utilizationPercent: 35, memoryUsedMiB: 1024, memoryTotalMiB: 81559, temperatureC: 41, powerW: 75.31 }]
 */
export function parseNvidiaSmi(text: string): GpuReading[] {
  const gpus: GpuReading[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const columns = line.split(',').map((column) => column.trim());
    if (columns.length !== GPU_QUERY_FIELDS.length) continue;
    const [index, utilization, used, total, temperature, power] = columns.map(reading);
    if (index === undefined || !Number.isInteger(index)) continue;
    const gpu: GpuReading = { index };
    if (utilization !== undefined) gpu.utilizationPercent = utilization;
    if (used !== undefined) gpu.memoryUsedMiB = used;
    if (total !== undefined) gpu.memoryTotalMiB = total;
    if (temperature !== undefined) gpu.temperatureC = temperature;
    if (power !== undefined) gpu.powerW = power;
    gpus.push(gpu);
  }
  return gpus;
}

/** A column's number, or undefined for `[N/A]`, `[Not Supported]`, `N/A` and anything else. */
function reading(column: string | undefined): number | undefined {
  if (column === undefined || !/^-?\d+(\.\d+)?$/.test(column)) return undefined;
  return Number(column);
}

/** Spawns `nvidia-smi` while it works; answers no GPUs once it failed (not installed, no driver). */
export class NvidiaSmi {
  #working = true;
  readonly #command: string;

  constructor(command = 'nvidia-smi') {
    this.#command = command;
  }

  /** Whether GPUs are still being queried. */
  get working(): boolean {
    return this.#working;
  }

  query(): Promise<GpuReading[]> {
    if (!this.#working) return Promise.resolve([]);
    return new Promise((resolve) => {
      execFile(
        this.#command,
        [`--query-gpu=${GPU_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'],
        { timeout: 5000, windowsHide: true },
        (error, stdout) => {
          const gpus = error ? [] : parseNvidiaSmi(String(stdout));
          // Missing, no driver, or no GPU: stop asking rather than spawn it every interval.
          if (gpus.length === 0) this.#working = false;
          resolve(gpus);
        },
      );
    });
  }
}

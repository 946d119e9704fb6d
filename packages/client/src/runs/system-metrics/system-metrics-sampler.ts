/**
 * Samples the machine every interval while a run is open and hands each sample to the
 * run's metric writer as `system` metrics, at a step of seconds since the run started. The
 * timer is unref'd (it never keeps a process alive), reads are asynchronous and a sample
 * is a few small file reads plus, where GPUs answer, one `nvidia-smi`: `run.log` never
 * waits for it. `nvidia-smi` costs far more than the file reads (a process start and the
 * driver's initialisation), so its time is measured and GPUs are read only every so many
 * samples when a call takes more than half a percent of the interval: the sampler stays
 * under 1 % of one core on any machine.
 */
import { LarderError } from '@larder/protocol';
import { type GpuReading, NvidiaSmi } from './nvidia-smi.js';
import { SnapshotReader, type SystemSnapshot, systemMetricsBetween } from './system-snapshot.js';

export const DEFAULT_SYSTEM_METRICS_INTERVAL_MS = 10_000;
/** The share of the interval GPU queries may take, in wall-clock time (at least their CPU time). */
export const GPU_QUERY_BUDGET = 0.005;

export interface SystemMetricsSamplerOptions {
  /** Milliseconds between samples. Default 10 000. */
  intervalMs?: number;
  /** Milliseconds since the Unix epoch from which steps count (the run's start). */
  startTime: number;
  /** Receives each sample's metrics, its step (seconds since start) and time. */
  record: (metrics: Record<string, number>, step: number, time: number) => void;
  /** The GPU source; tests pass their own. */
  gpus?: { query(): Promise<readonly GpuReading[]> };
  /** The share of the interval GPU queries may take. Default {@link GPU_QUERY_BUDGET}. */
  gpuQueryBudget?: number;
}

export class SystemMetricsSampler {
  readonly intervalMs: number;
  readonly #options: SystemMetricsSamplerOptions;
  readonly #reader = new SnapshotReader();
  readonly #gpus: NonNullable<SystemMetricsSamplerOptions['gpus']>;
  #previous: SystemSnapshot | undefined;
  #timer: NodeJS.Timeout | undefined;
  #sampling: Promise<void> = Promise.resolve();
  #stopped = false;
  #samples = 0;
  /** GPUs are read every `#gpuEvery`-th sample (1: every sample). */
  #gpuEvery = 1;
  readonly #gpuBudget: number;

  constructor(options: SystemMetricsSamplerOptions) {
    const interval = options.intervalMs ?? DEFAULT_SYSTEM_METRICS_INTERVAL_MS;
    if (!Number.isFinite(interval) || interval < 50) {
      throw new LarderError(
        'BadRequest',
        `systemMetricsIntervalMs is a number of milliseconds, at least 50, not ${String(options.intervalMs)}`,
      );
    }
    this.intervalMs = interval;
    this.#options = options;
    this.#gpus = options.gpus ?? new NvidiaSmi();
    this.#gpuBudget = options.gpuQueryBudget ?? GPU_QUERY_BUDGET;
  }

  /** Takes the first reading (rates need two) and schedules the next. */
  start(): void {
    this.#sampling = this.#sample();
  }

  /** Stops sampling; resolves once a sample in progress is recorded. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#sampling;
  }

  /** GPU readings if this sample asks for them; adapts how often from the time the call took. */
  #queryGpus(): Promise<readonly GpuReading[]> {
    if (this.#samples++ % this.#gpuEvery !== 0) return Promise.resolve([]);
    const started = performance.now();
    return this.#gpus.query().then((gpus) => {
      const spent = performance.now() - started;
      this.#gpuEvery = Math.max(1, Math.ceil(spent / (this.intervalMs * this.#gpuBudget)));
      return gpus;
    });
  }

  async #sample(): Promise<void> {
    try {
      const snapshot = await this.#reader.read(this.#queryGpus());
      if (this.#stopped) return;
      if (this.#previous) {
        const step = Math.round(snapshot.time - this.#options.startTime) / 1000;
        this.#options.record(systemMetricsBetween(this.#previous, snapshot), step, snapshot.time);
      }
      this.#previous = snapshot;
    } catch {
      // A failed reading is a missing sample, never an error in the training process.
    } finally {
      if (!this.#stopped) {
        this.#timer = setTimeout(() => {
          this.#sampling = this.#sample();
        }, this.intervalMs);
        this.#timer.unref();
      }
    }
  }
}

// The background sampler of the machine's `system` metrics while a run is open.
export { GPU_QUERY_FIELDS, type GpuReading, NvidiaSmi, parseNvidiaSmi } from './nvidia-smi.js';
export {
  DEFAULT_SYSTEM_METRICS_INTERVAL_MS,
  SystemMetricsSampler,
  type SystemMetricsSamplerOptions,
} from './system-metrics-sampler.js';

/**
 * Metric types: `train`, `val` and `test` have aliases; any other string is a custom type
 * kept as given.
 */
import { LarderError } from '../errors.js';

/**
 * The type of the machine's own metrics (CPU, memory, disk, network, GPUs), recorded by the
 * SDK in the background while a run is open; charted apart from the training metrics.
 */
export const SYSTEM_METRIC_TYPE = 'system';

const ALIASES: Readonly<Record<string, string>> = {
  train: 'train',
  training: 'train',
  val: 'val',
  validate: 'val',
  validation: 'val',
  test: 'test',
  testing: 'test',
  eval: 'test',
  evaluate: 'test',
  evaluation: 'test',
};

/**
 * The canonical type for what was passed to `run.log`.
 *
 * @example
 * normalizeMetricType('validation'); // 'val'
 * normalizeMetricType('eval'); // 'test'
 * normalizeMetricType('lr-schedule'); // 'lr-schedule'
 */
export function normalizeMetricType(type: string): string {
  if (typeof type !== 'string' || type.trim() === '') {
    throw new LarderError('BadRequest', 'A metric type is a non-empty string such as "train", "val" or "test"');
  }
  return ALIASES[type.trim().toLowerCase()] ?? type.trim();
}

/**
 * MLflow metric keys and Larder metric series, one to one. Larder keys a series by (type,
 * name), where a name may not hold `.` or `$` (they would break the `metrics.<type>.<name>`
 * summary paths runs are sorted on). So:
 *
 * - `<type>/<rest>` with a valid type other than `mlflow` is the series (type, rest): MLflow's
 *   `val/loss` is Larder's `val` series `loss`, and Larder's `train/loss` reads as `train/loss`;
 * - any other key is a series of type `mlflow` named after the whole key (`loss`, `mlflow/x`);
 * - in names, `%` is written `%25`, `.` `%2E` and `$` `%24` (and read back).
 *
 * No type normalisation happens here (`training/x` stays type `training`), so every key
 * reads back exactly as it was logged.
 */
import { MlflowError } from '../mlflow-errors.js';

export const MLFLOW_METRIC_TYPE = 'mlflow';

const MAX_PART = 128;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const BAD_PART = /[\u0000-\u001f\u007f.$]/;

const encodeName = (text: string) => text.replaceAll('%', '%25').replaceAll('.', '%2E').replaceAll('$', '%24');
const decodeName = (text: string) => text.replace(/%(25|2E|24)/gi, (_, code: string) => decodeURIComponent(`%${code}`));

const validPart = (text: string) => text !== '' && text.length <= MAX_PART && !BAD_PART.test(text);

/** Keys already mapped, so a batch of a thousand points on one key maps it once (bounded). */
const known = new Map<string, { type: string; name: string }>();
const KNOWN_LIMIT = 10_000;

/** The Larder series of an MLflow metric key. */
export function seriesOfMetricKey(key: string): { type: string; name: string } {
  const hit = known.get(key);
  if (hit) return { ...hit };
  const series = mapKey(key);
  if (known.size >= KNOWN_LIMIT) known.clear();
  known.set(key, series);
  return { ...series };
}

function mapKey(key: string): { type: string; name: string } {
  const cut = key.indexOf('/');
  if (cut > 0) {
    const type = key.slice(0, cut);
    const name = encodeName(key.slice(cut + 1));
    if (type !== MLFLOW_METRIC_TYPE && validPart(type) && validPart(name)) return { type, name };
  }
  const name = encodeName(key);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (name === '' || name.length > MAX_PART || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new MlflowError(
      'INVALID_PARAMETER_VALUE',
      `Metric key ${JSON.stringify(key.slice(0, 60))} cannot be stored: keys are 1-${MAX_PART} characters (".", "$" and "%" count as 3) without control characters`,
    );
  }
  return { type: MLFLOW_METRIC_TYPE, name };
}

/** The MLflow metric key of a Larder series. */
export function metricKeyOfSeries(type: string, name: string): string {
  return type === MLFLOW_METRIC_TYPE ? decodeName(name) : `${type}/${decodeName(name)}`;
}

/**
 * MLflow's limits on what a run holds, checked before anything is written: key names
 * (letters, digits, `_ - . / :` and spaces; at most 250 characters, no `..` path tricks),
 * param values up to 6000 characters, tag values up to 8000, and log-batch sizes (1000
 * metrics, 100 params, 100 tags, 1000 in all).
 */
import { MlflowError } from '../mlflow-errors.js';
import type { KeyValue } from '../mlflow-request-fields.js';

export const MAX_KEY_LENGTH = 250;
export const MAX_PARAM_VALUE_LENGTH = 6000;
export const MAX_TAG_VALUE_LENGTH = 8000;
export const MAX_BATCH = { metrics: 1000, params: 100, tags: 100, total: 1000 } as const;

const KEY = /^[\w\-./ :]*$/u;

function invalid(message: string): MlflowError {
  return new MlflowError('INVALID_PARAMETER_VALUE', message);
}

/** Keys already found valid (validity depends on the key alone), so batches check each key once. */
const validKeys = new Set<string>();
const VALID_KEYS_LIMIT = 10_000;

export function assertKey(key: string, what: string): void {
  if (validKeys.has(key)) return;
  checkKey(key, what);
  if (validKeys.size >= VALID_KEYS_LIMIT) validKeys.clear();
  validKeys.add(key);
}

function checkKey(key: string, what: string): void {
  if (key === '') throw invalid(`A ${what} key must not be empty`);
  if (key.length > MAX_KEY_LENGTH) {
    throw invalid(`The ${what} key '${key.slice(0, 40)}…' is ${key.length} characters; at most ${MAX_KEY_LENGTH}`);
  }
  if (!KEY.test(key)) {
    throw invalid(
      `Invalid ${what} name '${key.slice(0, 60)}': names may hold only letters, digits, underscores, dashes, periods, slashes, colons and spaces`,
    );
  }
  if (key.split('/').some((part) => part === '..' || part === '.') || key.startsWith('/')) {
    throw invalid(`Invalid ${what} name '${key.slice(0, 60)}': it may not be or contain a relative path like '..'`);
  }
}

export function assertParam({ key, value }: KeyValue): void {
  assertKey(key, 'param');
  if (value.length > MAX_PARAM_VALUE_LENGTH) {
    throw invalid(`The value of param '${key}' is ${value.length} characters; at most ${MAX_PARAM_VALUE_LENGTH}`);
  }
}

export function assertTag({ key, value }: KeyValue): void {
  assertKey(key, 'tag');
  if (value.length > MAX_TAG_VALUE_LENGTH) {
    throw invalid(`The value of tag '${key}' is ${value.length} characters; at most ${MAX_TAG_VALUE_LENGTH}`);
  }
}

export function assertBatchSize(metrics: number, params: number, tags: number): void {
  if (metrics > MAX_BATCH.metrics || params > MAX_BATCH.params || tags > MAX_BATCH.tags) {
    throw invalid(
      `A batch holds at most ${MAX_BATCH.metrics} metrics, ${MAX_BATCH.params} params and ${MAX_BATCH.tags} tags (got ${metrics}, ${params}, ${tags})`,
    );
  }
  if (metrics + params + tags > MAX_BATCH.total) {
    throw invalid(`A batch holds at most ${MAX_BATCH.total} metrics, params and tags in all`);
  }
}

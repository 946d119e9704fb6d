/**
 * MLflow's artifact proxy, `/api/2.0/mlflow-artifacts/artifacts/<path>` (put, get, list,
 * delete) and `/api/2.0/mlflow-artifacts/mpu/{create,complete,abort}/<path>` (multipart),
 * over content-addressed blobs held by the run's records. Streams both ways.
 */
import type { Context, Next } from 'koa';
import type { FeatureContext } from '../../../app/feature.js';

export function artifactProxyRoute(_context: FeatureContext) {
  return async (_ctx: Context, next: Next): Promise<void> => next();
}

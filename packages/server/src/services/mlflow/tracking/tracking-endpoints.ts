/**
 * MLflow tracking endpoints (experiments, runs, metrics, params, tags, datasets, search)
 * over Larder's folders, runs and metric store.
 */
import type { EndpointDeps, EndpointTable } from '../mlflow-endpoints.js';

export function trackingEndpoints(_deps: EndpointDeps): EndpointTable {
  return {};
}

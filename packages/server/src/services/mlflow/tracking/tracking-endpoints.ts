/**
 * MLflow tracking endpoints (experiments, runs, metrics, params, tags, datasets, search)
 * over Larder's folders, runs and metric store; the mapping is in `docs/mlflow.md`.
 */
import type { EndpointDeps, EndpointTable } from '../mlflow-endpoints.js';
import { serverInfoEndpoints } from '../server-info-endpoint.js';
import { experimentEndpoints } from './experiment-endpoints.js';
import { metricEndpoints } from './metric-endpoints.js';
import { runEndpoints } from './run-endpoints.js';
import { searchDatasetsEndpoints } from './search-datasets-endpoint.js';
import { searchRunsEndpoints } from './search-runs-endpoint.js';

export function trackingEndpoints(deps: EndpointDeps): EndpointTable {
  return {
    ...experimentEndpoints(deps),
    ...runEndpoints(deps),
    ...metricEndpoints(deps),
    ...searchRunsEndpoints(deps),
    ...searchDatasetsEndpoints(deps),
    ...serverInfoEndpoints(deps.blobs),
  };
}

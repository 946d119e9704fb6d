/**
 * The MLflow face: MLflow's REST API (`/api/2.0/mlflow/…`, `/ajax-api/2.0/mlflow/…`) and its
 * artifact proxy, so MLflow's own Python client works against Larder unchanged. A thin
 * translation over Larder's folders, runs, metric store, blobs and registry; errors leave
 * as MLflow's `{ error_code, message }`.
 */
import type { FeatureContext } from '../../app/feature.js';
import { removeArtifactsWithRuns } from './artifacts/artifact-cleanup.js';
import { artifactProxyRoute } from './artifacts/artifact-proxy-route.js';
import { artifactUiEndpoints, artifactUiPathsRoute } from './artifacts/artifact-ui-endpoints.js';
import { mlflowApiRoute } from './mlflow-api-route.js';
import type { EndpointTable } from './mlflow-endpoints.js';
import { pathParametersRoute } from './registry/path-parameters.js';
import { registryContext } from './registry/registry-context.js';
import { registryEndpoints } from './registry/registry-endpoints.js';
import { traceEndpoints } from './tracing/trace-endpoints.js';
import { trackingEndpoints } from './tracking/tracking-endpoints.js';

/**
 * Every endpoint of the face's dispatcher, keyed `"<METHOD> <path>"` with path parameters as
 * `{name}` (what the hostile-input suite calls, so an endpoint added here is attacked there).
 * Building the table only captures the context's stores; no handler runs.
 */
export function mlflowEndpoints(context: FeatureContext): EndpointTable {
  return {
    ...trackingEndpoints(context),
    ...registryEndpoints(context),
    ...traceEndpoints(registryContext(context)),
    ...artifactUiEndpoints(context),
  };
}

export function installMlflow(context: FeatureContext): void {
  context.useRoute(artifactProxyRoute(context));
  removeArtifactsWithRuns(context);
  context.useRoute(pathParametersRoute());
  context.useRoute(artifactUiPathsRoute());
  context.useRoute(mlflowApiRoute(context, mlflowEndpoints(context)));
}

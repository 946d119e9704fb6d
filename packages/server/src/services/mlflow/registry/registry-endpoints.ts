/**
 * MLflow model registry endpoints (registered models, model versions, aliases, stages) and
 * MLflow 3 logged models, over Larder's registry and the MLflow face's artifact records.
 */
import type { EndpointDeps, EndpointTable } from '../mlflow-endpoints.js';
import { loggedModelEndpoints } from './logged-model-endpoints.js';
import { modelVersionEndpoints } from './model-version-endpoints.js';
import { registeredModelEndpoints } from './registered-model-endpoints.js';
import { registryContext } from './registry-context.js';

export function registryEndpoints(deps: EndpointDeps): EndpointTable {
  const context = registryContext(deps);
  return {
    ...registeredModelEndpoints(context),
    ...modelVersionEndpoints(context),
    ...loggedModelEndpoints(context),
  };
}

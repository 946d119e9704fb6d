/**
 * MLflow model registry endpoints (registered models, model versions, aliases, stages) and
 * MLflow 3 logged models, over Larder's registry.
 */
import type { EndpointDeps, EndpointTable } from '../mlflow-endpoints.js';

export function registryEndpoints(_deps: EndpointDeps): EndpointTable {
  return {};
}

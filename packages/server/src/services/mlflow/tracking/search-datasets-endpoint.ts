/**
 * MLflow's `experiments/search-datasets` (the UI's dataset filter): the distinct datasets
 * (name, digest, and the `mlflow.data.context` tag of the input) the caller's readable runs
 * of up to 20 experiments logged with `log_inputs`, as dataset summaries.
 */
import { and, eq } from '@larder/protocol';
import type { AccessPolicy } from '../../../auth/access-policy.js';
import { RUNS_COLLECTION } from '../../runs/runs-service.js';
import type { EndpointDeps, EndpointTable } from '../mlflow-endpoints.js';
import { MlflowError } from '../mlflow-errors.js';
import { stringList } from '../mlflow-request-fields.js';
import { ExperimentFolders } from './experiment-folders.js';
import type { RunRecord } from './run-records.js';

const MAX_EXPERIMENTS = 20;
const CONTEXT_TAG = 'mlflow.data.context';
const PAGE = 5000;

export function searchDatasetsEndpoints(deps: EndpointDeps): EndpointTable {
  const experiments = new ExperimentFolders(deps);

  return {
    'POST /experiments/search-datasets': async (call) => {
      const ids = [...new Set(stringList(call.request, 'experiment_ids'))];
      if (ids.length === 0) {
        throw new MlflowError(
          'INVALID_PARAMETER_VALUE',
          'SearchDatasets request must specify at least one experiment_id.',
        );
      }
      if (ids.length > MAX_EXPERIMENTS) {
        throw new MlflowError(
          'INVALID_PARAMETER_VALUE',
          `SearchDatasets request cannot specify more than ${MAX_EXPERIMENTS} experiment_ids. Received ${ids.length} experiment_ids.`,
        );
      }
      const policy = (deps.app.service('runs') as unknown as { policy: AccessPolicy }).policy;
      const summaries = new Map<string, Record<string, string>>();
      for (const id of ids) {
        let folder: Awaited<ReturnType<ExperimentFolders['byId']>>;
        try {
          folder = await experiments.byId(call, id);
        } catch (error) {
          // As for runs: an id naming nothing the caller may see adds nothing.
          if (error instanceof MlflowError && error.errorCode === 'RESOURCE_DOES_NOT_EXIST') continue;
          throw error;
        }
        const experimentId = experiments.idOf(call.actor, folder);
        const filter = and(
          eq(['folder'], folder.path),
          { op: 'exists', path: ['mlflow', 'datasets'], value: true },
          policy.readFilter(call.actor),
        );
        for (let skip = 0; ; skip += PAGE) {
          const runs = (await deps.store.find(RUNS_COLLECTION, {
            filter,
            sort: [{ path: ['_id'], direction: 1 }],
            skip,
            limit: PAGE,
          })) as unknown as RunRecord[];
          for (const run of runs) {
            for (const dataset of run.mlflow?.datasets ?? []) {
              const context = dataset.tags?.find((tag) => tag.key === CONTEXT_TAG)?.value;
              const summary = {
                experiment_id: experimentId,
                name: dataset.name,
                digest: dataset.digest,
                ...(context === undefined ? {} : { context }),
              };
              summaries.set(JSON.stringify(summary), summary);
            }
          }
          if (runs.length < PAGE) break;
        }
      }
      return { dataset_summaries: [...summaries.values()] };
    },
  };
}

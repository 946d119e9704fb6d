/**
 * MLflow's `runs/search`: the experiments named (each read as the caller), the lifecycle
 * view (ids naming nothing the caller may see add nothing), and the filter string compiled to Larder's query language, all in one store query
 * ANDed with the runs service's own read filter (the folder policy), sorted by `order_by`
 * and paged by offset tokens. MLflow's limits: at most 50,000 runs a page, 1000 by default.
 */
import { and, eq, or } from '@larder/protocol';
import type { AccessPolicy } from '../../../auth/access-policy.js';
import { RUNS_COLLECTION } from '../../runs/runs-service.js';
import type { EndpointDeps, EndpointTable, MlflowCall } from '../mlflow-endpoints.js';
import { MlflowError } from '../mlflow-errors.js';
import { optionalEnum, optionalInteger, optionalString, stringList } from '../mlflow-request-fields.js';
import { parseFilterString } from '../search/filter-parser.js';
import { offsetOfPageToken, pageTokenOf, runSortKeys } from '../search/order-by.js';
import { compileRunFilter } from '../search/run-filter.js';
import { VIEW_TYPE_NUMBERS, VIEW_TYPES, viewFilter } from './experiment-endpoints.js';
import { ExperimentFolders } from './experiment-folders.js';
import { type RunRecord, toMlflowRun } from './run-records.js';

const MAX_RUNS = 50_000;
const DEFAULT_RUNS = 1000;

export function searchRunsEndpoints(deps: EndpointDeps): EndpointTable {
  const experiments = new ExperimentFolders(deps);

  const search = async (call: MlflowCall) => {
    const { request, actor } = call;
    const maxResults = optionalInteger(request, 'max_results') ?? DEFAULT_RUNS;
    if (maxResults < 1 || maxResults > MAX_RUNS) {
      throw new MlflowError(
        'INVALID_PARAMETER_VALUE',
        `Invalid value ${maxResults} for parameter 'max_results' supplied: it must be from 1 to ${MAX_RUNS}`,
      );
    }
    const view = optionalEnum(request, 'run_view_type', VIEW_TYPES, VIEW_TYPE_NUMBERS) ?? 'ACTIVE_ONLY';
    const filter = compileRunFilter(parseFilterString(optionalString(request, 'filter')));
    const sort = runSortKeys(stringList(request, 'order_by'));
    const offset = offsetOfPageToken(optionalString(request, 'page_token'));
    // As in MLflow, an experiment id that names nothing (or nothing the caller may see) adds no runs.
    const folders: string[] = [];
    const experimentIds = new Map<string, string>();
    for (const id of new Set(stringList(request, 'experiment_ids'))) {
      try {
        const folder = await experiments.byId(call, id);
        folders.push(folder.path);
        experimentIds.set(folder.path, experiments.idOf(actor, folder));
      } catch (error) {
        if (!(error instanceof MlflowError && error.errorCode === 'RESOURCE_DOES_NOT_EXIST')) throw error;
      }
    }
    if (folders.length === 0) return { runs: [] };
    const policy = (deps.app.service('runs') as unknown as { policy: AccessPolicy }).policy;
    const found = await deps.store.find(RUNS_COLLECTION, {
      filter: and(
        or(...folders.map((path) => eq(['folder'], path))),
        viewFilter(view),
        filter,
        policy.readFilter(actor),
      ),
      sort,
      skip: offset,
      limit: maxResults + 1,
    });
    return {
      runs: (found.slice(0, maxResults) as RunRecord[]).map((record) =>
        toMlflowRun(actor, record, experimentIds.get(record.folder ?? '')),
      ),
      ...(found.length > maxResults ? { next_page_token: pageTokenOf(offset + maxResults) } : {}),
    };
  };

  return { 'POST /runs/search': search };
}

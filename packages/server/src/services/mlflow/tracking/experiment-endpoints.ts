/**
 * MLflow's experiment endpoints over folders: create, get, get-by-name, search (POST and
 * GET), delete and restore (the folder's MLflow lifecycle stage, and its runs' with it, as
 * MLflow does), experiment tags, and renames (`experiment-rename.ts`), which keep the id.
 */
import { isAbsolute, resolve } from 'node:path';
import { and, eq, type Filter, not, type SortKey } from '@larder/protocol';
import type { AccessPolicy } from '../../../auth/access-policy.js';
import type { StoredDocument } from '../../../stores/document-store.js';
import { FOLDERS_COLLECTION } from '../../folders/folder-tree.js';
import type { EndpointDeps, EndpointTable, MlflowCall } from '../mlflow-endpoints.js';
import { MlflowError } from '../mlflow-errors.js';
import {
  keyValues,
  optionalEnum,
  optionalInteger,
  optionalString,
  requiredString,
  stringList,
} from '../mlflow-request-fields.js';
import { compileExperimentFilter, experimentSortKeys } from '../search/experiment-filter.js';
import { parseFilterString } from '../search/filter-parser.js';
import { offsetOfPageToken, pageTokenOf } from '../search/order-by.js';
import { type ExperimentFolder, ExperimentFolders, NOTE_TAG } from './experiment-folders.js';
import { renameExperiment } from './experiment-rename.js';
import { assertTag } from './tracking-limits.js';

export const VIEW_TYPES = ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'] as const;
export type ViewType = (typeof VIEW_TYPES)[number];
export const VIEW_TYPE_NUMBERS: Record<number, ViewType> = { 1: 'ACTIVE_ONLY', 2: 'DELETED_ONLY', 3: 'ALL' };

const MAX_EXPERIMENTS = 50_000;
const DEFAULT_EXPERIMENTS = 1000;

/** Records of a lifecycle view: `mlflow.lifecycleStage` is `deleted`, or not. */
export function viewFilter(view: ViewType): Filter {
  const deleted = eq(['mlflow', 'lifecycleStage'], 'deleted');
  if (view === 'ALL') return and();
  return view === 'DELETED_ONLY' ? deleted : not(deleted);
}

/** A plain relative path is resolved against the server's directory, as MLflow's server does; URIs are kept. */
function resolvedLocation(location: string | undefined): string | undefined {
  if (location === undefined || /^[A-Za-z][A-Za-z0-9+.-]*:/.test(location) || isAbsolute(location)) return location;
  return resolve(process.cwd(), location);
}

export function experimentEndpoints(deps: EndpointDeps): EndpointTable {
  const experiments = new ExperimentFolders(deps);

  const setRunsStage = async (call: MlflowCall, folder: ExperimentFolder, stage: 'active' | 'deleted') => {
    await deps.app
      .service('runs')
      .patch(
        null,
        { 'mlflow.lifecycleStage': stage, 'mlflow.deletedTime': stage === 'deleted' ? Date.now() : null },
        { ...call.params, query: { folder: folder.path } },
      );
  };

  /**
   * An order on the name is an order on MLflow's names: the caller's `default` folder is
   * `Default`, so it sorts among the capitals (byte order, as MLflow's SQL store sorts). The
   * caller's experiments are ordered here rather than in the store; there are rarely many.
   */
  const byMlflowName = async (call: MlflowCall, filter: Filter, sort: SortKey[], skip: number, limit: number) => {
    const all = (await deps.store.find(FOLDERS_COLLECTION, {
      filter,
      limit: MAX_EXPERIMENTS + skip + 1,
    })) as unknown as ExperimentFolder[];
    const sortValue = (folder: ExperimentFolder, path: readonly (string | number)[]): unknown =>
      path.length === 1 && path[0] === 'path'
        ? experiments.nameOf(call.actor, folder.path)
        : path.reduce<unknown>((value, key) => (value as Record<string | number, unknown> | undefined)?.[key], folder);
    const compare = (a: unknown, b: unknown) =>
      a === b ? 0 : a == null ? -1 : b == null ? 1 : (a as string) < (b as string) ? -1 : 1;
    all.sort((a, b) => {
      for (const key of [...sort, { path: ['_id'], direction: 1 } as SortKey]) {
        const order = compare(sortValue(a, key.path), sortValue(b, key.path)) * key.direction;
        if (order !== 0) return order;
      }
      return 0;
    });
    return all.slice(skip, skip + limit) as unknown as StoredDocument[];
  };

  const search = async (call: MlflowCall) => {
    const { request, actor } = call;
    const maxResults = optionalInteger(request, 'max_results') ?? DEFAULT_EXPERIMENTS;
    if (maxResults < 1 || maxResults > MAX_EXPERIMENTS) {
      throw new MlflowError(
        'INVALID_PARAMETER_VALUE',
        `Invalid value ${maxResults} for parameter 'max_results': it must be from 1 to ${MAX_EXPERIMENTS}`,
      );
    }
    const view = optionalEnum(request, 'view_type', VIEW_TYPES, VIEW_TYPE_NUMBERS) ?? 'ACTIVE_ONLY';
    const offset = offsetOfPageToken(optionalString(request, 'page_token'));
    const sort = experimentSortKeys(stringList(request, 'order_by'));
    const policy = (deps.app.service('folders') as unknown as { policy: AccessPolicy }).policy;
    // The caller's default experiment exists before anyone lists it, as MLflow's does.
    await experiments.defaultFolder(call);
    const filter = and(
      policy.readFilter(actor),
      // Homes and organisations' roots hold experiments; they are not experiments themselves.
      not(eq(['parent'], null)),
      viewFilter(view),
      compileExperimentFilter(actor, parseFilterString(optionalString(request, 'filter'))),
    );
    const page = sort.some((key) => key.path.length === 1 && key.path[0] === 'path')
      ? await byMlflowName(call, filter, sort, offset, maxResults + 1)
      : await deps.store.find(FOLDERS_COLLECTION, { filter, sort, skip: offset, limit: maxResults + 1 });
    const shown = page.slice(0, maxResults) as unknown as ExperimentFolder[];
    return {
      experiments: shown.map((folder) => experiments.toExperiment(actor, folder)),
      ...(page.length > maxResults ? { next_page_token: pageTokenOf(offset + maxResults) } : {}),
    };
  };

  return {
    'POST /experiments/create': async (call) => {
      const name = requiredString(call.request, 'name');
      const tags = keyValues(call.request.tags, 'tags');
      for (const tag of tags) assertTag(tag);
      const artifactLocation = resolvedLocation(optionalString(call.request, 'artifact_location', true));
      const folder = await experiments.create(call, name);
      const note = tags.find((tag) => tag.key === NOTE_TAG);
      if (note) await experiments.setDescription(call, folder, note.value);
      await experiments.changeState(call, folder, (state) => ({
        ...state,
        lifecycleStage: 'active',
        tags: Object.fromEntries(tags.filter((tag) => tag.key !== NOTE_TAG).map((tag) => [tag.key, tag.value])),
        ...(artifactLocation ? { artifactLocation } : {}),
      }));
      return { experiment_id: experiments.idOf(call.actor, folder) };
    },

    'GET /experiments/get': async (call) => {
      const folder = await experiments.byId(call, requiredString(call.request, 'experiment_id'));
      return { experiment: experiments.toExperiment(call.actor, folder) };
    },

    'GET /experiments/get-by-name': async (call) => {
      const name = requiredString(call.request, 'experiment_name');
      const folder = await experiments.byName(call, name);
      if (!folder) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Could not find experiment with name '${name}'`);
      return { experiment: experiments.toExperiment(call.actor, folder) };
    },

    'POST /experiments/search': search,
    'GET /experiments/search': search,

    'POST /experiments/delete': async (call) => {
      const folder = await experiments.byId(call, requiredString(call.request, 'experiment_id'));
      await experiments.changeState(call, folder, (state) => ({ ...state, lifecycleStage: 'deleted' }));
      await setRunsStage(call, folder, 'deleted');
      return {};
    },

    'POST /experiments/restore': async (call) => {
      const folder = await experiments.byId(call, requiredString(call.request, 'experiment_id'));
      await experiments.changeState(call, folder, (state) => ({ ...state, lifecycleStage: 'active' }));
      await setRunsStage(call, folder, 'active');
      return {};
    },

    'POST /experiments/update': async (call) => {
      const folder = await experiments.byId(call, requiredString(call.request, 'experiment_id'));
      await renameExperiment(deps, experiments, call, folder, requiredString(call.request, 'new_name'));
      return {};
    },

    'POST /experiments/set-experiment-tag': async (call) => {
      const folder = await experiments.byId(call, requiredString(call.request, 'experiment_id'));
      const key = requiredString(call.request, 'key');
      const value = optionalString(call.request, 'value') ?? '';
      assertTag({ key, value });
      if (key === NOTE_TAG) await experiments.setDescription(call, folder, value);
      else
        await experiments.changeState(call, folder, (state) => ({ ...state, tags: { ...state.tags, [key]: value } }));
      return {};
    },

    'POST /experiments/delete-experiment-tag': async (call) => {
      const folder = await experiments.byId(call, requiredString(call.request, 'experiment_id'));
      const key = requiredString(call.request, 'key');
      if (key === NOTE_TAG) {
        await experiments.setDescription(call, folder, '');
        return {};
      }
      if (!Object.hasOwn(folder.mlflow?.tags ?? {}, key)) {
        throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `No tag with key '${key}' in experiment ${folder._id}`);
      }
      await experiments.changeState(call, folder, (state) => {
        const tags = { ...state.tags };
        delete tags[key];
        return { ...state, tags };
      });
      return {};
    },
  };
}

/**
 * Renaming an MLflow experiment. A folder's id derives from its path and MLflow's ids never
 * change, so a rename makes the folder of the new name, hands it the experiment's id and
 * state (`mlflow.experimentId`, tags, lifecycle, description), moves the runs into it through
 * the runs service, and removes the old folder. Experiments holding subfolders or Larder
 * artifacts (which do not move) are refused before anything changes.
 */
import { eq, or } from '@larder/protocol';
import { ARTIFACTS_COLLECTION } from '../../artifacts/artifacts-service.js';
import { FOLDERS_COLLECTION } from '../../folders/folder-tree.js';
import type { EndpointDeps, MlflowCall } from '../mlflow-endpoints.js';
import { MlflowError } from '../mlflow-errors.js';
import { defaultFolderOf, type ExperimentFolder, type ExperimentFolders } from './experiment-folders.js';

const PAGE = 500;

export async function renameExperiment(
  deps: EndpointDeps,
  experiments: ExperimentFolders,
  call: MlflowCall,
  folder: ExperimentFolder,
  newName: string,
): Promise<void> {
  const { actor } = call;
  const target = experiments.pathOfName(actor, newName);
  if (target === folder.path) return;
  if (folder.path === defaultFolderOf(actor) || target === defaultFolderOf(actor)) {
    throw new MlflowError('INVALID_STATE', 'The Default experiment is your default folder; it keeps its name');
  }
  if (!experiments.tree.mayWrite(folder, actor)) {
    throw new MlflowError('PERMISSION_DENIED', `You may read but not rename experiment ${folder.path}`);
  }
  if (await experiments.tree.get(target)) {
    throw new MlflowError('RESOURCE_ALREADY_EXISTS', `Experiment '${newName}' already exists`);
  }
  const below = await deps.store.count(FOLDERS_COLLECTION, eq(['ancestors'], folder.path));
  const artifacts = await deps.store.count(
    ARTIFACTS_COLLECTION,
    or(eq(['ancestors'], folder.path), eq(['folder'], folder.path)),
  );
  if (below > 0 || artifacts > 0) {
    throw new MlflowError(
      'INVALID_STATE',
      `Experiment '${experiments.nameOf(actor, folder.path)}' holds ${below > 0 ? 'folders' : 'Larder artifacts'}, which a rename cannot move; move them first`,
    );
  }
  const renamed = await experiments.create(call, newName);
  await experiments.changeState(call, renamed, () => ({
    ...folder.mlflow,
    experimentId: experiments.idOf(actor, folder),
  }));
  if (folder.description) await experiments.setDescription(call, renamed, folder.description);
  const runs = deps.app.service('runs');
  for (;;) {
    const page = (await runs.find({
      ...call.params,
      query: { folder: folder.path, $limit: PAGE, $select: ['_id'] },
    })) as { data: { _id: string }[] };
    if (page.data.length === 0) break;
    for (const run of page.data) await runs.patch(run._id, { folder: renamed.path }, call.params);
  }
  await deps.app.service('folders').remove(folder._id, call.params);
}

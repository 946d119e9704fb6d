/**
 * MLflow experiments are Larder folders. The name is the folder path relative to the
 * caller's home (`mnist` is `/<email>/mnist`), or absolute when it starts with `/`; the
 * experiment id is the folder's id (derived from its path), except that the caller's default
 * folder `/<email>/default` is MLflow's default experiment: id `0`, name `Default`. What
 * folders do not model (lifecycle stage, tags, artifact location) is kept on the folder
 * record under `mlflow`, written only after the folder policy's write check.
 */
import { eq, isValidRecordId, LarderError } from '@larder/protocol';
import type { Actor } from '../../../auth/actor.js';
import type { StoredDocument } from '../../../stores/document-store.js';
import { homeOf, resolveFolderPath } from '../../folders/folder-paths.js';
import { FOLDERS_COLLECTION, type FolderRecord, type FolderTree, folderId } from '../../folders/folder-tree.js';
import type { FoldersService } from '../../folders/folders-service.js';
import type { EndpointDeps, MlflowCall } from '../mlflow-endpoints.js';
import { MlflowError } from '../mlflow-errors.js';

export const DEFAULT_EXPERIMENT_ID = '0';
export const DEFAULT_EXPERIMENT_NAME = 'Default';
/** MLflow's experiment description tag, kept as the folder's description. */
export const NOTE_TAG = 'mlflow.note.content';

export interface ExperimentState {
  lifecycleStage?: 'active' | 'deleted';
  /** The id the experiment had before it was renamed into this folder (ids never change). */
  experimentId?: string;
  tags?: Record<string, string>;
  artifactLocation?: string;
}

export type ExperimentFolder = FolderRecord & { mlflow?: ExperimentState };

export function defaultFolderOf(actor: Actor): string {
  return `${homeOf(actor)}/default`;
}

/** The artifact root of an experiment, as MLflow's server with `--serve-artifacts` names it. */
export function experimentArtifactLocation(experimentId: string): string {
  return `mlflow-artifacts:/${experimentId}`;
}

const iso = (ms: number) => new Date(ms).toISOString();

export class ExperimentFolders {
  constructor(private readonly deps: EndpointDeps) {}

  private get folders(): FoldersService {
    return this.deps.app.service('folders') as unknown as FoldersService;
  }

  get tree(): FolderTree {
    return this.folders.tree;
  }

  /** The folder path an experiment name stands for. */
  pathOfName(actor: Actor, name: string): string {
    if (name === DEFAULT_EXPERIMENT_NAME) return defaultFolderOf(actor);
    try {
      return resolveFolderPath(name, homeOf(actor));
    } catch (error) {
      throw new MlflowError('INVALID_PARAMETER_VALUE', (error as Error).message, { cause: error });
    }
  }

  nameOf(actor: Actor, path: string): string {
    if (path === defaultFolderOf(actor)) return DEFAULT_EXPERIMENT_NAME;
    const home = `${homeOf(actor)}/`;
    return path.startsWith(home) ? path.slice(home.length) : path;
  }

  /** The experiment id of a folder: its folder id, the id it kept through a rename, `0` for the default. */
  idOf(actor: Actor, folder: ExperimentFolder): string {
    if (folder.path === defaultFolderOf(actor)) return DEFAULT_EXPERIMENT_ID;
    return folder.mlflow?.experimentId ?? folder._id;
  }

  /** The experiment id of the folder a run is in. */
  async idOfPath(actor: Actor, path: string): Promise<string> {
    if (path === defaultFolderOf(actor)) return DEFAULT_EXPERIMENT_ID;
    const folder = (await this.tree.get(path)) as ExperimentFolder | undefined;
    return folder ? this.idOf(actor, folder) : folderId(path);
  }

  /** The caller's default folder, made on first use. */
  async defaultFolder(call: MlflowCall): Promise<ExperimentFolder> {
    const path = defaultFolderOf(call.actor);
    const existing = await this.tree.get(path);
    if (existing) return (await this.folders.get(existing._id, call.params)) as unknown as ExperimentFolder;
    return (await this.folders.create({ path }, call.params)) as unknown as ExperimentFolder;
  }

  /** The folder of an experiment id the caller may read; RESOURCE_DOES_NOT_EXIST otherwise. */
  async byId(call: MlflowCall, experimentId: string): Promise<ExperimentFolder> {
    if (experimentId === DEFAULT_EXPERIMENT_ID) return this.defaultFolder(call);
    const notFound = new MlflowError('RESOURCE_DOES_NOT_EXIST', `No experiment with id ${experimentId} exists`);
    if (!isValidRecordId(experimentId)) throw notFound;
    try {
      return (await this.folders.get(experimentId, call.params)) as unknown as ExperimentFolder;
    } catch (error) {
      if (!(error instanceof LarderError && error.name === 'NotFound')) throw error;
    }
    // A renamed experiment lives on in the folder that took its id.
    const found = (await this.folders.find({
      ...call.params,
      query: { 'mlflow.experimentId': experimentId, $limit: 1 },
    })) as { data?: ExperimentFolder[] } | ExperimentFolder[];
    const folder = Array.isArray(found) ? found[0] : found.data?.[0];
    if (!folder) throw notFound;
    return folder;
  }

  /** The folder of an experiment name, or `undefined` when there is none the caller may read. */
  async byName(call: MlflowCall, name: string): Promise<ExperimentFolder | undefined> {
    const path = this.pathOfName(call.actor, name);
    if (path === defaultFolderOf(call.actor)) return this.defaultFolder(call);
    const folder = await this.tree.get(path);
    if (!folder) return undefined;
    try {
      return (await this.folders.get(folder._id, call.params)) as unknown as ExperimentFolder;
    } catch (error) {
      if (error instanceof LarderError && error.name === 'NotFound') return undefined;
      throw error;
    }
  }

  /** Makes the folder of a new experiment (RESOURCE_ALREADY_EXISTS if there is one). */
  async create(call: MlflowCall, name: string): Promise<ExperimentFolder> {
    const path = this.pathOfName(call.actor, name);
    if (await this.tree.get(path)) {
      throw new MlflowError('RESOURCE_ALREADY_EXISTS', `Experiment '${name}' already exists`);
    }
    return (await this.folders.create({ path, makeParents: true }, call.params)) as unknown as ExperimentFolder;
  }

  /** Changes the MLflow state of a folder the caller may write (PERMISSION_DENIED otherwise). */
  async changeState(
    call: MlflowCall,
    folder: ExperimentFolder,
    change: (state: ExperimentState) => ExperimentState,
  ): Promise<ExperimentFolder> {
    if (!this.tree.mayWrite(folder, call.actor)) {
      throw new MlflowError('PERMISSION_DENIED', `You may read but not change experiment ${folder.path}`);
    }
    const now = iso(Date.now());
    const [changed] = await this.deps.store.modify(FOLDERS_COLLECTION, eq(['_id'], folder._id), (record) => ({
      ...record,
      mlflow: change({ ...((record.mlflow ?? {}) as ExperimentState) }) as unknown as StoredDocument,
      updatedAt: now,
    }));
    return (changed?.after ?? folder) as unknown as ExperimentFolder;
  }

  /** Sets the folder's description (MLflow's note tag) through the folders service. */
  async setDescription(call: MlflowCall, folder: ExperimentFolder, description: string): Promise<void> {
    await this.folders.patch(folder._id, { description }, call.params);
  }

  /** The MLflow Experiment message of a folder. */
  toExperiment(actor: Actor, folder: ExperimentFolder): Record<string, unknown> {
    const id = this.idOf(actor, folder);
    const state = folder.mlflow ?? {};
    const tags = Object.entries(state.tags ?? {}).map(([key, value]) => ({ key, value }));
    if (folder.description) tags.push({ key: NOTE_TAG, value: folder.description });
    const created = Date.parse(folder.createdAt ?? '') || 0;
    return {
      experiment_id: id,
      name: this.nameOf(actor, folder.path),
      artifact_location: state.artifactLocation ?? experimentArtifactLocation(id),
      lifecycle_stage: state.lifecycleStage ?? 'active',
      last_update_time: Date.parse(folder.updatedAt ?? '') || created,
      creation_time: created,
      tags,
    };
  }
}

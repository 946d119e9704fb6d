/**
 * Who may read and write an artifact tree: the owning record decides, through its own
 * access policy, at the time of the call. A run's tree follows the run (the folder policy:
 * its owner, its folder's readers and writers); a logged model's follows its experiment's
 * folder, and so does a trace's; a registry version's follows the version (read-only here: versions are
 * immutable). Unreadable owners answer RESOURCE_DOES_NOT_EXIST, readable but unwritable ones
 * PERMISSION_DENIED, as everywhere in Larder.
 *
 * An MLflow run id is a Larder run `_id`; an MLflow experiment id is a Larder folder `_id`
 * (`0`: the caller's default folder), as `tracking/` maps them.
 */
import { and, eq, type Filter } from '@larder/protocol';
import { ownershipPolicy } from '../../../auth/access-policy.js';
import type { Actor } from '../../../auth/actor.js';
import { folderPolicy } from '../../../auth/folder-policy.js';
import type { DocumentStore, StoredDocument } from '../../../stores/document-store.js';
import { homeOf } from '../../folders/folder-paths.js';
import { FOLDERS_COLLECTION, folderId } from '../../folders/folder-tree.js';
import { MODEL_VERSIONS_COLLECTION } from '../../registry/models-service.js';
import { RUNS_COLLECTION } from '../../runs/runs-service.js';
import { MlflowError } from '../mlflow-errors.js';
import { artifactOwner } from './artifact-files.js';
import type { ArtifactRoot } from './artifact-locations.js';

export const LOGGED_MODELS_COLLECTION = '_mlflow_logged_models';
export const TRACES_COLLECTION = '_mlflow_traces';
/** MLflow's default experiment: the caller's own default folder. */
export const DEFAULT_EXPERIMENT_ID = '0';

export type Access = 'read' | 'write';

/** A tree the caller may use: the owner key of its records, and the record itself. */
export interface ArtifactTree {
  owner: string;
  record: StoredDocument;
  /** Version trees are served from the version's own file list, not from artifact records. */
  versionFiles?: { path: string; sha256: string; size: number }[];
}

export class ArtifactOwners {
  constructor(private readonly store: DocumentStore) {}

  /** The run, if the actor may read it (and write it, when asked). */
  async run(runId: string, actor: Actor, access: Access): Promise<StoredDocument> {
    return this.checked(
      RUNS_COLLECTION,
      runId,
      folderPolicy.readFilter(actor),
      folderPolicy.writeFilter(actor),
      access,
      'Run',
    );
  }

  /**
   * The folder an experiment id names, if the actor may read it (and write in it, when asked).
   * MLflow's default experiment `0` is the caller's own `/<home>/default`, as the tracking
   * endpoints map it.
   */
  async experiment(experimentId: string, actor: Actor, access: Access): Promise<StoredDocument> {
    return this.checked(
      FOLDERS_COLLECTION,
      experimentId === DEFAULT_EXPERIMENT_ID ? folderId(`${homeOf(actor)}/default`) : experimentId,
      folderPolicy.readFilter(actor),
      folderPolicy.writeFilter(actor),
      access,
      'Experiment',
    );
  }

  /** A folder by id, checked for `access`. */
  async folder(id: string, actor: Actor, access: Access): Promise<StoredDocument> {
    return this.checked(
      FOLDERS_COLLECTION,
      id,
      folderPolicy.readFilter(actor),
      folderPolicy.writeFilter(actor),
      access,
      'Experiment',
    );
  }

  /** A logged model, permitted by its experiment's folder. */
  async loggedModel(modelId: string, actor: Actor, access: Access): Promise<StoredDocument> {
    const [model] = await this.store.find(LOGGED_MODELS_COLLECTION, { filter: eq(['_id'], modelId), limit: 1 });
    const missing = new MlflowError(
      'RESOURCE_DOES_NOT_EXIST',
      `Logged model with ID '${modelId.slice(0, 80)}' not found`,
    );
    if (!model) throw missing;
    try {
      await this.folder(String(model.folderId), actor, access);
    } catch (error) {
      if (error instanceof MlflowError && error.errorCode === 'RESOURCE_DOES_NOT_EXIST') throw missing;
      throw error;
    }
    return model;
  }

  /** An MLflow 3 trace, permitted by its experiment's folder as a logged model is. */
  async trace(traceId: string, actor: Actor, access: Access): Promise<StoredDocument> {
    const [trace] = await this.store.find(TRACES_COLLECTION, { filter: eq(['_id'], traceId), limit: 1 });
    const missing = new MlflowError('RESOURCE_DOES_NOT_EXIST', `Trace with ID '${traceId.slice(0, 80)}' not found.`);
    if (!trace) throw missing;
    try {
      await this.folder(String(trace.folderId), actor, access);
    } catch (error) {
      if (error instanceof MlflowError && error.errorCode === 'RESOURCE_DOES_NOT_EXIST') throw missing;
      throw error;
    }
    return trace;
  }

  /** The tree a root names, checked for `access`. */
  async tree(root: ArtifactRoot, actor: Actor, access: Access): Promise<ArtifactTree> {
    if (root.kind === 'run') {
      const record = await this.run(root.runId, actor, access);
      return { owner: artifactOwner(RUNS_COLLECTION, record._id), record };
    }
    if (root.kind === 'logged-model') {
      const record = await this.loggedModel(root.modelId, actor, access);
      return { owner: artifactOwner(LOGGED_MODELS_COLLECTION, record._id), record };
    }
    if (root.kind === 'trace') {
      const record = await this.trace(root.traceId, actor, access);
      return { owner: artifactOwner(TRACES_COLLECTION, record._id), record };
    }
    if (access === 'write') {
      throw new MlflowError('PERMISSION_DENIED', 'Model version files are immutable: register a new version instead');
    }
    const [record] = await this.store.find(MODEL_VERSIONS_COLLECTION, {
      filter: and(eq(['_id'], root.versionId), ownershipPolicy.readFilter(actor)),
      limit: 1,
    });
    if (!record)
      throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Model version ${root.versionId.slice(0, 80)} not found`);
    const files = Array.isArray(record.files) ? (record.files as unknown as ArtifactTree['versionFiles']) : [];
    return { owner: artifactOwner(MODEL_VERSIONS_COLLECTION, record._id), record, versionFiles: files ?? [] };
  }

  private async checked(
    collection: string,
    id: string,
    readFilter: Filter,
    writeFilter: Filter,
    access: Access,
    noun: string,
  ): Promise<StoredDocument> {
    const [record] = await this.store.find(collection, { filter: and(eq(['_id'], id), readFilter), limit: 1 });
    if (!record) {
      const label =
        noun === 'Run' ? `Run '${id.slice(0, 80)}' not found` : `No ${noun.toLowerCase()} with id=${id.slice(0, 80)}`;
      throw new MlflowError('RESOURCE_DOES_NOT_EXIST', label);
    }
    if (access === 'write' && (await this.store.count(collection, and(eq(['_id'], id), writeFilter))) === 0) {
      throw new MlflowError('PERMISSION_DENIED', `You may read but not change this ${noun.toLowerCase()}`);
    }
    return record;
  }
}

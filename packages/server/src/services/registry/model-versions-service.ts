/**
 * `/model-versions`: the versions of registry models, each a PMF model or an MLflow model
 * directory (`format: "mlflow"`) whose files are blobs. A version is numbered by its model
 * (1, 2, 3… never reused), owned and shared as its model is, immutable once pushed except
 * for its description and its lineage (the runs that produced or used it; MLflow-format
 * versions also their stage and tags), and moves `latest` (plus any aliases asked for)
 * when created.
 *
 * Creating one checks everything before anything is written: the body's shape, the model's
 * write permission, and that the caller holds every file it names. A refused push leaves
 * no version, no alias move and no blob reference behind; so does one whose files a garbage
 * collection took meanwhile (503, checked by the document service before the version is
 * written), though its version number stays used.
 *
 * @example
 * POST /model-versions { "modelId": "01j…", "pmf": { … }, "files": [{ "path": "metadata.yaml", "sha256": "…", "size": 512 }], "aliases": ["production"] }
 * GET /model-versions?modelId=01j…&$sort[version]=-1
 * PATCH /model-versions/<id> { "usedBy": ["<runId>"] }
 */
import { and, eq, LarderError, newId } from '@larder/protocol';
import { ownershipPolicy } from '../../auth/access-policy.js';
import type { Actor } from '../../auth/actor.js';
import type { BlobStore } from '../../blobs/blob-store.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { type DocumentParams, DocumentService } from '../documents/document-service.js';
import { assertRecordData } from '../documents/record-data.js';
import { assertBlobsHeld } from './held-blobs.js';
import { mlflowStage, mlflowTags } from './mlflow-version-record.js';
import { parseVersionBody, runIds, type VersionFile } from './model-version-record.js';
import { MODEL_VERSIONS_COLLECTION, type ModelsService } from './models-service.js';
import { assertAlias } from './registry-names.js';

type Id = string | number | null;

export type LineageRelation = 'producedBy' | 'usedBy';

export interface ModelVersionsServiceOptions {
  store: DocumentStore;
  blobs: BlobStore;
  authEnabled: boolean;
  models: ModelsService;
  /** Publishes a change made outside the service methods (lineage links). */
  emitPatched: (record: StoredDocument) => void;
}

const PATCHABLE = new Set(['description', 'producedBy', 'usedBy']);
/** MLflow-format versions also change their legacy stage and their key-value tags. */
const MLFLOW_PATCHABLE = new Set(['mlflow.stage', 'mlflow.tags']);

export class ModelVersionsService extends DocumentService {
  private readonly blobs: BlobStore;
  private readonly models: ModelsService;
  private readonly emitPatched: (record: StoredDocument) => void;

  constructor(options: ModelVersionsServiceOptions) {
    super({
      store: options.store,
      collection: MODEL_VERSIONS_COLLECTION,
      policy: ownershipPolicy,
      authEnabled: options.authEnabled,
      blobs: options.blobs,
    });
    this.blobs = options.blobs;
    this.models = options.models;
    this.emitPatched = options.emitPatched;
  }

  override async create(data: unknown, params?: DocumentParams): Promise<StoredDocument> {
    if (Array.isArray(data)) throw new LarderError('BadRequest', 'Push one version at a time');
    assertRecordData(data);
    const actor = this.actor(params);
    const body = parseVersionBody(data);
    for (const alias of body.aliases) assertAlias(alias);
    await this.models.writableModel(body.modelId, actor);
    const named = body.files.map((file) => ({ label: file.path, sha256: file.sha256, size: file.size }));
    const held = await assertBlobsHeld(this.store, this.blobs, actor, named);

    const { model, version } = await this.models.nextVersionNumber(body.modelId, actor);
    const record: StoredDocument = {
      _id: newId(),
      ...(typeof model.userId === 'string' ? { userId: model.userId } : {}),
      public: model.public === true,
      modelId: model._id,
      modelName: model.name ?? null,
      version,
      description: body.description,
      ...(body.format === 'pmf'
        ? { pmf: body.pmf as unknown as StoredDocument[string] }
        : { format: 'mlflow', mlflow: body.mlflow as unknown as StoredDocument[string] }),
      files: body.files as unknown as StoredDocument[string],
      folders: body.folders,
      size: body.files.reduce((total, file) => total + file.size, 0),
      producedBy: body.producedBy,
      usedBy: body.usedBy,
    };
    // An internal create (the owner is the model's, whoever pushes), handed what the check
    // above found: a collection that took a file since fails it with 503, writing nothing.
    const created = (await super.create(record, held)) as StoredDocument;
    const moves: Record<string, number> = { latest: version };
    for (const alias of body.aliases) moves[alias] = version;
    await this.models.moveAliases(model._id, moves);
    return created;
  }

  override async patch(id: Id, data: unknown, params?: DocumentParams): Promise<StoredDocument> {
    if (id === null) throw new LarderError('BadRequest', 'Change versions one at a time: give the version id');
    assertRecordData(data, 'The patch');
    for (const key of Object.keys(data)) {
      if (!PATCHABLE.has(key) && !MLFLOW_PATCHABLE.has(key)) {
        throw new LarderError(
          'BadRequest',
          `A version is immutable except for ${[...PATCHABLE].join(', ')}: push a new version to change "${key.slice(0, 60)}"`,
        );
      }
    }
    if (data.description !== undefined && (typeof data.description !== 'string' || data.description.length > 10_000)) {
      throw new LarderError('BadRequest', 'description must be a string of at most 10000 characters');
    }
    const checked = { ...data };
    if (Object.keys(data).some((key) => MLFLOW_PATCHABLE.has(key))) {
      const current = (await super.get(id, params)) as StoredDocument;
      if (current.format !== 'mlflow') {
        throw new LarderError('BadRequest', 'Only MLflow-format versions have a stage and key-value tags');
      }
      if (data['mlflow.stage'] !== undefined) checked['mlflow.stage'] = mlflowStage(data['mlflow.stage']);
      if (data['mlflow.tags'] !== undefined) checked['mlflow.tags'] = mlflowTags(data['mlflow.tags'], 'mlflow.tags');
    }
    for (const relation of ['producedBy', 'usedBy'] as const) {
      if (data[relation] !== undefined) checked[relation] = runIds(data[relation], relation);
    }
    return (await super.patch(id, checked, params)) as StoredDocument;
  }

  override async remove(id: Id, params?: DocumentParams): Promise<StoredDocument | StoredDocument[]> {
    if (id === null) {
      // Only the server removes many versions at once: those of a removed model.
      if (params?.provider) throw new LarderError('BadRequest', 'Remove versions one at a time: give the version id');
      return super.remove(null, params);
    }
    const removed = (await super.remove(id, params)) as StoredDocument;
    const [newest] = await this.store.find(this.collection, {
      filter: eq(['modelId'], String(removed.modelId)),
      sort: [{ path: ['version'], direction: -1 }],
      limit: 1,
    });
    await this.models.forgetVersion(
      String(removed.modelId),
      Number(removed.version),
      newest ? Number(newest.version) : undefined,
    );
    return removed;
  }

  /**
   * Records that a run produced or used a version, atomically (concurrent runs never lose
   * each other's links). For server code such as the runs service; HTTP clients patch.
   *
   * @example
   * await versions.link(versionId, 'usedBy', run._id);
   */
  async link(versionId: string, relation: LineageRelation, runId: string): Promise<StoredDocument> {
    const [id] = runIds([runId], relation);
    const [changed] = await this.store.modify(this.collection, eq(['_id'], versionId), (version) => {
      const current = Array.isArray(version[relation]) ? (version[relation] as string[]) : [];
      if (current.includes(id as string)) return version;
      return { ...version, [relation]: [...current, id as string], updatedAt: new Date().toISOString() };
    });
    if (!changed) throw new LarderError('NotFound', `No model version ${versionId}`);
    this.emitPatched(changed.after);
    return changed.after;
  }

  /** A version's file by path, if the actor may read the version. */
  async readableFile(versionId: string, path: string, actor: Actor): Promise<VersionFile> {
    const [version] = await this.store.find(this.collection, {
      filter: and(eq(['_id'], versionId), this.policy.readFilter(actor)),
      limit: 1,
    });
    if (!version) throw new LarderError('NotFound', `No model version ${versionId} that you may read`);
    const file = (version.files as unknown as VersionFile[]).find((each) => each.path === path);
    if (!file) throw new LarderError('NotFound', `Model version ${versionId} has no file "${path.slice(0, 200)}"`);
    return file;
  }
}

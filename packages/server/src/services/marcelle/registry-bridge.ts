/**
 * Marcelle's model documents and the model registry are two views of the same models:
 * - a document created in `/tfjs-models` or `/onnx-models` (by any Marcelle client) becomes
 *   a version of the registry model named after it (`mlp-3@5` → `mlp-3`), as a PMF tree;
 * - a registry version holding a tfjs `model.json` (or an `.onnx` file) becomes a document
 *   in `/tfjs-models` (`/onnx-models`) named after its model, which Marcelle clients load by
 *   name or id;
 * - removing either removes its mirror.
 * Mirrored writes carry `marcelleMirror` in their params so that they are not mirrored back.
 * The Marcelle document is what its client asked for: a failure to mirror is logged, never
 * turned into a failed write.
 */
import { posix } from 'node:path';
import type { HookContext } from '@feathersjs/feathers';
import { and, eq, LarderError } from '@larder/protocol';
import type { FeatureContext } from '../../app/feature.js';
import { type Actor, actorOf, type UserRecord } from '../../auth/actor.js';
import type { StoredDocument } from '../../stores/document-store.js';
import type { LineageRelation } from '../registry/model-versions-service.js';
import { MODEL_VERSIONS_COLLECTION } from '../registry/models-service.js';
import { MARCELLE_MODEL_FORMATS, type MarcelleModelFormat, modelsPath } from './marcelle-models-service.js';
import { mainModelFile, marcelleTree } from './marcelle-pmf-tree.js';
import { type ModelFilePair, storedModelFiles } from './model-files-field.js';
import { downloadReadFilter } from './route-caller.js';

const MODEL_NAME_CHARACTERS = /[^A-Za-z0-9._-]+/g;
const MAX_MODEL_JSON_BYTES = 64 * 1024 * 1024;

export interface MirrorParams {
  marcelleMirror?: boolean;
  provider?: string;
  user?: UserRecord;
}

/** Params of a server write that is itself a mirror (internal: the server acts). */
const MIRROR_WRITE: MirrorParams = { marcelleMirror: true };

/** The registry model a document belongs to: its name before `@<epoch>`, else its run folder, else the format. */
export function registryModelName(record: StoredDocument, format: MarcelleModelFormat): string {
  const fromName = typeof record.name === 'string' ? record.name.split('@')[0] : undefined;
  const localPath = typeof record.local_path === 'string' ? record.local_path : undefined;
  const fromRun = localPath ? `marcelle-${posix.basename(posix.dirname(localPath.replace(/\\/g, '/')))}` : undefined;
  const raw = [fromName, fromRun].find((each) => each !== undefined && each.replace(MODEL_NAME_CHARACTERS, '') !== '');
  const name = (raw ?? `marcelle-${format}-models`).replace(MODEL_NAME_CHARACTERS, '-').replace(/^[^A-Za-z0-9]+/, '');
  return name.slice(0, 128) || `marcelle-${format}-models`;
}

export interface RegistryBridge {
  /**
   * Lineage of a Marcelle run: every checkpoint it lists that the writer may read and that
   * has a registry version becomes `producedBy` that run.
   */
  linkCheckpoints(run: StoredDocument, params: MirrorParams): Promise<void>;
}

export function installRegistryBridge(context: FeatureContext): RegistryBridge {
  const { app, store, blobs, authEnabled, log } = context;
  const warn = (what: string, error: unknown) =>
    log(`marcelle: ${what}: ${(error as Error)?.message ?? String(error)}`);

  /** Params acting as the original caller, marked as a mirror write. */
  const asCaller = (params: MirrorParams): MirrorParams => ({
    provider: params.provider ?? 'server',
    ...(params.user ? { user: params.user } : {}),
    marcelleMirror: true,
  });

  async function registryModel(name: string, format: MarcelleModelFormat, actor: Actor, params: MirrorParams) {
    const models = app.service('models');
    const owner = actor.kind === 'user' ? { userId: actor.user._id } : {};
    for (let attempt = 0; ; attempt += 1) {
      const found = (await models.find({ ...params, query: { name, ...owner, $limit: 1 } })) as {
        data: StoredDocument[];
      };
      if (found.data[0]) return found.data[0];
      try {
        return (await models.create(
          { name, framework: format === 'tfjs' ? 'tensorflowjs' : 'onnx', description: 'Saved by a Marcelle client' },
          params,
        )) as StoredDocument;
      } catch (error) {
        if (!(error instanceof LarderError && error.name === 'Conflict') || attempt > 2) throw error;
      }
    }
  }

  async function documentToVersion(record: StoredDocument, format: MarcelleModelFormat, params: MirrorParams) {
    const actor = actorOf(params, authEnabled);
    const files = storedModelFiles(record);
    if (actor.kind === 'anonymous' || !mainModelFile(format, files)) return;
    const modelName = registryModelName(record, format);
    const tree = await marcelleTree(record, format, files, { store, blobs, actor, modelName });
    if (!tree) return;
    const model = await registryModel(modelName, format, actor, params);
    const version = (await app.service(MODEL_VERSIONS_COLLECTION).create(
      {
        modelId: model._id,
        pmf: tree.pmf,
        files: tree.files,
        folders: tree.folders,
        description: `Marcelle ${format} model "${String(record.name ?? record._id).slice(0, 200)}"`,
      },
      params,
    )) as StoredDocument;
    const registry = { modelId: model._id, modelName, versionId: version._id, version: version.version };
    return (await app.service(modelsPath(format)).patch(record._id, { registry }, MIRROR_WRITE)) as
      | StoredDocument
      | undefined;
  }

  async function versionToDocument(version: StoredDocument): Promise<void> {
    const files = (Array.isArray(version.files) ? version.files : []) as { path: string; sha256: string }[];
    for (const format of MARCELLE_MODEL_FORMATS) {
      const main = mainVersionFile(version, files, format);
      if (!main) continue;
      const folder = posix.dirname(main.path);
      const pairs: ModelFilePair[] = files
        .filter((file) => posix.dirname(file.path) === folder)
        .map((file) => [posix.basename(file.path), file.sha256]);
      const metadata: Record<string, unknown> = {};
      if (format === 'tfjs') metadata.tfjsModelFormat = await tfjsModelFormat(main.sha256);
      await app.service(modelsPath(format)).create(
        {
          name: version.modelName ?? version.modelId,
          files: pairs,
          format,
          metadata,
          ...(typeof version.userId === 'string' ? { userId: version.userId } : {}),
          public: version.public === true,
          registry: {
            modelId: version.modelId,
            modelName: version.modelName,
            versionId: version._id,
            version: version.version,
          },
        },
        MIRROR_WRITE,
      );
      return;
    }
  }

  /** tfjs writes `format` into model.json; Marcelle reads `metadata.tfjsModelFormat`. */
  async function tfjsModelFormat(sha256: string): Promise<string> {
    const info = await blobs.stat(sha256);
    if (!info || info.size > MAX_MODEL_JSON_BYTES) return 'layers-model';
    const chunks: Buffer[] = [];
    for await (const chunk of await blobs.get(sha256)) chunks.push(chunk as Buffer);
    try {
      const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { format?: unknown };
      return parsed.format === 'graph-model' ? 'graph-model' : 'layers-model';
    } catch {
      return 'layers-model';
    }
  }

  const results = (hook: HookContext) =>
    (Array.isArray(hook.result) ? hook.result : [hook.result]).filter(Boolean) as StoredDocument[];

  /**
   * New files (Marcelle saves a model again with `update`): the mirror moves to a new
   * version and the old mirrored version goes, so the replaced files can be collected.
   */
  async function remirror(hook: HookContext, format: MarcelleModelFormat): Promise<void> {
    const data = hook.data as Record<string, unknown> | undefined;
    if ((hook.params as MirrorParams).marcelleMirror || data?.files === undefined) return;
    const mirrored: StoredDocument[] = [];
    for (const record of results(hook)) {
      const previous = (record.registry as { versionId?: unknown } | undefined)?.versionId;
      try {
        mirrored.push((await documentToVersion(record, format, asCaller(hook.params))) ?? record);
        if (typeof previous === 'string') await app.service(MODEL_VERSIONS_COLLECTION).remove(previous, MIRROR_WRITE);
      } catch (error) {
        mirrored.push(record);
        warn(`registry version of ${format} model ${record._id}`, error);
      }
    }
    hook.result = Array.isArray(hook.result) ? mirrored : mirrored[0];
  }

  for (const format of MARCELLE_MODEL_FORMATS) {
    app.service(modelsPath(format)).hooks({
      after: {
        create: [
          async (hook: HookContext) => {
            if ((hook.params as MirrorParams).marcelleMirror) return;
            const mirrored: StoredDocument[] = [];
            for (const record of results(hook)) {
              try {
                mirrored.push((await documentToVersion(record, format, asCaller(hook.params))) ?? record);
              } catch (error) {
                mirrored.push(record);
                warn(`registry version of ${format} model ${record._id}`, error);
              }
            }
            hook.result = Array.isArray(hook.result) ? mirrored : mirrored[0];
          },
        ],
        update: [(hook: HookContext) => remirror(hook, format)],
        patch: [(hook: HookContext) => remirror(hook, format)],
        remove: [
          async (hook: HookContext) => {
            if ((hook.params as MirrorParams).marcelleMirror) return;
            for (const record of results(hook)) {
              const versionId = (record.registry as { versionId?: unknown } | undefined)?.versionId;
              if (typeof versionId !== 'string') continue;
              await app
                .service(MODEL_VERSIONS_COLLECTION)
                .remove(versionId, MIRROR_WRITE)
                .catch((error: unknown) => warn(`removing registry version ${versionId}`, error));
            }
          },
        ],
      },
    });
  }

  app.service(MODEL_VERSIONS_COLLECTION).hooks({
    after: {
      create: [
        async (hook: HookContext) => {
          if ((hook.params as MirrorParams).marcelleMirror) return;
          for (const version of results(hook)) {
            await versionToDocument(version).catch((error) =>
              warn(`Marcelle document of version ${version._id}`, error),
            );
          }
        },
      ],
      remove: [
        async (hook: HookContext) => {
          if ((hook.params as MirrorParams).marcelleMirror) return;
          for (const version of results(hook)) {
            for (const format of MARCELLE_MODEL_FORMATS) {
              await app
                .service(modelsPath(format))
                .remove(null, { ...MIRROR_WRITE, query: { 'registry.versionId': version._id } })
                .catch((error: unknown) => warn(`removing the Marcelle mirror of version ${version._id}`, error));
            }
          }
        },
      ],
    },
  });

  const linkCheckpoints = async (run: StoredDocument, params: MirrorParams) => {
    const checkpoints = Array.isArray(run.checkpoints) ? run.checkpoints : [];
    const actor = actorOf(params, authEnabled);
    const versions = app.service(MODEL_VERSIONS_COLLECTION) as unknown as {
      link(versionId: string, relation: LineageRelation, runId: string): Promise<unknown>;
    };
    for (const checkpoint of checkpoints as Record<string, unknown>[]) {
      const id = checkpoint?._id ?? checkpoint?.id;
      if (typeof id !== 'string') continue;
      for (const format of MARCELLE_MODEL_FORMATS) {
        const [record] = await store.find(modelsPath(format), {
          filter: and(eq(['_id'], id), downloadReadFilter(actor)),
          limit: 1,
        });
        const versionId = (record?.registry as { versionId?: unknown } | undefined)?.versionId;
        if (typeof versionId !== 'string') continue;
        await versions.link(versionId, 'producedBy', run._id).catch((error) => warn('linking a checkpoint', error));
      }
    }
  };
  return { linkCheckpoints };
}

function mainVersionFile(
  version: StoredDocument,
  files: readonly { path: string; sha256: string }[],
  format: MarcelleModelFormat,
): { path: string; sha256: string } | undefined {
  const wanted = (path: string) => (format === 'tfjs' ? posix.basename(path) === 'model.json' : path.endsWith('.onnx'));
  const pmf = version.pmf as { training?: { latest?: unknown }; checkpoints?: { reference: unknown; path: string }[] };
  const latest = pmf?.checkpoints?.find((checkpoint) => checkpoint.reference === pmf.training?.latest);
  if (latest && wanted(latest.path)) return files.find((file) => file.path === latest.path);
  return files.find((file) => wanted(file.path));
}

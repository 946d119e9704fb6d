/**
 * The model registry: `/models` (Picsellia networks: name, type, framework, tags, labels,
 * base parameters, readme, named files, aliases), `/model-versions` (PMF models whose files
 * are blobs, with lineage to runs) and the download routes for their files.
 */
import type { FeatureContext } from '../../app/feature.js';
import type { StoredDocument } from '../../stores/document-store.js';
import { modelFilesRoute } from './model-files-route.js';
import { ModelVersionsService } from './model-versions-service.js';
import { MODEL_VERSIONS_COLLECTION, ModelsService } from './models-service.js';

const MODEL_METHODS = ['find', 'get', 'create', 'update', 'patch', 'remove'];
/** Versions are immutable: no `update`. */
const VERSION_METHODS = ['find', 'get', 'create', 'patch', 'remove'];

export function installRegistry(context: FeatureContext): void {
  const { app, store, blobs, authEnabled } = context;
  const emitter = (path: string) => (record: StoredDocument) => {
    (app.service(path) as unknown as { emit(event: string, data: unknown): void }).emit('patched', record);
  };
  const models = new ModelsService({
    store,
    blobs,
    authEnabled,
    emitPatched: emitter('models'),
    removeVersions: async (modelId) => {
      await app.service(MODEL_VERSIONS_COLLECTION).remove(null, { query: { modelId } });
    },
  });
  const versions = new ModelVersionsService({
    store,
    blobs,
    authEnabled,
    models,
    emitPatched: emitter(MODEL_VERSIONS_COLLECTION),
  });
  app.use('models', models, { methods: MODEL_METHODS });
  app.use(MODEL_VERSIONS_COLLECTION, versions, { methods: VERSION_METHODS });
  context.useRoute(modelFilesRoute({ blobs, models, versions, actorFor: context.actorFor }));
}

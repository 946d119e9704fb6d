/**
 * The Marcelle drop-in: what Marcelle's released clients (`@marcellejs/core` in browsers, the
 * Python `marcelle` package) need beyond generic services, on Larder's own storage:
 * - `/tfjs-models` and `/onnx-models` with their upload and download routes, files in the
 *   blob store, mirrored to and from the model registry;
 * - Marcelle's `POST /assets/upload` and `GET /assets/<id>/<file>` beside the datalake's
 *   assets (whitelist: `LARDER_MARCELLE_ASSET_EXTENSIONS`), asset urls holding their blobs;
 * - Marcelle runs in `/runs` seen by Larder: params as hparams, logs as metrics, checkpoints
 *   as registry versions.
 */
import type { FeatureContext } from '../../app/feature.js';
import { marcelleAssetRoutes } from './marcelle-asset-routes.js';
import { MARCELLE_MODEL_FORMATS, MarcelleModelsService, modelsPath } from './marcelle-models-service.js';
import { installMarcelleRuns } from './marcelle-runs.js';
import { marcelleSettingsFrom } from './marcelle-settings.js';
import { modelFileRoutes } from './model-file-routes.js';
import { installRegistryBridge } from './registry-bridge.js';

const RECORD_METHODS = ['find', 'get', 'create', 'update', 'patch', 'remove'];

export function installMarcelle(context: FeatureContext): void {
  const { app, store, blobs, authEnabled } = context;
  const settings = marcelleSettingsFrom();
  context.useRoute(marcelleAssetRoutes(context, settings));
  for (const format of MARCELLE_MODEL_FORMATS) {
    context.useRoute(modelFileRoutes(context, format));
    app.use(modelsPath(format), new MarcelleModelsService(store, blobs, authEnabled, format), {
      methods: RECORD_METHODS,
    });
  }
  const bridge = installRegistryBridge(context);
  installMarcelleRuns(context, bridge);
}

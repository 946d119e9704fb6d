/**
 * Media by step: a run's images (`/run-images`, bytes at `/run-images/<id>/file`) and the
 * histograms of its tensors (`/run-histograms`), read and written through the run's
 * permissions. Removing a run removes its media (their blobs then go to the collector).
 */
import type { FeatureContext } from '../../app/feature.js';
import type { StoredDocument } from '../../stores/document-store.js';
import { runImageFileRoute } from './run-image-file-route.js';
import { histogramRecord, imageRecord } from './run-media-records.js';
import { RunMediaService } from './run-media-service.js';

export function installRunMedia(context: FeatureContext): void {
  const { app, store, blobs, authEnabled, actorFor, useRoute, log } = context;
  useRoute(runImageFileRoute({ store, blobs, actorFor }));
  const images = new RunMediaService(store, blobs, authEnabled, 'image', imageRecord);
  const histograms = new RunMediaService(store, blobs, authEnabled, 'histogram', histogramRecord);
  app.use('run-images', images, { methods: ['find', 'get', 'create'] });
  app.use('run-histograms', histograms, { methods: ['find', 'get', 'create'] });
  // Feathers emits `removed` once per removed run, on the instance that removed it.
  app.service('runs').on('removed', (run: StoredDocument) => {
    for (const service of [images, histograms]) {
      service
        .removeRun(run._id)
        .catch((error: unknown) => log(`run media of ${run._id} not removed: ${String(error)}`));
    }
  });
}

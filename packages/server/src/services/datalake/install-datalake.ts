/**
 * The datalake feature: pictures (`assets`, with file, thumbnail and multipart upload
 * routes, and `asset-tags` for bulk tagging), datasets with versions (downloadable as tar
 * archives), membership, labels and annotations, and COCO import and export.
 */
import type { FeatureContext } from '../../app/feature.js';
import { AnnotationsService } from './annotations-service.js';
import { assetFileRoute } from './asset-file-routes.js';
import { AssetTagsService } from './asset-tags-service.js';
import { assetUploadRoute } from './asset-upload-route.js';
import { AssetsService } from './assets-service.js';
import { CocoExportsService } from './coco-export.js';
import { CocoImportsService } from './coco-import.js';
import { ASSETS } from './datalake-collections.js';
import { DatasetLabelsService } from './dataset-labels-service.js';
import { DatasetMembersService } from './dataset-members-service.js';
import { DatasetVersionsService } from './dataset-versions-service.js';
import { DatasetsService } from './datasets-service.js';
import { versionArchiveRoute } from './version-archive-route.js';

const RECORD_METHODS = ['find', 'get', 'create', 'update', 'patch', 'remove'];

export async function installDatalake(context: FeatureContext): Promise<void> {
  const { app, store, blobs, authEnabled } = context;
  // Tag queries (all of, any of) read the postings of `tags`, not every asset.
  await store.indexField(ASSETS, ['tags']);
  context.useRoute(assetUploadRoute(context));
  context.useRoute(assetFileRoute(context));
  context.useRoute(versionArchiveRoute(context));
  app.use('assets', new AssetsService(store, blobs, authEnabled), { methods: RECORD_METHODS });
  app.use('asset-tags', new AssetTagsService(store, authEnabled), { methods: ['create'] });
  app.use('datasets', new DatasetsService(store, authEnabled), {
    methods: RECORD_METHODS.filter((m) => m !== 'update'),
  });
  app.use('dataset-versions', new DatasetVersionsService(store, authEnabled), {
    methods: ['find', 'get', 'create', 'patch', 'remove'],
  });
  app.use('dataset-labels', new DatasetLabelsService(store, authEnabled), {
    methods: ['find', 'get', 'create', 'remove'],
  });
  app.use('dataset-members', new DatasetMembersService(store, authEnabled), { methods: ['find', 'create', 'remove'] });
  app.use('annotations', new AnnotationsService(store, authEnabled), {
    methods: ['find', 'get', 'create', 'patch', 'remove'],
  });
  app.use('coco-imports', new CocoImportsService(store, blobs, authEnabled), { methods: ['create'] });
  app.use('coco-exports', new CocoExportsService(store, authEnabled), { methods: ['get'] });
}

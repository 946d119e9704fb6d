export { type AdminCredentials, BOOTSTRAP_ADMIN_EMAIL } from './app/bootstrap-admin.js';
export { createApp, LARDER_VERSION, type LarderApp } from './app/create-app.js';
export type { Feature, FeatureContext } from './app/feature.js';
export {
  DEFAULT_HOST,
  DEFAULT_MAX_BLOB_BYTES,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_PORT,
  type ServerOptions,
} from './app/server-options.js';
export { type RunningServer, startServer } from './app/start-server.js';
export type { BlobInfo, BlobStore, ByteRange, PutOptions, PutResult } from './blobs/blob-store.js';
export { FsBlobStore } from './blobs/fs/fs-blob-store.js';
export { BlobReferences, ownerOf } from './blobs/lifecycle/blob-references.js';
export { confirmUpload, survivesCollection } from './blobs/lifecycle/blob-uploads.js';
export { type CollectOptions, type CollectReport, GarbageCollector } from './blobs/lifecycle/garbage-collector.js';
export type { DocumentStore, Modification, StoredDocument, StoreFindOptions } from './stores/document-store.js';
export type {
  AppendBatch,
  MetricStore,
  PointColumns,
  ReadOptions,
  SeriesKey,
  SeriesSummary,
} from './stores/metric-store.js';
export { SqliteDocumentStore } from './stores/sqlite/sqlite-document-store.js';
export { SqliteMetricStore } from './stores/sqlite/sqlite-metric-store.js';

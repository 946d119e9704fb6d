export { LarderError } from '@larder/protocol';
export {
  BlobClient,
  type BlobClientOptions,
  type BlobRef,
  DEFAULT_CHUNK_BYTES,
  type UploadOptions,
  type UploadProgress,
} from './blobs/blob-client.js';
export { type FilePutAnswer, type FileRange, sendFileRange } from './blobs/file-put.js';
export type { RetryOptions } from './blobs/retry.js';
export {
  type ConnectionOptions,
  type ConnectionSource,
  type Credentials,
  type CredentialsEntry,
  defaultCredentialsPath,
  type ResolvedConnection,
  readCredentials,
  resolveConnection,
  writeCredentials,
} from './config/credentials.js';
export { DEFAULT_SERVER_URL, normalizeServerUrl } from './config/default-server-url.js';
// The datalake: pictures with tags, versioned datasets, labels, annotations, COCO (curated list in datalake/index.ts).
export * from './datalake/index.js';
export { type AuthenticationResult, DataStore, type DataStoreOptions } from './datastore/data-store.js';
export { encodeQuery, MAX_QUERY_DEPTH, MAX_QUERY_PARAMETERS } from './datastore/query-string.js';
export { type ItemsOptions, Service } from './datastore/service.js';
export type {
  DataRecord,
  EventHandler,
  Id,
  Paginated,
  Params,
  Query,
  ServiceEvent,
} from './datastore/service-types.js';
// Picsellia's experiments over runs: files, data logs, checkout (curated list in experiments/index.ts).
export * from './experiments/index.js';
export * from './marcelle/index.js'; // Marcelle's Remote, Writer, Uploader and tfjs callback (curated list there).
// The model registry: models, PMF versions, aliases, named files (curated list in models/index.ts).
export * from './models/index.js';
// Runs and artifacts: local-first experiment tracking (curated list in runs/index.ts).
export * from './runs/index.js';
export { nearestName } from './service-catalog/nearest-name.js';
export { assertServiceWritten, listServices, unwrittenServiceNotice } from './service-catalog/service-catalog.js';

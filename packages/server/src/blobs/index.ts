/** The blob store: its port, and the filesystem adapter. */
export {
  type BlobBatch,
  type BlobInfo,
  type BlobStore,
  type ByteRange,
  isSha256,
  type PutOptions,
  type PutResult,
} from './blob-store.js';
export { startBlobBatch } from './blob-store-batch.js';
export { FsBlobStore } from './fs/fs-blob-store.js';

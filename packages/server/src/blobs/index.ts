/** The blob store: its port, and the filesystem adapter. */
export {
  type BlobInfo,
  type BlobStore,
  type ByteRange,
  isSha256,
  type PutOptions,
  type PutResult,
} from './blob-store.js';
export { FsBlobStore } from './fs/fs-blob-store.js';

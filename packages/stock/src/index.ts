export { diffTrees, type StorageDiff, type TreeDiff } from './commits/commit-diff.js';
export type { CommitInfo } from './commits/commit-graph.js';
export { COMMIT_FORMAT, type CommitRecord, type Tree } from './commits/commit-record.js';
export { type DecodedObject, HASH_PATTERN, type ObjectKind } from './objects/object-codec.js';
export { type ObjectPlace, ObjectStore, type ObjectStoreOptions } from './objects/object-store.js';
export { HttpStockRemote, type HttpStockRemoteOptions } from './remote/http-stock-remote.js';
export { type PullOptions, type PullResult, type PullStatus, pullStock } from './remote/pull-stock.js';
export { type PushOptions, type PushResult, pushStock } from './remote/push-stock.js';
export {
  chooseRepositoryName,
  readStockConfig,
  type StockConfig,
  saveRemoteRepository,
} from './remote/remote-config.js';
export type {
  MoveRefOptions,
  MoveRefResult,
  RemoteRepository,
  StockRemote,
  TransferProgress,
} from './remote/stock-remote.js';
export { type InitResult, initStock } from './repository/init-stock.js';
export { findStockRoot, HEAD_FILE, STOCK_DIRECTORY } from './repository/stock-layout.js';
export { type LockOwner, readOwner } from './repository/write-lock.js';
export { readSafetensorsFile, writeSafetensorsFile } from './safetensors/safetensors-file.js';
export {
  decodeSafetensors,
  encodeSafetensors,
  encodeSafetensorsHeader,
  MAX_HEADER_BYTES,
  type SafetensorsContent,
} from './safetensors/safetensors-format.js';
export { type StockDiff, StockRoom, type StockRoomOptions } from './stock-room.js';
export { DataStorage, type SampleBatch } from './storages/data-storage.js';
export { type ModelInfo, ModelStorage, type SaveWeightsOptions, type Weights } from './storages/model-storage.js';
export { TagStorage, type TagType, type TagValue, type TypedTag } from './storages/tag-storage.js';
export { DTYPE_NAMES, type DType, isDType, type TypedArray, type TypedArrays } from './tensor/dtypes.js';
export { fromFloat16Bits, toFloat16Bits } from './tensor/float16.js';
export { elementCount, isTensor, type Tensor, type TensorValues, tensor, tensorValues } from './tensor/tensor.js';
export {
  fromTfjs,
  isTfjsModel,
  isTfjsTensor,
  loadTfjs,
  type TfjsModelLike,
  type TfjsModule,
  type TfjsTensorLike,
  toTfjs,
} from './tensor/tfjs-bridge.js';
export { commitAncestry, missingObjects, objectsForCommit } from './transfer/commit-objects.js';

// Marcelle's Python client API in TypeScript: runs, checkpoints and assets on a Larder or Marcelle server.

export { type MarcelleRemoteOptions, Remote, type SaveFormat, type Stored } from './marcelle-remote.js';
export { Uploader, type UploadOutcome } from './marcelle-uploader.js';
export { Writer, type WriterOptions } from './marcelle-writer.js';
export { conformDict, getModelInfo, type ModelInfo } from './model-info.js';
export {
  type AssetEntry,
  type CheckpointEntry,
  type MarcelleRunStatus,
  RUN_DATA_FILE,
  type RunData,
} from './run-data.js';
export { type MarcelleCallback, type MarcelleCallbackOptions, marcelleCallback } from './tfjs-callback.js';
export {
  folderLoadHandler,
  folderSaveHandler,
  MODEL_JSON,
  memorySaveHandler,
  WEIGHTS_FILE,
} from './tfjs-model-files.js';
export { findTfjsDocument, loadRemoteTfjsModel, loadTfjsModelFromFolder } from './tfjs-model-loading.js';
export type { IOHandler, ModelArtifacts, TfjsLayersModel } from './tfjs-types.js';

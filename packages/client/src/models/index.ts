/** The model registry's public API (re-exported from the package root). */
export type {
  CheckpointReference as RegistryCheckpointReference,
  ModelFields,
  ModelFile,
  ModelRecord,
  ModelVersionRecord,
  PmfCheckpointSummary,
  PmfInitialisationSummary,
  PmfSummary,
  PmfTrainingSummary,
  VersionFile,
} from './model-records.js';
export { type ModelReference, parseModelReference, type VersionReference } from './model-reference.js';
export {
  type ModelCreate,
  ModelRegistry,
  type ModelRegistryOptions,
  type ModelSelector,
  type PullOptions,
  type PullResult,
  type PushOptions,
  type PushResult,
} from './model-registry.js';

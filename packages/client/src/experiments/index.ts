// Picsellia's experiment API over Larder runs; re-exported by the package index.
export { TREE_FOLDERS } from './checkout-paths.js';
export { type DataChanges, Experiment, type FileChanges, type StoreOptions } from './experiment.js';
export type { CheckoutOptions, CheckoutResult } from './experiment-checkout.js';
export { MAX_ASSET_NAME, MAX_EXPERIMENT_DESCRIPTION, MAX_EXPERIMENT_NAME } from './experiment-names.js';
export type { ExperimentDataset, ExperimentSource } from './experiment-sources.js';
export {
  DATA_LOG_TYPES,
  type DataLog,
  type DataLogShapes,
  type DataLogType,
  type DataScalar,
  type EvaluationShape,
  type ExperimentChanges,
  type ExperimentData,
  type ExperimentFile,
  type ExperimentInput,
  type ExperimentRecord,
  type FileAsset,
  type LogInputs,
} from './experiment-types.js';
export { type CreateExperimentOptions, Experiments } from './experiments.js';

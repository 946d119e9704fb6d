/**
 * `@larder/pmf`: the plums model format (PMF 1.0.0) in TypeScript. Reads and writes model
 * trees that the plums reference implementation accepts, and validates them reporting every
 * offence.
 *
 * @example
 * import { Model, validateModel, formatOffence } from '@larder/pmf';
 *
 * const model = await Model.load('models/resnet'); // strict: checks every MD5
 * const offences = await validateModel('models/other');
 * for (const offence of offences) console.log(formatOffence(offence));
 */

export { Checkpoint, type CheckpointInit } from './components/checkpoint.js';
export { CheckpointCollection } from './components/checkpoint-collection.js';
export { Producer } from './components/producer.js';
export { type Clock, Training, type TrainingState } from './components/training.js';
export { canTransition } from './components/training-status.js';
export { PMF_ERROR_CODES, PmfError, type PmfErrorCode, PmfModelError } from './errors/pmf-error.js';
export {
  PmfMetadataValidationError,
  PmfTreeValidationError,
  PmfValidationError,
} from './errors/pmf-validation-error.js';
export { md5File } from './files/md5.js';
export {
  type CheckpointReference,
  PMF_FORMAT_VERSION,
  type PmfMetadata,
  type TrainingStatus,
} from './metadata/pmf-metadata.js';
export { initialisation } from './model/initialisation.js';
export {
  type BuildParameters,
  type LoadOptions,
  Model,
  type ModelInit,
  type SaveOptions,
} from './model/model.js';
export type { SaveReport } from './model/save-model.js';
export { formatOffence, type Offence, type OffenceKind } from './validation/offence.js';
export { type ValidateOptions, validateModel } from './validation/validate-model.js';
export { Pep440Version } from './version/pep440-version.js';
export type { ProducerVersion, VersionFormat } from './version/producer-version.js';
export { SemverVersion } from './version/semver-version.js';
export {
  parseVersion,
  registerVersionFormat,
  unregisterVersionFormat,
  versionFormatNames,
} from './version/version-formats.js';

export { eachAtOnce } from './concurrency/each-at-once.js';
export { DEFAULT_HOST, DEFAULT_PORT } from './defaults.js';
export {
  ERROR_CODES,
  type ErrorJson,
  type ErrorName,
  errorNameForStatus,
  LarderError,
  type LarderErrorOptions,
  toLarderError,
} from './errors.js';
export { newId } from './ids.js';
export type { JsonObject, JsonValue } from './json.js';
export {
  type ColumnSeries,
  decodeMetricColumns,
  encodeMetricColumns,
  METRIC_COLUMNS_TYPE,
} from './metrics/metric-columns.js';
export { normalizeMetricType, SYSTEM_METRIC_TYPE } from './metrics/metric-types.js';
export {
  assertRecordId,
  assertServiceName,
  isValidRecordId,
  isValidServiceName,
  RESERVED_SERVICE_NAMES,
} from './names.js';
export {
  and,
  asciiLower,
  eq,
  type FieldPath,
  type Filter,
  like,
  MATCH_ALL,
  not,
  or,
  type ParsedQuery,
  pathToString,
  type RangeOperator,
  type Scalar,
  type SortKey,
} from './query/ast.js';
export { parseFieldPath, readPath, writePath } from './query/field-path.js';
export { matchFilter } from './query/match-filter.js';
export { type ParseQueryOptions, parseFilter, parseQuery } from './query/parse-query.js';
export {
  type CheckpointReference,
  type PmfCheckpointSummary,
  type PmfInitialisationSummary,
  type PmfSummary,
  type PmfTrainingSummary,
  TRAINING_STATUSES,
} from './registry/pmf-summary.js';

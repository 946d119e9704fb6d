/**
 * Checks a parsed `metadata.yaml` against the PMF 1.0.0 schema and rules, reporting every
 * offence. Sections that are valid on their own are returned even when others are not, so
 * tree validation can still check the files they name.
 */
import { parseVersion } from '../version/version-formats.js';
import { FieldChecker } from './field-checker.js';
import {
  type CheckpointRecord,
  type CheckpointReference,
  type InitialisationRecord,
  PMF_FORMAT_VERSION,
  type PmfMetadata,
  PRODUCER_NAME,
  TRAINING_STATUSES,
  type TrainingRecord,
  type TrainingStatus,
  type TrainingTimeline,
} from './pmf-metadata.js';
import { checkpointOffences, timelineOffences } from './training-rules.js';

export interface MetadataValidation {
  /** The whole metadata, when it has no offence at all. */
  metadata: PmfMetadata | null;
  /** The id, when `model.id` is valid. */
  id: string | null;
  configuration: PmfMetadata['model']['configuration'] | null;
  /** `undefined` when the section is invalid; `null` means "trained from scratch". */
  initialisation: InitialisationRecord | null | undefined;
  /** The checkpoint entries that are valid on their own. */
  checkpoints: Map<CheckpointReference, CheckpointRecord>;
  offences: FieldChecker['offences'];
}

/**
 * Validates parsed metadata (a value from `readYaml`). `file` names it in offences.
 *
 * @example
 * const { metadata, offences } = validateMetadata(readValue, 'metadata.yaml');
 */
export function validateMetadata(value: unknown, file = 'metadata.yaml'): MetadataValidation {
  const check = new FieldChecker(file);
  const result: MetadataValidation = {
    metadata: null,
    id: null,
    configuration: null,
    initialisation: undefined,
    checkpoints: new Map(),
    offences: check.offences,
  };
  const root = check.mapping(value, '', ['format', 'model']);
  const format = root ? checkFormat(check, root.get('format')) : null;
  const model = root ? check.mapping(root.get('model'), 'model', MODEL_KEYS) : null;
  if (!model) return result;

  const name = check.optionalString(model.get('name'), 'model.name');
  result.id = check.string(model.get('id'), 'model.id');
  result.configuration = checkConfiguration(check, model.get('configuration'));
  result.initialisation = checkInitialisation(check, model.get('initialisation'));
  const training = checkTraining(check, model.get('training'));
  result.checkpoints = training.checkpoints;

  if (
    check.offences.length === 0 &&
    format &&
    name !== undefined &&
    result.id !== null &&
    result.configuration &&
    result.initialisation !== undefined &&
    training.record
  ) {
    result.metadata = {
      format,
      model: {
        name,
        id: result.id,
        configuration: result.configuration,
        initialisation: result.initialisation,
        training: training.record,
      },
    };
  }
  return result;
}

const MODEL_KEYS = ['name', 'id', 'configuration', 'initialisation', 'training'];
const TRAINING_KEYS = [
  'status',
  'start_time',
  'start_epoch',
  'latest_time',
  'latest_epoch',
  'end_time',
  'end_epoch',
  'latest',
  'checkpoints',
];

function checkFormat(check: FieldChecker, value: unknown): PmfMetadata['format'] | null {
  const format = check.mapping(value, 'format', ['version', 'producer']);
  if (!format) return null;
  let valid = true;
  if (format.has('version') && format.get('version') !== PMF_FORMAT_VERSION) {
    check.report('format.version', `must be the string "${PMF_FORMAT_VERSION}"`, format.get('version'));
    valid = false;
  }
  const producer = check.mapping(format.get('producer'), 'format.producer', ['name', 'version']);
  if (!producer) return null;
  const name = check.string(producer.get('name'), 'format.producer.name');
  if (name !== null && !PRODUCER_NAME.test(name)) {
    check.report('format.producer.name', 'must start with a letter and hold only letters, digits and "_"', name);
    valid = false;
  }
  const version = check.mapping(producer.get('version'), 'format.producer.version', ['format', 'value']);
  if (!version) return null;
  const versionFormat = check.string(version.get('format'), 'format.producer.version.format');
  const versionValue = check.string(version.get('value'), 'format.producer.version.value');
  if (versionFormat !== null && versionValue !== null) {
    try {
      parseVersion(versionFormat, versionValue);
    } catch (error) {
      check.report('format.producer.version', (error as Error).message);
      valid = false;
    }
  }
  if (!valid || name === null || versionFormat === null || versionValue === null) return null;
  return { version: PMF_FORMAT_VERSION, producer: { name, version: { format: versionFormat, value: versionValue } } };
}

function checkConfiguration(check: FieldChecker, value: unknown): PmfMetadata['model']['configuration'] | null {
  const configuration = check.mapping(value, 'model.configuration', ['path', 'hash']);
  if (!configuration) return null;
  const path = check.path(configuration.get('path'), 'model.configuration.path');
  const hash = check.md5(configuration.get('hash'), 'model.configuration.hash');
  return path !== null && hash !== null ? { path, hash } : null;
}

function checkInitialisation(check: FieldChecker, value: unknown): InitialisationRecord | null | undefined {
  if (value === null || value === undefined) return value;
  const field = 'model.initialisation';
  if (!(value instanceof Map) || value.size !== 1 || !(value.has('pmf') || value.has('file'))) {
    check.report(field, 'must be null, a "pmf" section or a "file" section', value);
    return undefined;
  }
  const before = check.offences.length;
  if (value.has('pmf')) {
    const pmf = check.mapping(value.get('pmf'), `${field}.pmf`, ['name', 'id', 'checkpoint', 'path']);
    if (!pmf) return undefined;
    const name = check.optionalString(pmf.get('name'), `${field}.pmf.name`);
    const id = check.string(pmf.get('id'), `${field}.pmf.id`);
    const checkpoint = check.reference(pmf.get('checkpoint'), `${field}.pmf.checkpoint`);
    const path = check.path(pmf.get('path'), `${field}.pmf.path`);
    if (check.offences.length > before || name === undefined || id === null || checkpoint === undefined || !path) {
      return undefined;
    }
    return { pmf: { name, id, checkpoint, path } };
  }
  const file = check.mapping(value.get('file'), `${field}.file`, ['name', 'path', 'hash']);
  if (!file) return undefined;
  const name = check.optionalString(file.get('name'), `${field}.file.name`);
  const path = check.path(file.get('path'), `${field}.file.path`);
  const hash = check.md5(file.get('hash'), `${field}.file.hash`);
  if (check.offences.length > before || name === undefined || path === null || hash === null) return undefined;
  return { file: { name, path, hash } };
}

function checkTraining(
  check: FieldChecker,
  value: unknown,
): { record: TrainingRecord | null; checkpoints: Map<CheckpointReference, CheckpointRecord> } {
  const field = 'model.training';
  const training = check.mapping(value, field, TRAINING_KEYS);
  if (!training) return { record: null, checkpoints: new Map() };
  const before = check.offences.length;
  const status = training.get('status');
  if (status !== undefined && !TRAINING_STATUSES.includes(status as TrainingStatus)) {
    check.report(`${field}.status`, `must be one of ${TRAINING_STATUSES.join(', ')}`, status);
  }
  const timeline: Record<string, number | null | undefined> = {};
  for (const stage of ['start', 'latest', 'end']) {
    timeline[`${stage}_time`] = check.timestamp(training.get(`${stage}_time`), `${field}.${stage}_time`);
    timeline[`${stage}_epoch`] = check.integer(training.get(`${stage}_epoch`), `${field}.${stage}_epoch`, true);
  }
  const latestValue = training.get('latest');
  const latest = latestValue === null ? null : check.reference(latestValue, `${field}.latest`);
  const { checkpoints, complete } = checkCheckpoints(check, training.get('checkpoints'));
  if (check.offences.length > before || latest === undefined || !complete) return { record: null, checkpoints };
  const record = { status, ...timeline, latest, checkpoints } as TrainingRecord;
  const rules = [
    ...timelineOffences(record as TrainingTimeline),
    ...checkpointOffences(record.latest_epoch, latest, checkpoints),
  ];
  for (const [rule, message] of rules) check.report(`${field}.${rule}`, message);
  return { record: rules.length === 0 ? record : null, checkpoints };
}

/** The valid checkpoint entries, and whether every entry was valid. */
function checkCheckpoints(
  check: FieldChecker,
  value: unknown,
): { checkpoints: Map<CheckpointReference, CheckpointRecord>; complete: boolean } {
  const field = 'model.training.checkpoints';
  if (!(value instanceof Map)) {
    if (value !== undefined) check.report(field, 'must be a mapping of checkpoint references (use {} for none)', value);
    return { checkpoints: new Map(), complete: false };
  }
  const checkpoints = new Map<CheckpointReference, CheckpointRecord>();
  let valid = true;
  for (const [key, entry] of value) {
    const reference = check.reference(key, `${field}.${String(key)}`);
    const where = `${field}.${String(key)}`;
    const checkpoint = check.mapping(entry, where, ['epoch', 'path', 'hash']);
    if (reference === undefined || !checkpoint) {
      valid = false;
      continue;
    }
    const epoch = check.integer(checkpoint.get('epoch'), `${where}.epoch`, false);
    const path = check.path(checkpoint.get('path'), `${where}.path`);
    const hash = check.md5(checkpoint.get('hash'), `${where}.hash`);
    if (epoch == null || path === null || hash === null) valid = false;
    else checkpoints.set(reference, { epoch, path, hash });
    if (checkpoint.size !== 3) valid = false;
  }
  return { checkpoints, complete: valid };
}

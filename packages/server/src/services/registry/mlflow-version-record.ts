/**
 * The second format a registry version can hold: an MLflow model directory (an `MLmodel`
 * file and whatever its flavour saved), registered through the MLflow face. Such a version
 * has no PMF summary; it keeps what MLflow's registry keeps about it (the `source` it was
 * registered from, the run and logged model behind it, a run link, its legacy stage and its
 * key-value tags) and, like every version, every file as `{path, sha256, size}`, copied
 * from the source's artifacts so the version holds its bytes whatever happens to the run.
 */
import { LarderError } from '@larder/protocol';

export const MLFLOW_STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;
export type MlflowStage = (typeof MLFLOW_STAGES)[number];

/** What an MLflow-format version records beside its files. */
export interface MlflowVersionFields {
  source: string;
  runId: string | null;
  loggedModelId: string | null;
  runLink: string;
  stage: MlflowStage;
  tags: Record<string, string>;
  /** Where a version without files of its own is downloaded from (a copied version's origin). */
  storageLocation: string;
}

const MAX_TAGS = 1000;

/** Checks the `mlflow` object of a version body. */
export function parseMlflowFields(value: unknown): MlflowVersionFields {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad('mlflow must be an object');
  const fields = value as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!['source', 'runId', 'loggedModelId', 'runLink', 'stage', 'tags', 'storageLocation'].includes(key)) {
      throw bad(`mlflow has no field "${key.slice(0, 60)}"`);
    }
  }
  if (typeof fields.source !== 'string' || fields.source.length === 0 || fields.source.length > 4096) {
    throw bad('mlflow.source must be the URI the version was registered from');
  }
  return {
    source: fields.source,
    // As MLflow's registry, the run and logged model are recorded as given; lineage
    // (`producedBy`) names only runs the writer could read.
    runId: optionalText(fields.runId, 'mlflow.runId', 256) || null,
    loggedModelId: optionalText(fields.loggedModelId, 'mlflow.loggedModelId', 256) || null,
    runLink: optionalText(fields.runLink, 'mlflow.runLink', 4096),
    stage: mlflowStage(fields.stage ?? 'None'),
    tags: mlflowTags(fields.tags ?? {}, 'mlflow.tags'),
    storageLocation: optionalText(fields.storageLocation, 'mlflow.storageLocation', 4096),
  };
}

/** A legacy stage, spelled as MLflow spells it (its client sends any case). */
export function mlflowStage(value: unknown): MlflowStage {
  const found = MLFLOW_STAGES.find((stage) => typeof value === 'string' && stage.toLowerCase() === value.toLowerCase());
  if (!found) throw bad(`The stage must be one of ${MLFLOW_STAGES.join(', ')}`);
  return found;
}

/** MLflow's key-value tags: keys up to 250 characters, values up to 5000. */
export function mlflowTags(value: unknown, field: string): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad(`${field} must be an object`);
  const entries = Object.entries(value);
  if (entries.length > MAX_TAGS) throw bad(`${field} holds at most ${MAX_TAGS} tags`);
  for (const [key, tag] of entries) {
    if (key.length === 0 || key.length > 250) throw bad(`${field} keys are 1-250 characters`);
    if (typeof tag !== 'string' || tag.length > 5000)
      throw bad(`${field}.${key.slice(0, 60)} must be a string of at most 5000 characters`);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

function optionalText(value: unknown, field: string, max: number): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'string' || value.length > max)
    throw bad(`${field} must be a string of at most ${max} characters`);
  return value;
}

function bad(message: string): LarderError {
  return new LarderError('BadRequest', message);
}

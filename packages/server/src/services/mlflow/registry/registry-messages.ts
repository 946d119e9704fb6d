/**
 * Registry records as MLflow's messages (`model_registry.proto`): `RegisteredModel` and
 * `ModelVersion`, timestamps in milliseconds, version numbers as strings, tags as
 * `{key, value}` lists. Larder's own `latest` alias is kept by the server and not shown (MLflow
 * reserves the word); PMF versions show as stage `None` with their files as the source.
 */
import type { StoredDocument } from '../../../stores/document-store.js';
import { MLFLOW_STAGES, type MlflowStage } from '../../registry/mlflow-version-record.js';
import { modelVersionArtifactUri } from '../artifacts/artifact-locations.js';

export interface MlflowFieldsOf {
  source: string;
  runId: string | null;
  loggedModelId: string | null;
  runLink: string;
  stage: MlflowStage;
  tags: Record<string, string>;
  storageLocation?: string;
}

/** The MLflow view of any version, PMF ones included. */
export function mlflowFieldsOf(version: StoredDocument): MlflowFieldsOf {
  if (version.format === 'mlflow' && version.mlflow && typeof version.mlflow === 'object') {
    return version.mlflow as unknown as MlflowFieldsOf;
  }
  const producedBy = Array.isArray(version.producedBy) ? (version.producedBy as string[]) : [];
  return {
    source: modelVersionArtifactUri(version._id),
    runId: producedBy[0] ?? null,
    loggedModelId: null,
    runLink: '',
    stage: 'None',
    tags: {},
  };
}

export function aliasesOf(model: StoredDocument): [string, number][] {
  const aliases = (model.aliases ?? {}) as Record<string, number>;
  return Object.entries(aliases)
    .filter(([alias]) => alias !== 'latest')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export function modelVersionMessage(model: StoredDocument, version: StoredDocument): Record<string, unknown> {
  const fields = mlflowFieldsOf(version);
  const number = Number(version.version);
  return {
    name: String(model.name),
    version: String(number),
    creation_timestamp: millis(version.createdAt),
    last_updated_timestamp: millis(version.updatedAt),
    ...(typeof version.userId === 'string' ? { user_id: version.userId } : {}),
    current_stage: fields.stage,
    description: typeof version.description === 'string' ? version.description : '',
    source: fields.source,
    ...(fields.runId ? { run_id: fields.runId } : {}),
    status: 'READY',
    tags: pairs(fields.tags),
    ...(fields.runLink ? { run_link: fields.runLink } : {}),
    aliases: aliasesOf(model)
      .filter(([, target]) => target === number)
      .map(([alias]) => alias),
    ...(fields.loggedModelId ? { model_id: fields.loggedModelId } : {}),
  };
}

/** The newest version in each stage, as MLflow's `latest_versions`. */
export function latestPerStage(
  versions: readonly StoredDocument[],
  stages: readonly string[] = MLFLOW_STAGES,
): StoredDocument[] {
  const wanted = new Set(stages.map((stage) => stage.toLowerCase()));
  const newest = new Map<string, StoredDocument>();
  for (const version of versions) {
    const stage = mlflowFieldsOf(version).stage;
    if (!wanted.has(stage.toLowerCase())) continue;
    const held = newest.get(stage);
    if (!held || Number(held.version) < Number(version.version)) newest.set(stage, version);
  }
  return [...newest.values()].sort((a, b) => Number(a.version) - Number(b.version));
}

export function registeredModelMessage(
  model: StoredDocument,
  versions: readonly StoredDocument[],
): Record<string, unknown> {
  return {
    name: String(model.name),
    creation_timestamp: millis(model.createdAt),
    last_updated_timestamp: millis(model.updatedAt),
    ...(typeof model.userId === 'string' ? { user_id: model.userId } : {}),
    description: typeof model.description === 'string' ? model.description : '',
    latest_versions: latestPerStage(versions).map((version) => modelVersionMessage(model, version)),
    tags: pairs((model.mlflowTags ?? {}) as Record<string, string>),
    aliases: aliasesOf(model).map(([alias, version]) => ({ alias, version: String(version) })),
  };
}

export function millis(value: unknown): number {
  if (typeof value === 'number') return value;
  const parsed = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isFinite(parsed) ? parsed : 0;
}

function pairs(tags: Record<string, string>): { key: string; value: string }[] {
  return Object.entries(tags).map(([key, value]) => ({ key, value }));
}

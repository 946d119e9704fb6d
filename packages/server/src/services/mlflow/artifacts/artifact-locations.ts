/**
 * Where an MLflow artifact path points. MLflow's server with `--serve-artifacts` lays
 * artifacts out as `<experiment_id>/<run_id>/artifacts/<path>` for runs and
 * `<experiment_id>/models/<model_id>/artifacts/<path>` for logged models and
 * `<experiment_id>/traces/<trace_id>/artifacts/<path>` for MLflow 3 traces; Larder adds the
 * read-only `model-versions/<version_id>/artifacts/<path>` for registry versions. Paths are
 * checked segment by segment here, so nothing below ever sees `..`, an absolute path, a
 * backslash, a control character or broken percent-encoding.
 */
import { MlflowError } from '../mlflow-errors.js';

export type ArtifactRoot =
  | { kind: 'run'; experimentId: string; runId: string }
  | { kind: 'logged-model'; experimentId: string; modelId: string }
  | { kind: 'trace'; experimentId: string; traceId: string }
  | { kind: 'model-version'; versionId: string };

export interface ArtifactLocation {
  root: ArtifactRoot;
  /** Relative to the root's `artifacts/` directory; `''` is the root itself. */
  path: string;
}

const ARTIFACTS = 'artifacts';
const MAX_PATH_LENGTH = 4096;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const CONTROL = /[\u0000-\u001f\u007f]/;

/** The `artifact_uri` of a run, as MLflow's server gives it. */
export function runArtifactUri(experimentId: string, runId: string): string {
  return `mlflow-artifacts:/${experimentId}/${runId}/${ARTIFACTS}`;
}

/** The `artifact_uri` of an MLflow 3 logged model. */
export function loggedModelArtifactUri(experimentId: string, modelId: string): string {
  return `mlflow-artifacts:/${experimentId}/models/${modelId}/${ARTIFACTS}`;
}

/** Where a trace's data (`traces.json`) lives, as MLflow's server tags it (`mlflow.artifactLocation`). */
export function traceArtifactUri(experimentId: string, traceId: string): string {
  return `mlflow-artifacts:/${experimentId}/traces/${traceId}/${ARTIFACTS}`;
}

/** Where a registry version's files are served from (what get-download-uri answers). */
export function modelVersionArtifactUri(versionId: string): string {
  return `mlflow-artifacts:/model-versions/${versionId}/${ARTIFACTS}`;
}

/** Decoded, checked segments of a `/`-separated path; empty segments (`a//b`, trailing `/`) are dropped. */
export function safeSegments(raw: string, encoded: boolean): string[] {
  if (raw.length > MAX_PATH_LENGTH) throw invalid(`Artifact paths are limited to ${MAX_PATH_LENGTH} characters`);
  if (raw.startsWith('/') && !encoded) throw invalid(`Artifact path "${raw.slice(0, 200)}" must be relative`);
  const segments: string[] = [];
  for (const piece of raw.split('/')) {
    let segment = piece;
    if (encoded) {
      try {
        segment = decodeURIComponent(piece);
      } catch {
        throw invalid(`Artifact path "${raw.slice(0, 200)}" is not valid percent-encoding`);
      }
    }
    if (segment === '') continue;
    if (
      segment === '.' ||
      segment === '..' ||
      segment.includes('/') ||
      segment.includes('\\') ||
      CONTROL.test(segment)
    ) {
      throw invalid(`Invalid artifact path "${raw.slice(0, 200)}": no ".", "..", backslashes or control characters`);
    }
    if (/^[A-Za-z]:$/.test(segment) && segments.length === 0) throw invalid('Artifact paths must be relative');
    segments.push(segment);
  }
  return segments;
}

/**
 * Parses the path after `/mlflow-artifacts/artifacts/` (percent-encoded in a URL, or plain
 * in a `?path=` or a source URI) into its root and the path inside it.
 */
export function parseArtifactLocation(raw: string, options: { encoded: boolean }): ArtifactLocation {
  return locationOf(safeSegments(raw, options.encoded), raw);
}

function locationOf(segments: string[], raw: string): ArtifactLocation {
  const [first, second, third, fourth, ...rest] = segments;
  if (first === 'model-versions' && second !== undefined && third === ARTIFACTS) {
    return { root: { kind: 'model-version', versionId: second }, path: [fourth, ...rest].filter(isText).join('/') };
  }
  if (first !== undefined && second === 'models' && third !== undefined && fourth === ARTIFACTS) {
    return { root: { kind: 'logged-model', experimentId: first, modelId: third }, path: rest.join('/') };
  }
  if (first !== undefined && second === 'traces' && third !== undefined && fourth === ARTIFACTS) {
    return { root: { kind: 'trace', experimentId: first, traceId: third }, path: rest.join('/') };
  }
  if (first !== undefined && second !== undefined && third === ARTIFACTS) {
    return {
      root: { kind: 'run', experimentId: first, runId: second },
      path: [fourth, ...rest].filter(isText).join('/'),
    };
  }
  throw new MlflowError(
    'INVALID_PARAMETER_VALUE',
    `"${raw.slice(0, 200)}" is not an artifact location: use <experiment_id>/<run_id>/artifacts/<path> ` +
      'or <experiment_id>/models/<model_id>/artifacts/<path>',
  );
}

function isText(value: string | undefined): value is string {
  return value !== undefined;
}

function invalid(message: string): MlflowError {
  return new MlflowError('INVALID_PARAMETER_VALUE', message);
}

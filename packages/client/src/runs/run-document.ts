/**
 * `run.json`, the metadata of a local run, and the other small files of a run directory.
 * See LOCAL-FORMAT.md.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonValue } from '@larder/protocol';
import { LarderError } from '@larder/protocol';
import { isObject, readJsonFile } from './local-json-file.js';
import type { Associations, ConflictStrategy, ResourceRef, RunStatus } from './runs-remote.js';

export const RUN_FILE = 'run.json';
export const HPARAMS_FILE = 'hparams.json';
export const PLATFORM_FILE = 'platform.json';
export const GIT_FILE = 'git.json';
/** The metric log of runs made now: binary records (see LOCAL-FORMAT.md). */
export const METRICS_FILE = 'metrics.lmc';
/** The metric log of runs made before the binary one: JSON lines, still read and uploaded. */
export const NDJSON_METRICS_FILE = 'metrics.ndjson';

/** The metric log a run directory holds: the binary one, else an older run's JSON lines. */
export function metricLogPath(directory: string): string {
  const binary = join(directory, METRICS_FILE);
  if (existsSync(binary)) return binary;
  const ndjson = join(directory, NDJSON_METRICS_FILE);
  return existsSync(ndjson) ? ndjson : binary;
}

/** An association to a run or artifact that exists only locally until it is uploaded. */
export interface LocalAssociation {
  kind: 'run' | 'artifact';
  /** Absolute path of its directory. */
  local: string;
  altName: string;
}

export type Association = ResourceRef | LocalAssociation;

export interface RunDocument {
  format: 1;
  kind: 'run';
  name: string;
  altName: string;
  labels: string[];
  description: string;
  status: RunStatus;
  startTime: string;
  endTime: string | null;
  associations: Associations<Association>;
  /** Where automatic uploads go; also the default for `upload()`. */
  upload: { autoUpload: boolean; folder: string; makeFolder: boolean; conflictStrategy: ConflictStrategy };
  /** The run's files on the server (`files.<name>`), for a run brought back from one. */
  files?: Record<string, JsonValue>;
  /** Set on a run brought back from a server: no local writer ever ran it. */
  copiedFrom?: { server: string; id: string };
}

export interface RunFiles {
  document: RunDocument;
  hparams: Record<string, JsonValue>;
  platform: JsonValue;
  git: JsonValue;
}

/** The run in `directory`, or `undefined` when the directory holds no run.json. */
export async function readRunFiles(directory: string): Promise<RunFiles | undefined> {
  const document = await readJsonFile(join(directory, RUN_FILE));
  if (document === undefined) return undefined;
  if (!isObject(document) || document.kind !== 'run' || typeof document.altName !== 'string') {
    throw new LarderError('BadRequest', `${join(directory, RUN_FILE)} does not describe a run`);
  }
  const [hparams, platform, git] = await Promise.all(
    [HPARAMS_FILE, PLATFORM_FILE, GIT_FILE].map((file) => readJsonFile(join(directory, file))),
  );
  return {
    document: document as unknown as RunDocument,
    hparams: isObject(hparams) ? (hparams as Record<string, JsonValue>) : {},
    platform: (platform ?? null) as JsonValue,
    git: (git ?? null) as JsonValue,
  };
}

export function isLocalAssociation(association: Association): association is LocalAssociation {
  return 'local' in association;
}

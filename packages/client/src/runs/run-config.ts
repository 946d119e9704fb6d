/**
 * The options of `createRun`, and the YAML run config file whose values take precedence over
 * them. The file accepts the options' camelCase names and their snake_case spellings:
 *
 * ```yaml
 * name: cnn_keras
 * hparams: { batch_size: 32, epochs: 1 }
 * labels: [Keras]
 * description: Train a small CNN on MNIST.
 * auto_upload: true
 * folder: cv/mnist
 * ```
 */
import { readFile } from 'node:fs/promises';
import { LarderError } from '@larder/protocol';
import { parse } from 'yaml';
import type { RemoteOptions } from './data-store-runs-remote.js';
import { isObject } from './local-json-file.js';
import type { ParamValue } from './run-params.js';
import { CONFLICT_STRATEGIES, type ConflictStrategy, type UploadTarget, uploadTarget } from './runs-remote.js';

export interface RunSettings extends UploadTarget {
  /** Default `default`. */
  name?: string;
  hparams?: Readonly<Record<string, ParamValue>>;
  labels?: readonly string[];
  description?: string;
  /** Upload the run and its changes in the background. Default false. */
  autoUpload?: boolean;
}

export interface CreateRunOptions extends RunSettings, RemoteOptions {
  /** A YAML file of {@link RunSettings}; its values win over the options. */
  configPath?: string;
  /** Milliseconds between writes of buffered points to disk. Default 1000. */
  flushIntervalMs?: number;
  /** Milliseconds between background uploads. Default 5000. */
  uploadIntervalMs?: number;
  /**
   * Record the machine's CPU, memory, disk, network and GPUs as `system` metrics in the
   * background while the run is open. Default true.
   */
  systemMetrics?: boolean;
  /** Milliseconds between system metric samples (at least 50). Default 10 000. */
  systemMetricsIntervalMs?: number;
  /** Record what the process writes to stdout and stderr in the run (`console.ndjson`). Default true. */
  captureConsole?: boolean;
}

const SPELLINGS: Record<string, keyof RunSettings> = {
  name: 'name',
  hparams: 'hparams',
  labels: 'labels',
  description: 'description',
  autoUpload: 'autoUpload',
  auto_upload: 'autoUpload',
  folder: 'folder',
  makeFolder: 'makeFolder',
  make_folder: 'makeFolder',
  conflictStrategy: 'conflictStrategy',
  conflict_strategy: 'conflictStrategy',
};

/** The settings in a YAML config file. */
export async function readRunConfig(path: string): Promise<RunSettings> {
  let parsed: unknown;
  try {
    parsed = parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new LarderError('BadRequest', `Could not read the run config ${path}: ${String(cause)}`, { cause });
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isObject(parsed)) throw new LarderError('BadRequest', `The run config ${path} is not a YAML mapping`);
  const settings: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed)) {
    const option = SPELLINGS[key];
    if (!option) {
      throw new LarderError(
        'BadRequest',
        `The run config ${path} has an unknown key "${key}"; known keys: ${Object.keys(SPELLINGS).join(', ')}`,
      );
    }
    settings[option] = value;
  }
  return settings as RunSettings;
}

/** Options merged with the config file, checked. */
export async function resolveRunSettings(
  options: CreateRunOptions,
): Promise<Required<Omit<RunSettings, 'organization' | 'onProgress'>>> {
  const fromFile = options.configPath ? await readRunConfig(options.configPath) : {};
  const merged = { ...options, ...fromFile };
  const where = options.configPath ? ` (in ${options.configPath} or the options)` : '';
  const fail = (message: string) => new LarderError('BadRequest', `${message}${where}`);
  const labels = merged.labels ?? [];
  if (!Array.isArray(labels) || !labels.every((each) => typeof each === 'string')) {
    throw fail('labels must be a list of strings');
  }
  if (merged.hparams !== undefined && !isObject(merged.hparams)) throw fail('hparams must be a mapping');
  if (merged.description !== undefined && typeof merged.description !== 'string') {
    throw fail('description must be a string');
  }
  if (merged.folder !== undefined && (typeof merged.folder !== 'string' || merged.folder.trim() === '')) {
    throw fail('folder must be a non-empty string');
  }
  const strategy = merged.conflictStrategy ?? 'new';
  if (!CONFLICT_STRATEGIES.includes(strategy)) {
    throw fail(`conflictStrategy must be one of ${CONFLICT_STRATEGIES.join(', ')}, not ${JSON.stringify(strategy)}`);
  }
  return {
    name: merged.name ?? 'default',
    hparams: merged.hparams ?? {},
    labels: [...labels],
    description: merged.description ?? '',
    autoUpload: Boolean(merged.autoUpload),
    folder: uploadTarget({ folder: merged.folder ?? 'default', organization: merged.organization }).folder,
    makeFolder: Boolean(merged.makeFolder),
    conflictStrategy: strategy as ConflictStrategy,
  };
}

/**
 * `Writer`: records a training run the Marcelle way, on disk first and on the server when it
 * can be reached. The run folder (`<baseLogDir>/<start, ':' → '-'>/`) holds `run_data.json`
 * and the checkpoints (`model_checkpoint_epoch=<N>/`, `model_checkpoint_final/`, tfjs
 * folders), so a run written offline uploads later with `Uploader`.
 *
 * @example
 * const writer = new Writer({ name: 'mlp', backendRoot: 'http://127.0.0.1:3030', token });
 * await writer.createRun({ model, runParams: { lr: 0.01 } });
 * await writer.trainBegin(10);
 * await writer.saveEpoch(1, { loss: 0.7 }, { saveCheckpoint: true });
 * await writer.trainEnd({ saveCheckpoint: true });
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonFileSync } from '../runs/local-json-file.js';
import { Remote, type SaveFormat } from './marcelle-remote.js';
import { conformDict, getModelInfo } from './model-info.js';
import { type CheckpointEntry, localStart, RUN_DATA_FILE, type RunData, runFolderName } from './run-data.js';
import { folderSaveHandler } from './tfjs-model-files.js';
import type { TfjsLayersModel } from './tfjs-types.js';

export interface WriterOptions {
  /** The run's base name; runs are named `<name>-<n>` on the server. */
  name: string;
  backendRoot?: string;
  /** How checkpoints are kept on disk: tfjs folders (the only format tfjs writes). */
  diskSaveFormat?: 'tfjs';
  remoteSaveFormat?: SaveFormat;
  baseLogDir?: string;
  source?: string;
  /** A JWT or API key for the server; default `$LARDER_TOKEN`, else the credentials file's. */
  token?: string;
  /** Default `$LARDER_CREDENTIALS`, else `~/.larder/credentials.json`. */
  credentialsFile?: string;
  /** Use this remote instead of making one. */
  remote?: Remote;
  /** Where warnings go (server unreachable…); default `console.warn`. */
  warn?: (message: string) => void;
}

export class Writer {
  readonly remote: Remote;
  readonly baseLogDir: string;
  runData: RunData | undefined;
  /** The run's folder, once created. */
  logFolder: string | undefined;
  #model: TfjsLayersModel | undefined;
  readonly #options: WriterOptions;

  constructor(options: WriterOptions) {
    this.#options = options;
    this.baseLogDir = options.baseLogDir ?? 'marcelle-logs';
    this.remote =
      options.remote ??
      new Remote({
        ...(options.backendRoot ? { backendRoot: options.backendRoot } : {}),
        saveFormat: options.remoteSaveFormat ?? 'tfjs',
        source: options.source ?? 'tfjs',
        ...(options.token ? { token: options.token } : {}),
        ...(options.credentialsFile ? { credentialsFile: options.credentialsFile } : {}),
      });
  }

  /** Starts a run: written to disk, created on the server when reachable. */
  async createRun(options: { model?: TfjsLayersModel; runParams?: Record<string, unknown>; loss?: unknown } = {}) {
    const start = localStart();
    const run: RunData = {
      basename: this.#options.name,
      name: this.#options.name,
      start,
      source: this.remote.source,
      status: 'idle',
      params: conformDict(options.runParams ?? {}),
      epoch: 0,
      logs: {},
      checkpoints: [],
      assets: [],
    };
    if (options.model) {
      this.#model = options.model;
      run.model = getModelInfo(options.model, options.loss);
    }
    this.runData = run;
    this.logFolder = join(this.baseLogDir, runFolderName(start));
    await mkdir(this.logFolder, { recursive: true });
    const created = await this.#tryRemote(() => this.remote.create(run));
    if (created) run.name = String(created.name);
    this.#writeToDisk();
    return run;
  }

  async trainBegin(epochs: number): Promise<void> {
    const run = this.#run();
    run.status = 'start';
    run.epoch = 0;
    run.epochs = epochs;
    await this.#sync();
  }

  /** Records an epoch's logs (scalars), with an optional checkpoint and asset files. */
  async saveEpoch(
    epoch: number,
    logs: Record<string, number | null | undefined> = {},
    options: { saveCheckpoint?: boolean; assets?: string[] } = {},
  ): Promise<void> {
    const run = this.#run();
    run.status = 'epoch';
    run.epoch = epoch;
    for (const [key, value] of Object.entries(conformDict(logs))) {
      run.logs[key] = [...(run.logs[key] ?? []), typeof value === 'number' ? value : null];
    }
    if (options.saveCheckpoint) await this.saveCheckpoint(epoch);
    for (const asset of options.assets ?? []) await this.saveAsset(epoch, asset);
    await this.#sync();
  }

  /** Saves the model in the run folder and uploads it; `final` names the last one. */
  async saveCheckpoint(epoch: number | 'final', model?: TfjsLayersModel): Promise<CheckpointEntry> {
    const run = this.#run();
    if (model) this.#model = model;
    if (!this.#model) throw new Error('No model to save: give one to createRun or saveCheckpoint');
    const folder = join(
      this.logFolder as string,
      epoch === 'final' ? 'model_checkpoint_final' : `model_checkpoint_epoch=${epoch}`,
    );
    await this.#model.save(folderSaveHandler(folder));
    const entry: CheckpointEntry = {
      name: `${run.name}@${epoch}`,
      metadata: { epoch, local_path: folder, local_format: 'tfjs' },
    };
    run.checkpoints.push(entry);
    const stored = await this.#tryRemote(() =>
      this.remote.uploadModel(folder, 'tfjs', {
        name: entry.name,
        metadata: { tfjsModelFormat: 'layers-model', ...entry.metadata },
      }),
    );
    if (stored) {
      entry.id = stored._id;
      entry.service = `${this.remote.saveFormat}-models`;
    }
    await this.#sync();
    return entry;
  }

  async saveAsset(epoch: number, path: string): Promise<void> {
    const run = this.#run();
    const entry: RunData['assets'][number] = { filename: path.split(/[\\/]/).pop() ?? path, epoch, local_path: path };
    const stored = await this.#tryRemote(() => this.remote.uploadAsset(path, { epoch, local_path: path }));
    if (stored) {
      entry.id = stored._id;
      entry.url = String(stored.url);
    }
    run.assets.push(entry);
    await this.#sync();
  }

  async trainEnd(options: { saveCheckpoint?: boolean } = {}): Promise<void> {
    const run = this.#run();
    run.status = 'success';
    if (options.saveCheckpoint) await this.saveCheckpoint('final');
    await this.#sync();
  }

  #run(): RunData {
    if (!this.runData) throw new Error('Call createRun first');
    return this.runData;
  }

  async #sync(): Promise<void> {
    this.#writeToDisk();
    if (this.remote.runId) await this.#tryRemote(() => this.remote.update(this.#run()));
  }

  #writeToDisk(): void {
    writeJsonFileSync(join(this.logFolder as string, RUN_DATA_FILE), this.#run());
  }

  /** Server calls never stop a training: unreachable, the run stays local for `Uploader`. */
  async #tryRemote<T>(call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (error) {
      (this.#options.warn ?? console.warn)(
        `marcelle: ${this.remote.backendRoot} unreachable or refused (${(error as Error).message}); the run is kept in ${this.logFolder}`,
      );
      return undefined;
    }
  }
}

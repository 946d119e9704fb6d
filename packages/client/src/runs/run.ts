/**
 * A run: a directory on disk that records hyperparameters, metrics, platform, git state and
 * the resources it read and wrote, uploaded to a server when asked or in the background.
 * Create one with {@link createRun}, open one with {@link loadRun}.
 */
import { join } from 'node:path';
import type { JsonValue } from '@larder/protocol';
import { LarderError } from '@larder/protocol';
import { Artifact } from '../artifacts/artifact.js';
import type { BackgroundUpload } from './background-upload.js';
import type { ConsoleCapture } from './console-capture/console-capture.js';
import { type RemoteOptions, withRemote } from './data-store-runs-remote.js';
import { writeJsonFileSync } from './local-json-file.js';
import type { NumericValues } from './media/histogram.js';
import type { ImageInput } from './media/image-input.js';
import { MediaLogWriter } from './media/media-log-writer.js';
import { type LogHistogramOptions, type LogImageOptions, logHistogramTo, logImageTo } from './media/run-media-log.js';
import { type MetricSeries, readAllSeries } from './metric-log-reader.js';
import type { MetricLogWriter } from './metric-log-writer.js';
import { normalizeMetricType } from './metric-types.js';
import { type AlertLevel, type RunAlert, recordAlert } from './run-alerts.js';
import {
  type Association,
  HPARAMS_FILE,
  metricLogPath,
  RUN_FILE,
  type RunDocument,
  type RunFiles,
} from './run-document.js';
import { createRunParams, type RunParams } from './run-params.js';
import { RunUploader, type RunUploadResult } from './run-uploader.js';
import type { Associations, ResourceRef, RunStatus, RunsRemote, UploadTarget } from './runs-remote.js';
import type { SystemMetricsSampler } from './system-metrics/system-metrics-sampler.js';
import { releaseWriterLock } from './writer-lock.js';

/** What `markInput` / `markOutput` accept. */
export type RunResource = Run | Artifact | ResourceRef;

/** A metric value: a number, or anything `Number()` turns into one (a bigint, a one-element tensor). */
export type MetricValue = number | bigint | { valueOf(): number };

/** @internal How createRun and loadRun hand a run its state. */
export interface RunState {
  directory: string;
  files: RunFiles;
  /** Present while this process writes the run. */
  writer?: MetricLogWriter;
  /** Present while this process writes the run, unless turned off. */
  systemMetrics?: SystemMetricsSampler;
  console?: ConsoleCapture;
  /** Present with autoUpload. */
  autoUpload?: { remote: RunsRemote; ownsRemote: boolean; uploader: RunUploader; background: BackgroundUpload };
}

export class Run {
  /** The run's local directory. */
  readonly local: string;
  readonly platform: JsonValue;
  readonly git: JsonValue;
  readonly #document: RunDocument;
  readonly #params: RunParams;
  readonly #types = new Map<string, string>();
  readonly #uploaders = new WeakMap<RunsRemote, RunUploader>();
  readonly #auto: RunState['autoUpload'];
  readonly #system: SystemMetricsSampler | undefined;
  readonly #console: ConsoleCapture | undefined;
  #writer: MetricLogWriter | undefined;
  /** Opened by the first image or histogram logged. */
  #media: MediaLogWriter | undefined;
  #finished = false;
  #finalUploadError: unknown;

  /** @internal Use {@link createRun} or {@link loadRun}. */
  constructor(state: RunState) {
    this.local = state.directory;
    this.#document = state.files.document;
    this.platform = state.files.platform;
    this.git = state.files.git;
    this.#writer = state.writer;
    this.#auto = state.autoUpload;
    this.#system = state.systemMetrics;
    this.#console = state.console;
    if (this.#auto) this.#uploaders.set(this.#auto.remote, this.#auto.uploader);
    this.#params = createRunParams(state.files.hparams, (hparams) => {
      writeJsonFileSync(join(this.local, HPARAMS_FILE), hparams);
      this.#auto?.background.nudge();
    });
  }

  get name(): string {
    return this.#document.name;
  }
  get altName(): string {
    return this.#document.altName;
  }
  get labels(): readonly string[] {
    return this.#document.labels;
  }
  get description(): string {
    return this.#document.description;
  }
  get status(): RunStatus {
    return this.#document.status;
  }
  get startTime(): string {
    return this.#document.startTime;
  }
  get endTime(): string | null {
    return this.#document.endTime;
  }
  get associations(): Readonly<Associations<Association>> {
    return this.#document.associations;
  }
  /** The run's files on the server (`{ sha256, size, filename }` by name), for a run loaded from one. */
  get files(): Readonly<Record<string, JsonValue>> {
    return this.#document.files ?? {};
  }

  /**
   * The hyperparameters, read and set like properties; each change is saved at once and,
   * with autoUpload, sent to the server shortly after.
   *
   * @example
   * run.params.update({ batch_size: 32, epochs: 10 });
   * run.params.learning_rate = 0.001;
   * const epochs = run.params.epochs;
   */
  get params(): RunParams {
    return this.#params;
  }

  /**
   * The error of the last failed upload (background uploads are retried; after `finish()`
   * it is the final upload's), if any. Network trouble never throws out of `log` or `finish`.
   */
  get uploadError(): unknown {
    return (
      this.#finalUploadError ?? this.#auto?.background.lastError ?? this.#writer?.lastError ?? this.#media?.lastError
    );
  }

  /**
   * Records one point per metric. It only buffers in memory (well under 2 µs a call): the
   * points reach disk within a second and, with autoUpload, the server within seconds.
   *
   * @param type `train` (`training`), `val` (`validate`, `validation`), `test` (`testing`,
   *   `eval`, `evaluate`, `evaluation`), or any other string as a custom type.
   * @example
   * run.log('train', { loss: 0.31, accuracy: 0.9 }, step, epoch);
   */
  log(type: string, metrics: Readonly<Record<string, MetricValue>>, step: number, epoch?: number): void {
    const writer = this.#writer;
    if (writer === undefined) throw this.#notWritable();
    let normalized = this.#types.get(type);
    if (normalized === undefined) {
      normalized = normalizeMetricType(type);
      this.#types.set(type, normalized);
    }
    if (typeof step !== 'number' || !Number.isFinite(step)) {
      throw new LarderError('BadRequest', `run.log needs a finite number as step, not ${String(step)}`);
    }
    if (epoch !== undefined && (typeof epoch !== 'number' || !Number.isFinite(epoch))) {
      throw new LarderError('BadRequest', `run.log needs a finite number as epoch, not ${String(epoch)}`);
    }
    let numbers = metrics as Readonly<Record<string, number>>;
    for (const name in metrics) {
      if (typeof metrics[name] !== 'number') {
        numbers = toNumbers(metrics);
        break;
      }
    }
    writer.append(normalized, numbers, step, epoch ?? null, Date.now());
  }

  /**
   * Records a picture at a step: a file path, the bytes of a PNG/JPEG/GIF/WebP, or raw
   * pixels (`{ data, width, height, channels }`, or nested `[row][column][channel]` arrays;
   * uint8 0..255 or floats 0..1), encoded to PNG in the background. Kept in the run's
   * directory and uploaded with it; the run page shows it with a step slider.
   *
   * @example
   * run.logImage('samples', { data: pixels, width: 64, height: 64, channels: 3 }, { step, caption: 'epoch 3' });
   * run.logImage('confusion', 'plots/confusion.png', { step });
   */
  logImage(name: string, image: ImageInput, options: LogImageOptions): void {
    logImageTo(this.#mediaWriter(), name, image, options);
    this.#auto?.background.nudge();
  }

  /**
   * Records the distribution of a tensor at a step (weights, gradients, activations): the SDK
   * bins the values (64 equal-width buckets from min to max unless `bins` says otherwise) and
   * keeps only the bins. The run page draws them as distributions over steps.
   *
   * @example
   * run.logHistogram('dense1/kernel', layer.getWeights()[0].dataSync(), { step });
   */
  logHistogram(name: string, values: NumericValues, options: LogHistogramOptions): void {
    logHistogramTo(this.#mediaWriter(), name, values, options);
    this.#auto?.background.nudge();
  }

  #mediaWriter(): MediaLogWriter {
    if (this.#writer === undefined) throw this.#notWritable();
    this.#media ??= new MediaLogWriter(this.local);
    return this.#media;
  }

  /** Records `resource` as read by this run. */
  markInput(resource: RunResource): void {
    this.#associate('inputs', resource);
  }

  /** Records `resource` as written by this run. */
  markOutput(resource: RunResource): void {
    this.#associate('outputs', resource);
  }

  /** Writes every buffered point to disk (fsync'd). */
  async flush(): Promise<void> {
    await this.#writer?.flush();
    await this.#console?.flush();
    await this.#media?.flush();
  }

  /**
   * Every point logged so far, per series.
   *
   * @example
   * const loss = (await run.metrics()).find((s) => s.type === 'train' && s.name === 'loss');
   */
  /**
   * Raises an alert: written to the run's directory at once, sent with the next upload (with
   * autoUpload, in a moment) to the webhooks that asked for `run.alert` (Slack-compatible).
   *
   * @example
   * if (!Number.isFinite(loss)) run.alert({ title: 'loss diverged', text: `step ${step}`, level: 'error' });
   */
  alert(options: { title: string; text?: string; level?: AlertLevel }): RunAlert {
    const alert = recordAlert(this.local, options);
    this.#auto?.background.nudge();
    return alert;
  }

  async metrics(): Promise<MetricSeries[]> {
    await this.flush();
    return (await readAllSeries(metricLogPath(this.local))).series;
  }

  /**
   * Ends the run: writes the remaining points, sets the status (`Complete` unless told) and
   * end time, and with autoUpload waits for the final upload. On a loaded run it only stops
   * the background upload after a last one. If that upload fails (the server is down) the
   * run is still complete on disk: `finish()` warns on stderr, keeps the error in
   * {@link uploadError} and resolves; `larder upload` (or `upload()`) sends the run later.
   */
  async finish(options: { status?: 'Complete' | 'Failed' } = {}): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    const writer = this.#writer;
    if (writer) {
      this.#writer = undefined;
      await this.#system?.stop();
      await writer.close();
      await this.#media?.close();
      this.#document.status = options.status ?? 'Complete';
      this.#document.endTime = new Date().toISOString();
      this.#saveDocument();
      releaseWriterLock(this.local);
      await this.#console?.finish(this.#document.status as 'Complete' | 'Failed');
    }
    const auto = this.#auto;
    if (!auto) return;
    await auto.background.stop();
    try {
      await auto.background.lastSync();
    } catch (cause) {
      this.#finalUploadError = new LarderError(
        'Unavailable',
        `Run ${this.altName} finished and is saved in ${this.local}, but uploading it failed (${describe(cause)}); send it later with: larder upload ${this.local}`,
        { cause },
      );
      console.warn(`larder: ${(this.#finalUploadError as Error).message}`);
    } finally {
      if (auto.ownsRemote) await auto.remote.close().catch(() => {});
    }
  }

  /**
   * Uploads the run (and its not yet uploaded input/output artifacts and runs) to the server.
   * Uploading again sends only what is new.
   *
   * @example
   * await run.upload({ folder: 'cv/mnist', makeFolder: true, conflictStrategy: 'new' });
   */
  async upload(options: UploadTarget & RemoteOptions = {}): Promise<RunUploadResult> {
    await this.flush();
    const { remote, connection, ...target } = options;
    const useAuto = !remote && !connection && this.#auto;
    const chosen: RemoteOptions = useAuto ? { remote: this.#auto!.remote } : { remote, connection };
    return withRemote(chosen, (each) => {
      let uploader = this.#uploaders.get(each);
      if (!uploader) {
        uploader = new RunUploader(this.local, each);
        this.#uploaders.set(each, uploader);
      }
      return uploader.sync(target);
    });
  }

  #associate(side: 'inputs' | 'outputs', resource: RunResource): void {
    const association = toAssociation(resource);
    const list = this.#document.associations[side];
    const same = (each: Association) => JSON.stringify(each) === JSON.stringify(association);
    if (list.some(same)) return;
    list.push(association);
    this.#saveDocument();
    this.#auto?.background.nudge();
  }

  #saveDocument(): void {
    writeJsonFileSync(join(this.local, RUN_FILE), this.#document);
  }

  #notWritable(): LarderError {
    return new LarderError(
      'BadRequest',
      this.#document.status === 'Running'
        ? `Run ${this.altName} was loaded from ${this.local}; only the process that created it logs to it`
        : `Run ${this.altName} is ${this.#document.status}; create a new run to log more`,
    );
  }
}

function toAssociation(resource: RunResource): Association {
  if (resource instanceof Run) return { kind: 'run', local: resource.local, altName: resource.altName };
  if (resource instanceof Artifact) return { kind: 'artifact', local: resource.local, altName: resource.altName };
  const kinds: readonly string[] = ['model-version', 'dataset-version', 'run', 'artifact'];
  if (!kinds.includes(resource?.kind) || typeof resource.id !== 'string' || resource.id === '') {
    throw new LarderError(
      'BadRequest',
      'Mark a Run, an Artifact, or { kind: "model-version" | "dataset-version" | "run" | "artifact", id }',
    );
  }
  return { kind: resource.kind, id: resource.id };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function toNumbers(metrics: Readonly<Record<string, MetricValue>>): Record<string, number> {
  const numbers: Record<string, number> = {};
  for (const [name, value] of Object.entries(metrics)) {
    const number = Number(value);
    if (Number.isNaN(number) && !(typeof value === 'number')) {
      throw new LarderError('BadRequest', `Metric "${name}" is not a number: ${String(value).slice(0, 40)}`);
    }
    numbers[name] = number;
  }
  return numbers;
}

/**
 * Starting a run: its directory under `$LARDER_RUN_PARENT_DIR` (default `.larder/runs`),
 * named by its alternative name, with the platform and git state captured, a writer lock,
 * and (with autoUpload) a background uploader.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SYSTEM_METRIC_TYPE } from '@larder/protocol';
import { BackgroundUpload } from './background-upload.js';
import { ConsoleCapture } from './console-capture/console-capture.js';
import { DataStoreRunsRemote } from './data-store-runs-remote.js';
import { captureGit } from './git-info.js';
import { alternativeName, assertResourceName, runParentDir } from './local-directories.js';
import { writeJsonFileSync } from './local-json-file.js';
import { MetricLogWriter } from './metric-log-writer.js';
import { capturePlatform } from './platform-info.js';
import { recentCapture } from './recent-capture.js';
import { Run, type RunState } from './run.js';
import { type CreateRunOptions, resolveRunSettings } from './run-config.js';
import { GIT_FILE, HPARAMS_FILE, METRICS_FILE, PLATFORM_FILE, RUN_FILE, type RunFiles } from './run-document.js';
import { createRunParams } from './run-params.js';
import { RunUploader } from './run-uploader.js';
import { SystemMetricsSampler } from './system-metrics/system-metrics-sampler.js';
import { acquireWriterLock } from './writer-lock.js';

/**
 * Runs started within this many milliseconds of each other in one process record the same
 * platform and git state, captured once (a sweep opening many runs at once would otherwise
 * spawn git and nvidia-smi for each).
 */
const CAPTURE_REUSE_MS = 10_000;
const recentPlatform = recentCapture((cwd) => capturePlatform(cwd), CAPTURE_REUSE_MS);
const recentGit = recentCapture((cwd) => captureGit(cwd), CAPTURE_REUSE_MS);

/**
 * Creates a run and its local directory. Values in the YAML file at `configPath` take
 * precedence over the options. While the run is open the SDK records the machine's
 * `system` metrics every 10 s (`systemMetrics: false` to turn off) and what the process
 * writes to stdout and stderr (`captureConsole: false` to turn off).
 *
 * @example
 * const run = await createRun({ name: 'cnn_keras', hparams: { batch_size: 32 }, autoUpload: true, folder: 'cv/mnist' });
 * for (let step = 0; step < 1000; step++) run.log('train', { loss: train() }, step);
 * await run.finish();
 */
export async function createRun(options: CreateRunOptions = {}): Promise<Run> {
  const settings = await resolveRunSettings(options);
  assertResourceName('run', settings.name);
  // Checks the parameters before anything is written.
  const hparams = createRunParams(settings.hparams, () => {}).toJSON();
  const cwd = process.cwd();
  const [platform, git] = await Promise.all([recentPlatform.get(cwd), recentGit.get(cwd)]);
  const start = new Date();
  let systemMetrics: SystemMetricsSampler | undefined;
  if (options.systemMetrics !== false) {
    // Made (and its interval checked) before anything is written; started with the run.
    systemMetrics = new SystemMetricsSampler({
      ...(options.systemMetricsIntervalMs === undefined ? {} : { intervalMs: options.systemMetricsIntervalMs }),
      startTime: start.getTime(),
      record: (metrics, step, time) => writer.append(SYSTEM_METRIC_TYPE, metrics, step, null, time),
    });
  }
  const altName = alternativeName(settings.name, start);
  const directory = resolve(runParentDir(), altName);
  await mkdir(directory, { recursive: true });
  acquireWriterLock(directory);
  const files: RunFiles = {
    document: {
      format: 1,
      kind: 'run',
      name: settings.name,
      altName,
      labels: settings.labels as string[],
      description: settings.description,
      status: 'Running',
      startTime: start.toISOString(),
      endTime: null,
      associations: { inputs: [], outputs: [] },
      upload: {
        autoUpload: settings.autoUpload,
        folder: settings.folder,
        makeFolder: settings.makeFolder,
        conflictStrategy: settings.conflictStrategy,
      },
    },
    hparams,
    platform: JSON.parse(JSON.stringify(platform)),
    git: JSON.parse(JSON.stringify(git)),
  };
  writeJsonFileSync(join(directory, HPARAMS_FILE), files.hparams);
  writeJsonFileSync(join(directory, PLATFORM_FILE), files.platform);
  writeJsonFileSync(join(directory, GIT_FILE), files.git);
  let autoUpload: RunState['autoUpload'];
  const writer = await MetricLogWriter.create(join(directory, METRICS_FILE), {
    ...(options.flushIntervalMs === undefined ? {} : { flushIntervalMs: options.flushIntervalMs }),
    // The uploader sends what was just written without reading it back, at once when a batch is full.
    onDurable: (written) => {
      if (autoUpload?.uploader.offer(written)) autoUpload.background.soon();
    },
  });
  const flushInterval = options.flushIntervalMs === undefined ? {} : { flushIntervalMs: options.flushIntervalMs };
  const console = options.captureConsole === false ? undefined : await ConsoleCapture.start(directory, flushInterval);
  // run.json last: a directory without it is not (yet) a run.
  writeJsonFileSync(join(directory, RUN_FILE), files.document);
  const state: RunState = { directory, files, writer };
  if (console) state.console = console;
  if (systemMetrics) {
    systemMetrics.start();
    state.systemMetrics = systemMetrics;
  }
  if (settings.autoUpload) {
    const remote = options.remote ?? (await DataStoreRunsRemote.connect(options.connection));
    const uploader = new RunUploader(directory, remote);
    const background = new BackgroundUpload(uploader, {}, { intervalMs: options.uploadIntervalMs ?? 5000 });
    autoUpload = { remote, ownsRemote: !options.remote, uploader, background };
    state.autoUpload = autoUpload;
    background.nudge();
  }
  return new Run(state);
}

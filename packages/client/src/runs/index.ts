// The public API of runs and artifacts; re-exported by the package index.
export { Artifact } from '../artifacts/artifact.js';
export type { ArtifactObject } from '../artifacts/artifact-document.js';
export type { ResourceUploadResult } from '../artifacts/artifact-uploader.js';
export { type CreateArtifactOptions, createArtifact, loadArtifact } from '../artifacts/create-artifact.js';
export { objectPath } from '../artifacts/object-path.js';
export type { BackgroundUploadOptions } from './background-upload.js';
export { type ConsoleChunk, type ConsoleEnd, type ConsoleRecord, readConsoleLog } from './console-capture/index.js';
export { createRun } from './create-run.js';
export { DataStoreRunsRemote, type RemoteOptions } from './data-store-runs-remote.js';
export type { GitInfo } from './git-info.js';
export { type LoadRunOptions, loadRun } from './load-run.js';
export {
  artifactParentDir,
  DEFAULT_ARTIFACT_PARENT_DIR,
  DEFAULT_RUN_PARENT_DIR,
  runParentDir,
} from './local-directories.js';
export { type LoginOptions, login, logout } from './login.js';
export { computeHistogram, type Histogram, type NumericValues } from './media/histogram.js';
export type { ImageInput, NestedPixels, PixelArray, RawImage } from './media/image-input.js';
export type { LogHistogramOptions, LogImageOptions } from './media/run-media-log.js';
export type { RunHistogramBody, RunImageBody } from './media/run-media-upload.js';
export type { MetricSeries } from './metric-log-reader.js';
export { normalizeMetricType } from './metric-types.js';
export type { GpuInfo, PlatformInfo } from './platform-info.js';
export { type MetricValue, Run, type RunResource } from './run.js';
export type { AlertLevel, RunAlert } from './run-alerts.js';
export type { CreateRunOptions, RunSettings } from './run-config.js';
export type { ParamsMethods, ParamValue, RunParams } from './run-params.js';
export type { RunUploadResult } from './run-uploader.js';
export type {
  ArtifactCreateBody,
  ArtifactObjectBody,
  Associations,
  ConflictStrategy,
  MetricSeriesBatch,
  MetricsAnswer,
  MetricsBody,
  RemotePath,
  RemoteRecord,
  ResourceRef,
  RunCreateBody,
  RunFileRef,
  RunPatchBody,
  RunStatus,
  RunsRemote,
  UploadProgressEvent,
  UploadTarget,
} from './runs-remote.js';
export { type DirectoryUploadResult, upload } from './upload-directory.js';

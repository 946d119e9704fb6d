/**
 * The server calls the runs and artifacts SDK makes, described by their shape so that the
 * local-first logic (buffering, crash recovery, resumable uploads) never depends on HTTP.
 * {@link DataStoreRunsRemote} is the implementation over a Larder server.
 */

import type { JsonValue } from '@larder/protocol';
import type { BlobRef } from '../blobs/blob-client.js';
import type { RunLogsBody } from './console-capture/console-log-upload.js';
import type { ConsoleChunk } from './console-capture/console-log-writer.js';
import type { RunHistogramBody, RunImageBody } from './media/run-media-upload.js';
import type { MetricChunk } from './metric-chunk.js';
import type { MetricSeries } from './metric-log-reader.js';
import type { RunAlert } from './run-alerts.js';

/** What happens when the folder already holds a run or artifact of the same name. */
export type ConflictStrategy = 'skip' | 'error' | 'new' | 'replace';
export const CONFLICT_STRATEGIES: readonly ConflictStrategy[] = ['skip', 'error', 'new', 'replace'];

export type RunStatus = 'Running' | 'Complete' | 'Failed' | 'Interrupted';

/** Something a run reads or writes, by its server id. */
export interface ResourceRef {
  kind: 'model-version' | 'dataset-version' | 'run' | 'artifact';
  id: string;
}

export interface Associations<T = ResourceRef> {
  inputs: T[];
  outputs: T[];
}

/** Where an upload goes. A folder not starting with `/` is relative to the user's home. */
export interface UploadTarget {
  /** Default `default`. */
  folder?: string;
  /** Create missing folders. Default false. */
  makeFolder?: boolean;
  /** Default `new`. */
  conflictStrategy?: ConflictStrategy;
  /**
   * Work in this organisation's folders: a relative `folder` then starts at
   * `/<organization>` instead of your home.
   */
  organization?: string;
  /** Told how far a run's metric points have gone (for progress bars). */
  onProgress?: (progress: UploadProgressEvent) => void;
}

export interface UploadProgressEvent {
  /** The local run directory. */
  directory: string;
  /** Bytes of its metric log read and sent so far, out of `bytesTotal`. */
  bytesRead: number;
  bytesTotal: number;
  /** Points the server accepted in this upload so far. */
  pointsSent: number;
}

export interface RemoteRecord {
  _id: string;
  name?: string;
  altName?: string;
  [key: string]: unknown;
}

export interface RunCreateBody {
  name: string;
  altName: string;
  folder: string;
  makeFolder: boolean;
  conflictStrategy: ConflictStrategy;
  status: RunStatus;
  labels: string[];
  description: string;
  hparams: Record<string, JsonValue>;
  platform: JsonValue;
  git: JsonValue;
  startTime: string;
  endTime?: string;
  associations: Associations;
}

export interface RunFileRef extends BlobRef {
  path: string;
}

export interface RunPatchBody {
  status?: RunStatus;
  endTime?: string | null;
  hparams?: Record<string, JsonValue>;
  labels?: string[];
  description?: string;
  files?: Record<string, RunFileRef>;
  associations?: Associations;
}

/** A batch of one series' points is exactly a chunk of the local metric log, sent unchanged. */
export type MetricSeriesBatch = MetricChunk;

export interface MetricsBody {
  run: string;
  series: MetricSeriesBatch[];
}

export interface MetricsAnswer {
  run: string;
  /** How many points the server holds per series after the call. */
  series: { type: string; name: string; count: number }[];
}

export type ArtifactObjectBody = { path: string; sha256: string; size: number } | { path: string; uri: string };

export interface ArtifactCreateBody {
  name: string;
  altName: string;
  folder: string;
  makeFolder: boolean;
  conflictStrategy: ConflictStrategy;
  labels: string[];
  description: string;
  objects: ArtifactObjectBody[];
}

/** A run or artifact on the server by folder and name (the name may be an alternative name). */
export interface RemotePath {
  folder: string;
  name: string;
}

export type { RunAlert } from './run-alerts.js';

export interface RunsRemote {
  /** Identifies the server in a directory's upload history (its URL). */
  readonly server: string;
  /** `POST /runs`; with `skip` it may answer an existing run of another altName. */
  createRun(body: RunCreateBody): Promise<RemoteRecord>;
  /** `PATCH /runs/:id`. */
  patchRun(id: string, body: RunPatchBody): Promise<RemoteRecord>;
  /** `POST /metrics`; a Conflict (409) when an offset is past the server's count. */
  appendMetrics(body: MetricsBody): Promise<MetricsAnswer>;
  /** Uploads a file's bytes (resumable, deduplicated by hash). */
  uploadFile(path: string): Promise<BlobRef>;
  /** `POST /artifacts`. */
  createArtifact(body: ArtifactCreateBody): Promise<RemoteRecord>;
  /**
   * A run or artifact by server path; a folder without a leading `/` is relative to the
   * caller's home (`/<e-mail>`, or `/local` on a server without auth).
   */
  findRun(path: RemotePath): Promise<RemoteRecord | undefined>;
  /** Every point of every metric series of a run (to bring it back whole). */
  readRunMetrics(id: string): Promise<MetricSeries[]>;
  /** `GET /run-logs?run=<id>`, every page: the run's console output in chunk order. */
  readRunLogs(id: string): Promise<ConsoleChunk[]>;
  findArtifact(path: RemotePath): Promise<RemoteRecord | undefined>;
  /** `POST /run-alerts`: the server notifies the webhooks that asked for `run.alert`. */
  raiseAlert(runId: string, alert: RunAlert): Promise<void>;
  /** `POST /run-logs`: one chunk of the run's console output (kept once per chunk number). */
  appendRunLogs(body: RunLogsBody): Promise<void>;
  /** `POST /run-images`: records naming image blobs uploaded first. */
  createRunImages(records: RunImageBody[]): Promise<void>;
  /** `POST /run-histograms`: bins of tensors by step. */
  createRunHistograms(records: RunHistogramBody[]): Promise<void>;
  /** Every image and histogram record of a run (to bring it back whole). */
  readRunMedia(id: string): Promise<{ images: (RunImageBody & { _id: string })[]; histograms: RunHistogramBody[] }>;
  /** The stored bytes of one of a run's images. */
  readRunImage(imageId: string): Promise<Uint8Array>;
  /** Releases connections the remote opened itself. */
  close(): Promise<void>;
}

/** An upload target with the defaults applied and the organisation folded into the folder. */
export type ResolvedTarget = Required<Omit<UploadTarget, 'organization' | 'onProgress'>>;

export function uploadTarget(target: UploadTarget = {}): ResolvedTarget {
  const folder = target.folder ?? 'default';
  return {
    folder: target.organization && !folder.startsWith('/') ? `/${target.organization}/${folder}` : folder,
    makeFolder: target.makeFolder ?? false,
    conflictStrategy: target.conflictStrategy ?? 'new',
  };
}

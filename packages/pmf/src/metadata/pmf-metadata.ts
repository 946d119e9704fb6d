/**
 * The content of a PMF `metadata.yaml` (format 1.0.0), field for field as on disk. These
 * types are produced by `validateMetadata` and consumed by the writer; nothing else builds
 * metadata.
 */

/** The PMF format version this package reads and writes. */
export const PMF_FORMAT_VERSION = '1.0.0';

/** A checkpoint's unique reference: a string or an integer, as YAML keys allow. */
export type CheckpointReference = string | number;

export type TrainingStatus = 'pending' | 'running' | 'finished' | 'failed';

export const TRAINING_STATUSES: readonly TrainingStatus[] = ['pending', 'running', 'finished', 'failed'];

export interface CheckpointRecord {
  epoch: number;
  path: string;
  hash: string;
}

/** Training timing: every `*_time` comes with its `*_epoch`. */
export interface TrainingTimeline {
  status: TrainingStatus;
  start_time: number | null;
  start_epoch: number | null;
  latest_time: number | null;
  latest_epoch: number | null;
  end_time: number | null;
  end_epoch: number | null;
}

export interface TrainingRecord extends TrainingTimeline {
  latest: CheckpointReference | null;
  checkpoints: Map<CheckpointReference, CheckpointRecord>;
}

export interface PmfInitialisationRecord {
  pmf: { name: string | null; id: string; checkpoint: CheckpointReference; path: string };
}

export interface FileInitialisationRecord {
  file: { name: string | null; path: string; hash: string };
}

export type InitialisationRecord = PmfInitialisationRecord | FileInitialisationRecord;

export interface PmfMetadata {
  format: {
    version: typeof PMF_FORMAT_VERSION;
    producer: { name: string; version: { format: string; value: string } };
  };
  model: {
    name: string | null;
    id: string;
    configuration: { path: string; hash: string };
    initialisation: InitialisationRecord | null;
    training: TrainingRecord;
  };
}

/** The producer name rule of the format. */
export const PRODUCER_NAME = /^[a-zA-Z][0-9a-zA-Z_]+$/;

/**
 * What a model version records of its PMF model, read from the tree when it was pushed:
 * the shape the registry stores and the SDK sends and reads back.
 */
import type { JsonValue } from '../json.js';

export type CheckpointReference = string | number;

export interface PmfCheckpointSummary {
  reference: CheckpointReference;
  epoch: number;
  /** Relative to the model root, e.g. `data/checkpoints/10.h5`. */
  path: string;
  md5: string;
}

export type PmfInitialisationSummary =
  | { kind: 'pmf'; name: string | null; id: string; checkpoint: CheckpointReference }
  | { kind: 'file'; name: string | null; path: string; md5: string };

export const TRAINING_STATUSES = ['pending', 'running', 'finished', 'failed'] as const;

export interface PmfTrainingSummary {
  status: (typeof TRAINING_STATUSES)[number];
  startEpoch: number | null;
  startTime: number | null;
  latestEpoch: number | null;
  latestTime: number | null;
  endEpoch: number | null;
  endTime: number | null;
  latest: CheckpointReference | null;
}

export interface PmfSummary {
  formatVersion: '1.0.0';
  producer: { name: string; versionFormat: string; version: string };
  name: string | null;
  id: string;
  configuration: { path: string; md5: string };
  buildParameters: Record<string, JsonValue>;
  initialisation: PmfInitialisationSummary | null;
  training: PmfTrainingSummary;
  checkpoints: PmfCheckpointSummary[];
}

/**
 * The registry's records as the server answers them: models (Picsellia networks) and their
 * versions (PMF models whose files are blobs). The server's `services/registry` checks
 * these shapes; this is the client's reading of them.
 */
import type { JsonValue, PmfSummary } from '@larder/protocol';
import type { BlobRef } from '../blobs/blob-client.js';

/** A model's named file (Picsellia `files`: `config`, `model-latest`…). */
export interface ModelFile extends BlobRef {
  filename: string;
}

/** The fields a model's owner writes. */
export interface ModelFields {
  name: string;
  /** What the model does: `detection`, `segmentation`, `classification` or your own. */
  type: string;
  /** `tensorflow2`, `pytorch`… */
  framework: string;
  tags: string[];
  description: string;
  /** Private models are seen by their owner only; others are readable by everyone signed in. */
  private: boolean;
  /** The label map, e.g. `{ "1": "person", "2": "bicycle" }`. */
  labels: Record<string, string>;
  /** Parameters anyone can start a training from. */
  baseParameters: Record<string, JsonValue>;
  /** Markdown. */
  readme: string;
}

export interface ModelRecord extends ModelFields {
  _id: string;
  userId?: string;
  public: boolean;
  files: Record<string, ModelFile>;
  /** Alias → version number; `latest` follows every push. */
  aliases: Record<string, number>;
  versionCount: number;
  createdAt: string;
  updatedAt: string;
}

export type {
  CheckpointReference,
  PmfCheckpointSummary,
  PmfInitialisationSummary,
  PmfSummary,
  PmfTrainingSummary,
} from '@larder/protocol';

/** One file of a version's PMF tree. */
export interface VersionFile extends BlobRef {
  path: string;
}

export interface ModelVersionRecord {
  _id: string;
  userId?: string;
  public: boolean;
  modelId: string;
  modelName: string;
  /** 1, 2, 3… per model, never reused. */
  version: number;
  description: string;
  pmf: PmfSummary;
  files: VersionFile[];
  /** Empty folders of the tree. */
  folders: string[];
  /** Total bytes of the files. */
  size: number;
  /** Runs that produced this version. */
  producedBy: string[];
  /** Runs that used this version. */
  usedBy: string[];
  createdAt: string;
  updatedAt: string;
}

/**
 * The shapes of a Picsellia experiment as Larder stores it: a run in the project's folder
 * whose `files` are named file assets and whose `dataLogs` are named data logs, each
 * checked by the server against the shape of its type (`services/runs/data-logs.ts`).
 */
import type { BlobRef } from '../blobs/blob-client.js';
import type { DataRecord } from '../datastore/service-types.js';

/** A named file of an experiment: a blob plus the name it downloads under. */
export interface FileAsset extends BlobRef {
  filename: string;
}

/** A file asset with its name, as `listFiles` answers it. */
export interface ExperimentFile extends FileAsset {
  name: string;
}

export type DataScalar = string | number | boolean | null;

/** One shape of an `evaluation` log: a predicted or true object on a picture. */
export interface EvaluationShape {
  /** The picture (a datalake asset id or a file name). */
  asset?: string;
  label: string;
  /** `[x, y, width, height]`. */
  box?: number[];
  /** `[[x, y], …]`. */
  polygon?: number[][];
  confidence?: number;
}

/** What each data log type stores: the single reading of the server's checks. */
export interface DataLogShapes {
  value: number | string;
  line: { steps: number[]; values: (number | null)[] };
  bar: { x: (string | number)[]; y: number[] };
  /** Square: one row and one column per category (a confusion matrix). */
  heatmap: { categories: string[]; values: number[][] };
  table: Record<string, DataScalar> | { data: DataScalar[][]; rows?: string[]; columns?: string[] };
  image: BlobRef & { filename?: string };
  /** `{ "0": "car", "1": "bird" }`. */
  labelmap: Record<string, string>;
  evaluation: { predictions: EvaluationShape[]; groundTruth: EvaluationShape[] };
}

export type DataLogType = keyof DataLogShapes;

export const DATA_LOG_TYPES = [
  'value',
  'line',
  'bar',
  'heatmap',
  'table',
  'image',
  'labelmap',
  'evaluation',
] as const satisfies readonly DataLogType[];

/** A stored data log: its type and the data of that type. */
export type DataLog = { [T in DataLogType]: { type: T; data: DataLogShapes[T] } }[DataLogType];

/** A data log with its name, as `listData` answers it. */
export type ExperimentData = DataLog & { name: string };

/**
 * What `log` accepts per type. A `line` takes one scalar, several, or `{ steps, values }`,
 * all appended to what is logged already; an `image` takes the path of a picture to
 * upload, or an uploaded blob.
 */
export type LogInputs = Omit<DataLogShapes, 'line' | 'image'> & {
  line: number | number[] | { steps?: number[]; values: number[] };
  image: string | (BlobRef & { filename?: string });
};

/** A node of a run's lineage. */
export interface ExperimentInput {
  kind: 'run' | 'artifact' | 'model-version' | 'dataset-version';
  id: string;
}

/** An experiment record as the server answers it (other run fields are kept as written). */
export interface ExperimentRecord extends DataRecord {
  name: string;
  description: string;
  status: string;
  /** The project: an absolute folder path such as `/ada@example.org/mnist`. */
  folder: string;
  /** A removed entry may read back as `null` until it is written again. */
  files?: Record<string, FileAsset | null>;
  dataLogs?: Record<string, DataLog | null>;
  associations?: { inputs?: ExperimentInput[]; outputs?: ExperimentInput[] };
}

/** The fields `update` changes. */
export interface ExperimentChanges {
  name?: string;
  description?: string;
  /** Any short string; Larder gives meaning to `Running`, `Complete`, `Failed`, `Interrupted`. */
  status?: string;
}

/**
 * `run_data.json`: a Marcelle run as its Writer keeps it on disk and sends it to `/runs`
 * (see Marcelle's Python client). Epochs are 1-based; a checkpoint or asset has its server
 * `id` once uploaded.
 */

export type MarcelleRunStatus = 'idle' | 'start' | 'epoch' | 'success';

export interface CheckpointEntry {
  /** The model document's id, once uploaded. */
  id?: string;
  /** `<run name>@<epoch>`. */
  name: string;
  /** `tfjs-models` or `onnx-models`, once uploaded. */
  service?: string;
  metadata: { epoch: number | 'final'; local_path: string; local_format: string };
}

export interface AssetEntry {
  /** The asset document's id, once uploaded. */
  id?: string;
  url?: string;
  filename: string;
  epoch: number;
  local_path: string;
}

export interface RunData {
  basename: string;
  name: string;
  /** Local time, `YYYY-MM-DDTHH:MM:SS`. */
  start: string;
  source: string;
  status: MarcelleRunStatus;
  params: Record<string, unknown>;
  epoch: number;
  epochs?: number;
  logs: Record<string, (number | null)[]>;
  checkpoints: CheckpointEntry[];
  assets: AssetEntry[];
  model?: unknown;
  /** The server's id, once created there. */
  _id?: string;
  [key: string]: unknown;
}

export const RUN_DATA_FILE = 'run_data.json';

/** `2021-10-07T14:03:12` in local time, as Python's `strftime('%Y-%m-%dT%H:%M:%S')`. */
export function localStart(at = new Date()): string {
  const two = (value: number) => String(value).padStart(2, '0');
  return (
    `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())}` +
    `T${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`
  );
}

/** The run's folder name: its start with `:` replaced by `-`. */
export function runFolderName(start: string): string {
  return start.replaceAll(':', '-');
}

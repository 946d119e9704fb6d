/**
 * `remote.json`: where a run or artifact directory was uploaded, and for a run how many
 * points of each series each server acknowledged, so an upload resumes where the last one
 * stopped and a second upload sends nothing new.
 */
import { join } from 'node:path';
import { isObject, readJsonFile, writeJsonFile } from './local-json-file.js';

export const HISTORY_FILE = 'remote.json';

export interface UploadRecord {
  server: string;
  id: string;
  folder: string;
  uploadedAt: string;
  /** Points the server holds, per series (runs only). */
  series: { type: string; name: string; count: number }[];
  /** The metadata last sent, as JSON; a patch is skipped when nothing changed. */
  sentMetadata?: string;
  /**
   * Bytes at the start of the metric log whose every point the server holds (runs only):
   * the next upload reads the log from there instead of from the start.
   */
  logBytes?: number;
  /** Alerts of `alerts.ndjson` this server received (runs only). */
  alertsSent?: number;
  /** Bytes at the start of `console.ndjson` whose chunks this server received (runs only). */
  consoleBytes?: number;
  /** Bytes at the start of `media.ndjson` whose every entry this server holds (runs only). */
  mediaBytes?: number;
}

export interface UploadHistory {
  uploads: UploadRecord[];
}

export async function readUploadHistory(directory: string): Promise<UploadHistory> {
  const stored = await readJsonFile(join(directory, HISTORY_FILE));
  if (!isObject(stored) || !Array.isArray(stored.uploads)) return { uploads: [] };
  return { uploads: stored.uploads.filter(isObject) as unknown as UploadRecord[] };
}

/** Replaces the record for `record.server`. */
export async function saveUploadRecord(directory: string, record: UploadRecord): Promise<void> {
  const history = await readUploadHistory(directory);
  history.uploads = history.uploads.filter((each) => each.server !== record.server);
  history.uploads.push(record);
  await writeJsonFile(join(directory, HISTORY_FILE), history);
}

export async function findUploadRecord(directory: string, server: string): Promise<UploadRecord | undefined> {
  return (await readUploadHistory(directory)).uploads.find((each) => each.server === server);
}

/**
 * The lines of a run's `media.ndjson` (see LOCAL-FORMAT.md): one per image or histogram
 * logged, each with its own `key`, so a line written twice (during an exit) or sent twice
 * (after a broken connection) counts once. Reading skips a last line cut short by a crash.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Histogram } from './histogram.js';
import type { ImageMime } from './image-input.js';

export const MEDIA_FILE = 'media.ndjson';
/** Image files, named by their SHA-256. */
export const MEDIA_DIRECTORY = 'media';

export interface ImageEntry {
  kind: 'image';
  key: string;
  name: string;
  step: number;
  caption?: string;
  /** Relative to the run directory: `media/<sha256>.<ext>`. */
  file: string;
  sha256: string;
  size: number;
  mime: ImageMime;
  width?: number;
  height?: number;
  time: number;
}

export interface HistogramEntry extends Histogram {
  kind: 'histogram';
  key: string;
  name: string;
  step: number;
  time: number;
}

export type MediaEntry = ImageEntry | HistogramEntry;

/** Every entry of a run directory, in the order logged, each key once (none without a file). */
export async function readMediaEntries(directory: string): Promise<MediaEntry[]> {
  let text: string;
  try {
    text = await readFile(join(directory, MEDIA_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const entries: MediaEntry[] = [];
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let entry: MediaEntry;
    try {
      entry = JSON.parse(line) as MediaEntry;
    } catch {
      break; // a line cut by a crash mid-write: the entries before it still count
    }
    if (typeof entry?.key !== 'string' || seen.has(entry.key)) continue;
    seen.add(entry.key);
    entries.push(entry);
  }
  return entries;
}

/**
 * The lines of a run's `media.ndjson` (see LOCAL-FORMAT.md): one per image or histogram
 * logged, each with its own `key`, so a line written twice (during an exit) or sent twice
 * (after a broken connection) counts once. Reading skips a last line cut short by a crash.
 */
import { open } from 'node:fs/promises';
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

/** An entry and the byte of `media.ndjson` just after its line. */
export interface MediaLine {
  entry: MediaEntry;
  end: number;
}

/**
 * The entries of a run directory from byte `from` of its `media.ndjson` (a line boundary),
 * in the order logged, each key once; only whole lines (a line being written is left for the
 * next read). None without a file.
 */
export async function readMediaLines(directory: string, from = 0): Promise<MediaLine[]> {
  let bytes: Buffer;
  try {
    const file = await open(join(directory, MEDIA_FILE), 'r');
    try {
      const { size } = await file.stat();
      bytes = Buffer.alloc(Math.max(0, size - from));
      if (bytes.length > 0) await file.read(bytes, 0, bytes.length, from);
    } finally {
      await file.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const lines: MediaLine[] = [];
  const seen = new Set<string>();
  let start = 0;
  for (let newline = bytes.indexOf(10); newline !== -1; newline = bytes.indexOf(10, start)) {
    const text = bytes.toString('utf8', start, newline);
    start = newline + 1;
    if (text.trim() === '') continue;
    let entry: MediaEntry;
    try {
      entry = JSON.parse(text) as MediaEntry;
    } catch {
      break; // a line cut by a crash mid-write: the entries before it still count
    }
    if (typeof entry?.key !== 'string' || seen.has(entry.key)) continue;
    seen.add(entry.key);
    lines.push({ entry, end: from + start });
  }
  return lines;
}

/** Every entry of a run directory, in the order logged, each key once. */
export async function readMediaEntries(directory: string): Promise<MediaEntry[]> {
  return (await readMediaLines(directory)).map((line) => line.entry);
}

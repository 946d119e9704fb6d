/**
 * A run's images and histograms brought back from a server into a copied run directory
 * (`loadRun('/<home>/<folder>/<run>')`): each image's bytes under `media/`, then one
 * `media.ndjson` line per record with its key, so uploading the copy again sends nothing.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunsRemote } from '../runs-remote.js';
import { type ImageMime, imageMime } from './image-input.js';
import { type HistogramEntry, type ImageEntry, MEDIA_DIRECTORY, MEDIA_FILE, type MediaEntry } from './media-entries.js';

const EXTENSION: Record<ImageMime, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

/** Writes the run's media into `directory`; answers the bytes of `media.ndjson` written (0: none). */
export async function copyRunMedia(remote: RunsRemote, runId: string, directory: string): Promise<number> {
  const { images, histograms } = await remote.readRunMedia(runId);
  const entries: MediaEntry[] = [];
  if (images.length > 0) await mkdir(join(directory, MEDIA_DIRECTORY), { recursive: true });
  for (const image of images) {
    const bytes = await remote.readRunImage(image._id);
    const mime = imageMime(bytes) ?? 'image/png';
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const file = `${MEDIA_DIRECTORY}/${sha256}.${EXTENSION[mime]}`;
    await writeFile(join(directory, file), bytes);
    const entry: ImageEntry = {
      kind: 'image',
      key: image.key,
      name: image.name,
      step: image.step,
      file,
      sha256,
      size: bytes.length,
      mime,
      time: image.time ?? 0,
    };
    if (image.caption !== undefined) entry.caption = image.caption;
    if (image.width !== undefined && image.height !== undefined) {
      entry.width = image.width;
      entry.height = image.height;
    }
    entries.push(entry);
  }
  for (const { run: _run, ...fields } of histograms) entries.push({ kind: 'histogram', ...fields } as HistogramEntry);
  if (entries.length === 0) return 0;
  entries.sort((a, b) => a.time - b.time || a.step - b.step);
  const log = entries.map((entry) => `${JSON.stringify(entry)}\n`).join('');
  await writeFile(join(directory, MEDIA_FILE), log);
  return Buffer.byteLength(log);
}

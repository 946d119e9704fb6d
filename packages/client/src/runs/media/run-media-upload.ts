/**
 * Sends a run's images and histograms with its upload: the entries of `media.ndjson` past
 * the byte up to which this server holds them (`mediaBytes` in `remote.json`), a batch at a
 * time, so a sync with nothing new reads nothing.
 * An image's bytes go first as a blob (resumable, skipped when the server holds them), then
 * its record names them; histograms carry their bins. Each entry keeps its key, from which
 * the server derives the record's id, so a batch sent twice stores each entry once.
 */
import { join } from 'node:path';
import type { RunsRemote } from '../runs-remote.js';
import type { UploadRecord } from '../upload-history.js';
import { type HistogramEntry, type ImageEntry, type MediaLine, readMediaLines } from './media-entries.js';

/** `POST /run-images`: one image of a run at a step. */
export interface RunImageBody {
  run: string;
  key: string;
  name: string;
  step: number;
  caption?: string;
  image: { sha256: string; size: number };
  mime: string;
  width?: number;
  height?: number;
  time: number;
}

/** `POST /run-histograms`: the bins of one tensor of a run at a step. */
export type RunHistogramBody = Omit<HistogramEntry, 'kind'> & { run: string };

const BATCH = 100;

/** Sends what is new; answers how many entries this call sent. */
export async function uploadRunMedia(
  directory: string,
  remote: RunsRemote,
  record: UploadRecord,
  save: () => Promise<void>,
): Promise<number> {
  const lines = await readMediaLines(directory, record.mediaBytes ?? 0);
  for (let start = 0; start < lines.length; start += BATCH) {
    const batch = lines.slice(start, start + BATCH);
    const images: RunImageBody[] = [];
    const histograms: RunHistogramBody[] = [];
    for (const { entry } of batch) {
      if (entry.kind === 'image') images.push(await imageBody(directory, remote, record.id, entry));
      else if (entry.kind === 'histogram') {
        const { kind: _kind, ...fields } = entry;
        histograms.push({ ...fields, run: record.id });
      }
    }
    if (images.length > 0) await remote.createRunImages(images);
    if (histograms.length > 0) await remote.createRunHistograms(histograms);
    record.mediaBytes = (batch.at(-1) as MediaLine).end;
    await save();
  }
  return lines.length;
}

async function imageBody(directory: string, remote: RunsRemote, run: string, entry: ImageEntry): Promise<RunImageBody> {
  const blob = await remote.uploadFile(join(directory, entry.file));
  const body: RunImageBody = {
    run,
    key: entry.key,
    name: entry.name,
    step: entry.step,
    image: { sha256: blob.sha256, size: blob.size },
    mime: entry.mime,
    time: entry.time,
  };
  if (entry.caption !== undefined) body.caption = entry.caption;
  if (entry.width !== undefined && entry.height !== undefined) {
    body.width = entry.width;
    body.height = entry.height;
  }
  return body;
}

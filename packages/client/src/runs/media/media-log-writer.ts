/**
 * Writes a live run's images and histograms to its directory, in the order they were logged:
 * each image's file first (`media/<sha256>.<ext>`, through a temporary name, so a crash never
 * leaves half a picture under a hash), then its line in `media.ndjson`. Raw pixels are
 * encoded to PNG on libuv's thread pool, so `logImage` costs a copy of the pixels; on process
 * exit whatever is still queued is written synchronously.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { appendFile, mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { newId } from '@larder/protocol';
import type { Histogram } from './histogram.js';
import type { EncodedImage, ImageMime, PixelImage } from './image-input.js';
import { type HistogramEntry, type ImageEntry, MEDIA_DIRECTORY, MEDIA_FILE, type MediaEntry } from './media-entries.js';
import { encodePng, encodePngSync } from './png-encoder.js';

const EXTENSION: Record<ImageMime, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

interface ImageFields {
  name: string;
  step: number;
  caption?: string;
}

interface Queued {
  /** The entry, once the image is encoded; histograms have it at once. */
  entry?: MediaEntry;
  image?: { fields: ImageFields; picture: EncodedImage | PixelImage; key: string; time: number; bytes?: Uint8Array };
  written: boolean;
}

/** Width and height from a PNG's header. */
function pngSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes.length < 24) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

export class MediaLogWriter {
  readonly #directory: string;
  readonly #queue: Queued[] = [];
  readonly #onExit = () => this.flushSync();
  #draining: Promise<void> | undefined;
  #lastError: unknown;
  #closed = false;

  constructor(directory: string) {
    this.#directory = directory;
    process.on('exit', this.#onExit);
  }

  /** The error of the last failed write, if any (the entry stays queued and is retried). */
  get lastError(): unknown {
    return this.#lastError;
  }

  addImage(fields: ImageFields, picture: EncodedImage | PixelImage): void {
    this.#queue.push({ image: { fields, picture, key: newId(), time: Date.now() }, written: false });
    this.#drainSoon();
  }

  addHistogram(fields: { name: string; step: number }, histogram: Histogram): void {
    const entry: HistogramEntry = { kind: 'histogram', key: newId(), ...fields, ...histogram, time: Date.now() };
    this.#queue.push({ entry, written: false });
    this.#drainSoon();
  }

  /** Resolves once everything logged so far is on disk. */
  async flush(): Promise<void> {
    while (this.#queue.length > 0) {
      this.#drainSoon();
      await this.#draining;
      if (this.#lastError && this.#queue.length > 0) throw this.#lastError;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.flush();
    } finally {
      this.#closed = true;
      process.off('exit', this.#onExit);
    }
  }

  /** Writes what is queued on this thread (for `process.on('exit')`); a line may land twice, readers skip it by key. */
  flushSync(): void {
    for (const queued of this.#queue) {
      if (queued.written) continue;
      const entry = queued.entry ?? this.#imageEntry(queued, true);
      if (entry.kind === 'image' && queued.image?.bytes) {
        mkdirSync(join(this.#directory, MEDIA_DIRECTORY), { recursive: true });
        const path = join(this.#directory, entry.file);
        writeFileSync(`${path}.partial`, queued.image.bytes);
        renameSync(`${path}.partial`, path);
      }
      appendFileSync(join(this.#directory, MEDIA_FILE), `${JSON.stringify(entry)}\n`);
      queued.written = true;
    }
    this.#queue.length = 0;
  }

  #drainSoon(): void {
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = undefined;
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const queued = this.#queue[0] as Queued;
      try {
        if (!queued.entry && queued.image) {
          const { picture } = queued.image;
          queued.image.bytes = picture.kind === 'encoded' ? picture.bytes : await encodePng(picture.pixels);
          queued.entry = this.#imageEntry(queued, false);
        }
        const entry = queued.entry as MediaEntry;
        if (entry.kind === 'image' && queued.image?.bytes) {
          await mkdir(join(this.#directory, MEDIA_DIRECTORY), { recursive: true });
          const path = join(this.#directory, entry.file);
          await writeFile(`${path}.partial`, queued.image.bytes);
          await rename(`${path}.partial`, path);
        }
        await appendFile(join(this.#directory, MEDIA_FILE), `${JSON.stringify(entry)}\n`);
        queued.written = true;
        this.#queue.shift();
        this.#lastError = undefined;
      } catch (error) {
        this.#lastError = error;
        return;
      }
    }
  }

  #imageEntry(queued: Queued, sync: boolean): ImageEntry {
    const image = queued.image as NonNullable<Queued['image']>;
    const { picture } = image;
    image.bytes ??= picture.kind === 'encoded' ? picture.bytes : sync ? encodePngSync(picture.pixels) : undefined;
    const bytes = image.bytes as Uint8Array;
    const mime = picture.kind === 'encoded' ? picture.mime : 'image/png';
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const size = picture.kind === 'pixels' ? picture.pixels : mime === 'image/png' ? pngSize(bytes) : undefined;
    const entry: ImageEntry = {
      kind: 'image',
      key: image.key,
      name: image.fields.name,
      step: image.fields.step,
      file: `${MEDIA_DIRECTORY}/${sha256}.${EXTENSION[mime]}`,
      sha256,
      size: bytes.length,
      mime,
      time: image.time,
    };
    if (image.fields.caption !== undefined) entry.caption = image.fields.caption;
    if (size) {
      entry.width = size.width;
      entry.height = size.height;
    }
    return entry;
  }
}

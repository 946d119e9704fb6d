/**
 * Smaller copies of a run's images for the dashboard's panels: `?width=N` on the file route
 * answers the picture scaled to N pixels wide (WebP, made with sharp, never enlarged), so a
 * slider over large samples moves small files. Pictures no wider than N, files sharp cannot
 * read, and files above 32 MiB are served as stored. Copies are made on request and cached by
 * the browser (they never change), not stored.
 */
import { LarderError } from '@larder/protocol';
import type { BlobInfo, BlobStore } from '../../blobs/blob-store.js';

const MAX_SCALED_BYTES = 32 * 1024 * 1024;
const MIN_WIDTH = 16;
const MAX_WIDTH = 4096;

/** The width asked for, or undefined for the stored file; a 400 for anything else. */
export function requestedWidth(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const width = typeof value === 'string' && /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(width >= MIN_WIDTH && width <= MAX_WIDTH)) {
    throw new LarderError('BadRequest', `"width" is a whole number of pixels from ${MIN_WIDTH} to ${MAX_WIDTH}`);
  }
  return width;
}

/** The picture scaled to `width` as WebP, or undefined when the stored file should go as it is. */
export async function scaledImage(blobs: BlobStore, info: BlobInfo, width: number): Promise<Buffer | undefined> {
  if (info.size > MAX_SCALED_BYTES) return undefined;
  const parts: Buffer[] = [];
  for await (const chunk of await blobs.get(info.sha256)) parts.push(chunk as Buffer);
  const bytes = Buffer.concat(parts);
  // Loaded on the first scaled picture: sharp brings libvips, which would slow every start.
  const { default: sharp } = await import('sharp');
  try {
    const metadata = await sharp(bytes, { failOn: 'none' }).metadata();
    if (!metadata.width || metadata.width <= width) return undefined;
    return await sharp(bytes, { failOn: 'none' })
      .resize({ width, withoutEnlargement: true })
      .webp({ quality: 80 })
      .toBuffer();
  } catch {
    return undefined; // not a picture sharp reads: the stored bytes, typed by their signature
  }
}

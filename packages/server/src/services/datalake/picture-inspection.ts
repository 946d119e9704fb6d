/**
 * What the server learns from a stored file at upload: its type and, for a picture, its
 * pixel size (read with `image-size` from the file's first bytes, EXIF rotation applied).
 * Files that are not pictures get a type from their name and nothing else. Thumbnails are
 * made later, on first view (`picture-thumbnails.ts`), so an upload never decodes a picture.
 */
import { imageSize } from 'image-size';
import type { BlobStore } from '../../blobs/blob-store.js';

export interface BlobRef {
  sha256: string;
  size: number;
}

export interface FileFacts {
  mime: string;
  width?: number;
  height?: number;
}

/** Files above this are not read whole for inspection (they stay plain data files). */
export const MAX_INSPECTED_BYTES = 64 * 1024 * 1024;
/** Bytes read first: enough for the header of nearly every picture (JPEG EXIF included). */
export const HEAD_BYTES = 128 * 1024;

const MIME_BY_TYPE: Record<string, string> = {
  jpg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  bmp: 'image/bmp',
  tiff: 'image/tiff',
  heif: 'image/heif',
  svg: 'image/svg+xml',
  ico: 'image/x-icon',
  jp2: 'image/jp2',
  jxl: 'image/jxl',
  psd: 'image/vnd.adobe.photoshop',
  tga: 'image/x-tga',
};

/** Raster types sharp decodes; SVG is left alone (it may reference outside resources). */
const THUMBNAILED = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/tiff', 'image/heif']);

const MIME_BY_EXTENSION: Record<string, string> = {
  json: 'application/json',
  txt: 'text/plain',
  csv: 'text/csv',
  xml: 'application/xml',
  zip: 'application/zip',
  npy: 'application/octet-stream',
  mp4: 'video/mp4',
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
  pdf: 'application/pdf',
};

/** Whether pictures of this type get a thumbnail. */
export function isThumbnailed(mime: unknown): boolean {
  return typeof mime === 'string' && THUMBNAILED.has(mime);
}

/**
 * The facts of a stored file. `head`, when the caller kept the first bytes as they arrived,
 * spares a read of the blob; the whole file is read only when its header runs past them.
 */
export async function inspectFile(
  blobs: BlobStore,
  file: BlobRef,
  filename: string,
  head?: Buffer,
): Promise<FileFacts> {
  const fallback: FileFacts = { mime: mimeFromName(filename) };
  if (file.size === 0 || file.size > MAX_INSPECTED_BYTES) return fallback;
  const first = head ?? (await readBlob(blobs, file.sha256, Math.min(file.size, HEAD_BYTES)));
  const facts = factsOf(first);
  if (facts || first.length >= file.size) return facts ?? fallback;
  return factsOf(await readBlob(blobs, file.sha256, file.size)) ?? fallback;
}

function factsOf(bytes: Buffer): FileFacts | undefined {
  let size: ReturnType<typeof imageSize>;
  try {
    size = imageSize(bytes);
  } catch {
    return undefined;
  }
  const mime = MIME_BY_TYPE[size.type ?? ''];
  if (mime === undefined) return undefined;
  const rotated = (size.orientation ?? 1) >= 5;
  return { mime, width: rotated ? size.height : size.width, height: rotated ? size.width : size.height };
}

/** The first `bytes` bytes of a blob (all of it when it is shorter). */
export async function readBlob(blobs: BlobStore, sha256: string, bytes: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of await blobs.get(sha256, { start: 0, end: Math.max(0, bytes - 1) })) {
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

function mimeFromName(filename: string): string {
  const dot = filename.lastIndexOf('.');
  const extension = dot >= 0 ? filename.slice(dot + 1).toLowerCase() : '';
  // Never an image type from the name alone: those are read from the content.
  return MIME_BY_EXTENSION[extension] ?? 'application/octet-stream';
}

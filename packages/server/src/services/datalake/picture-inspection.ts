/**
 * What the server learns from a stored file: its type, the pixel size of a picture (read
 * from the file with `image-size`, EXIF rotation applied) and a small WebP thumbnail for
 * galleries (made with `sharp`, stored as a blob of its own). Files that are not pictures
 * get a type from their name and nothing else.
 */
import { Readable } from 'node:stream';
import { imageSize } from 'image-size';
import sharp from 'sharp';
import type { BlobStore } from '../../blobs/blob-store.js';
import { confirmUpload } from '../../blobs/lifecycle/blob-uploads.js';
import type { DocumentStore } from '../../stores/document-store.js';

export interface BlobRef {
  sha256: string;
  size: number;
}

export interface FileFacts {
  mime: string;
  width?: number;
  height?: number;
  thumbnail?: BlobRef;
}

/** Files above this are not read into memory for inspection (they stay plain data files). */
const MAX_INSPECTED_BYTES = 64 * 1024 * 1024;
const THUMBNAIL_SIDE = 256;

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
const THUMBNAILED = new Set(['jpg', 'png', 'gif', 'webp', 'tiff', 'heif']);

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

export async function inspectFile(
  store: DocumentStore,
  blobs: BlobStore,
  file: BlobRef,
  filename: string,
): Promise<FileFacts> {
  const fallback: FileFacts = { mime: mimeFromName(filename) };
  if (file.size === 0 || file.size > MAX_INSPECTED_BYTES) return fallback;
  const bytes = await readBlob(blobs, file.sha256);
  let size: ReturnType<typeof imageSize>;
  try {
    size = imageSize(bytes);
  } catch {
    return fallback;
  }
  const type = size.type ?? '';
  const rotated = (size.orientation ?? 1) >= 5;
  const facts: FileFacts = {
    mime: MIME_BY_TYPE[type] ?? fallback.mime,
    width: rotated ? size.height : size.width,
    height: rotated ? size.width : size.height,
  };
  if (THUMBNAILED.has(type)) {
    const thumbnail = await makeThumbnail(store, blobs, bytes);
    if (thumbnail) facts.thumbnail = thumbnail;
  }
  return facts;
}

async function makeThumbnail(store: DocumentStore, blobs: BlobStore, bytes: Buffer): Promise<BlobRef | undefined> {
  let thumbnail: Buffer;
  try {
    thumbnail = await sharp(bytes, { failOn: 'none' })
      .rotate()
      .resize(THUMBNAIL_SIDE, THUMBNAIL_SIDE, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 75 })
      .toBuffer();
  } catch {
    // A truncated or corrupt picture still becomes an asset, without a thumbnail.
    return undefined;
  }
  const stored = await blobs.put(Readable.from([thumbnail]));
  await confirmUpload(store, blobs, stored.sha256);
  return { sha256: stored.sha256, size: stored.size };
}

async function readBlob(blobs: BlobStore, sha256: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of await blobs.get(sha256)) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

function mimeFromName(filename: string): string {
  const dot = filename.lastIndexOf('.');
  const extension = dot >= 0 ? filename.slice(dot + 1).toLowerCase() : '';
  // Never an image type from the name alone: those are read from the content.
  return MIME_BY_EXTENSION[extension] ?? 'application/octet-stream';
}

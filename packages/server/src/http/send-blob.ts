/**
 * Answers a request with a stored blob: ETag (its hash), `If-None-Match`, single `Range`
 * requests (206, or 416 outside the blob), streaming, and optionally a file name for
 * `Content-Disposition` and a content type. Every route that hands out files uses it.
 */
import type { Context } from 'koa';
import type { BlobInfo, BlobStore } from '../blobs/blob-store.js';
import { parseByteRange } from './byte-range.js';

export interface SendBlobOptions {
  /** False for HEAD: headers only. */
  bodyWanted: boolean;
  filename?: string;
  /** Shown in the browser (`inline`, the default) or saved (`attachment`). */
  disposition?: 'inline' | 'attachment';
  contentType?: string;
}

export async function sendBlob(
  ctx: Context,
  blobs: BlobStore,
  info: BlobInfo,
  options: SendBlobOptions,
): Promise<void> {
  const etag = `"${info.sha256}"`;
  ctx.set('ETag', etag);
  ctx.set('Accept-Ranges', 'bytes');
  ctx.set('Cache-Control', 'private, max-age=31536000, immutable');
  // Uploaded content (an SVG, an HTML file) must never run as a page of this origin.
  ctx.set('Content-Security-Policy', "default-src 'none'; sandbox");
  ctx.set('X-Content-Type-Options', 'nosniff');
  if (options.filename) ctx.attachment(options.filename, { type: options.disposition ?? 'inline' });
  if (ctx.get('if-none-match') === etag) {
    ctx.status = 304;
    return;
  }
  const answer = parseByteRange(ctx.get('range') || undefined, info.size);
  if (answer.kind === 'unsatisfiable') {
    ctx.set('Content-Range', `bytes */${info.size}`);
    ctx.status = 416;
    ctx.body = {
      name: 'RangeNotSatisfiable',
      message: `The range is outside the file's ${info.size} bytes`,
      code: 416,
      className: 'range-not-satisfiable',
    };
    return;
  }
  const range = answer.kind === 'range' ? answer.range : undefined;
  // Koa sends no body for HEAD but keeps the headers, Content-Length included.
  ctx.body = options.bodyWanted ? await blobs.get(info.sha256, range) : '';
  if (range) {
    ctx.status = 206;
    ctx.set('Content-Range', `bytes ${range.start}-${range.end}/${info.size}`);
    ctx.length = range.end - range.start + 1;
  } else {
    ctx.status = 200;
    ctx.length = info.size;
  }
  ctx.type = options.contentType ?? 'application/octet-stream';
}

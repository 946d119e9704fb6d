/**
 * A `multipart/form-data` body built in memory from parts already read, for the upload of
 * many small files: Node's `FormData` streams every file part as a Blob through web streams,
 * which costs several times the file's own read (~240 µs a 3 kB picture, against ~40 µs
 * here). Names are escaped as the HTML standard's encoding does it (and so `FormData`):
 * line feed, carriage return and double quote become `%0A`, `%0D` and `%22`.
 *
 * @example
 * const { body, contentType } = multipartBody([
 *   { name: 'tags', value: 'cat' },
 *   { name: 'file', filename: 'a.jpg', value: await readFile('a.jpg') },
 * ]);
 * await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
 */
import { randomBytes } from 'node:crypto';

export interface FormPart {
  name: string;
  /** A text field, or a file's bytes. */
  value: string | Uint8Array;
  /** Makes the part a file (its content type is `application/octet-stream`). */
  filename?: string;
}

const CRLF = Buffer.from('\r\n');

export function multipartBody(parts: readonly FormPart[]): { body: Buffer; contentType: string } {
  const boundary = `----LarderFormBoundary${randomBytes(16).toString('hex')}`;
  const chunks: Uint8Array[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${escapeName(part.name)}"`;
    if (part.filename === undefined) {
      const text = typeof part.value === 'string' ? crlfLineBreaks(part.value) : part.value;
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n\r\n`));
      chunks.push(typeof text === 'string' ? Buffer.from(text) : text, CRLF);
    } else {
      const head =
        `--${boundary}\r\nContent-Disposition: ${disposition}; filename="${escapeName(part.filename)}"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n';
      chunks.push(Buffer.from(head), typeof part.value === 'string' ? Buffer.from(part.value) : part.value, CRLF);
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

function escapeName(name: string): string {
  return name.replace(/\n/g, '%0A').replace(/\r/g, '%0D').replace(/"/g, '%22');
}

/** Text fields carry CRLF line breaks, as a browser's form sends them. */
function crlfLineBreaks(text: string): string {
  return text.replace(/\r\n|\r|\n/g, '\r\n');
}

/**
 * The `files` of a Marcelle model document: `[[filename, storedId], ...]`, as the upload
 * route answered them. In Larder a stored id is the SHA-256 of the bytes in the blob store.
 */
import { LarderError } from '@larder/protocol';
import { isSha256 } from '../../blobs/blob-store.js';

export type ModelFilePair = [filename: string, sha256: string];

const MAX_FILES = 1000;

/** Checks a `files` value; throws BadRequest saying what to send instead. */
export function parseModelFiles(value: unknown): ModelFilePair[] {
  if (!Array.isArray(value) || value.length > MAX_FILES) {
    throw new LarderError('BadRequest', '"files" must be the list of [filename, id] pairs the upload route answered');
  }
  return value.map((pair, index): ModelFilePair => {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || pair[0] === '') {
      throw new LarderError('BadRequest', `files[${index}] must be a [filename, id] pair`);
    }
    if (!isSha256(pair[1])) {
      throw new LarderError(
        'BadRequest',
        `files[${index}] names no uploaded file: upload the files first (POST /<format>-models/upload) and send the pairs it answers`,
      );
    }
    return [pair[0], pair[1]];
  });
}

/** The pairs of a stored document, tolerating anything malformed. */
export function storedModelFiles(record: Record<string, unknown> | undefined): ModelFilePair[] {
  const files = record?.files;
  if (!Array.isArray(files)) return [];
  return files.filter(
    (pair): pair is ModelFilePair =>
      Array.isArray(pair) && pair.length === 2 && typeof pair[0] === 'string' && isSha256(pair[1]),
  );
}

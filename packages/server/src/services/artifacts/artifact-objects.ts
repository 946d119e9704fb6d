/**
 * The objects of an artifact: files by hash (`{ path, sha256, size }`) or references by URI
 * (`{ path, uri }`), at relative paths that cannot escape the artifact (no `..`, no leading
 * `/`, no backslashes or control characters) and that are unique within it.
 */
import { LarderError } from '@larder/protocol';
import { isSha256 } from '../../blobs/blob-store.js';

export type ArtifactObject = { path: string; sha256: string; size: number } | { path: string; uri: string };

export const MAX_OBJECTS = 100_000;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const BAD_PATH = /[\u0000-\u001f\u007f\\]/;
const URI = /^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$/;

export function assertObjectPath(path: unknown, index: number): asserts path is string {
  const valid =
    typeof path === 'string' &&
    path.length > 0 &&
    path.length <= 1024 &&
    !path.startsWith('/') &&
    !BAD_PATH.test(path) &&
    path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
  if (!valid) {
    throw new LarderError(
      'BadRequest',
      `objects[${index}].path must be a relative path inside the artifact (no "..", no leading "/", no backslashes)`,
    );
  }
}

export function parseObjects(value: unknown): ArtifactObject[] {
  if (!Array.isArray(value) || value.length > MAX_OBJECTS) {
    throw new LarderError(
      'BadRequest',
      `"objects" must be a list (at most ${MAX_OBJECTS}) of { path, sha256, size } or { path, uri }`,
    );
  }
  const seen = new Set<string>();
  return value.map((entry, index) => {
    const { path, sha256, size, uri } = (entry ?? {}) as Record<string, unknown>;
    assertObjectPath(path, index);
    if (seen.has(path)) throw new LarderError('BadRequest', `Two objects have the path ${path}`);
    seen.add(path);
    if (typeof uri === 'string' && sha256 === undefined) {
      if (!URI.test(uri) || uri.length > 4096)
        throw new LarderError('BadRequest', `objects[${index}].uri must be a URI like s3://bucket/key`);
      return { path, uri };
    }
    if (!isSha256(sha256) || typeof size !== 'number' || !Number.isInteger(size) || size < 0) {
      throw new LarderError('BadRequest', `objects[${index}] needs { sha256, size } of an uploaded file, or a "uri"`);
    }
    return { path, sha256, size };
  });
}

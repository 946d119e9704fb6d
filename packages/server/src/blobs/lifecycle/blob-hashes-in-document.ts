/**
 * The blobs a document refers to. A document holds a blob the way `POST /blobs` answers
 * it: an object with a `sha256` field, e.g. `{ weights: { sha256: "ab12…", size: 1024 } }`,
 * at any depth and inside arrays. Those blobs stay stored while the document exists.
 */
import { isSha256 } from '../blob-store.js';

const MAX_DEPTH = 64;

/** The distinct blob hashes a JSON value refers to. */
export function blobHashesIn(value: unknown): Set<string> {
  const found = new Set<string>();
  collect(value, found, 0);
  return found;
}

function collect(value: unknown, found: Set<string>, depth: number): void {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return;
  if (Array.isArray(value)) {
    for (const item of value) collect(item, found, depth + 1);
    return;
  }
  for (const [key, field] of Object.entries(value)) {
    if (key === 'sha256' && isSha256(field)) found.add(field);
    else collect(field, found, depth + 1);
  }
}

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

/** Each blob a JSON value names, with the size stated beside it (when one is). */
export function blobMentionsIn(value: unknown): Map<string, number | undefined> {
  const found = new Map<string, number | undefined>();
  const visit = (node: unknown, depth: number) => {
    if (node === null || typeof node !== 'object' || depth > MAX_DEPTH) return;
    if (Array.isArray(node)) {
      for (const item of node) visit(item, depth + 1);
      return;
    }
    const record = node as Record<string, unknown>;
    if (isSha256(record.sha256)) {
      const size = typeof record.size === 'number' ? record.size : undefined;
      if (!found.has(record.sha256) || size !== undefined) found.set(record.sha256, size);
    }
    for (const [key, field] of Object.entries(record)) if (key !== 'sha256') visit(field, depth + 1);
  };
  visit(value, 0);
  return found;
}

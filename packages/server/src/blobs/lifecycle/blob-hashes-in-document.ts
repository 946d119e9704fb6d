/**
 * The blobs a document refers to. A document holds a blob the way `POST /blobs` answers
 * it: an object with a `sha256` field, e.g. `{ weights: { sha256: "ab12…", size: 1024 } }`,
 * at any depth and inside arrays. Those blobs stay stored while the document exists.
 * The walk is iterative, so no depth hides a hash from the checks and references built on it.
 */
import { isSha256 } from '../blob-store.js';

/** A blob a document names: the size stated beside it (if any) and where it was found. */
export interface BlobMention {
  size: number | undefined;
  where: string;
}

/** The distinct blob hashes a JSON value refers to. */
export function blobHashesIn(value: unknown): Set<string> {
  return new Set(blobMentionsIn(value).keys());
}

/** Each blob a JSON value names, with the size stated beside it (when one is) and its path. */
export function blobMentionsIn(value: unknown): Map<string, BlobMention> {
  const found = new Map<string, BlobMention>();
  const pending: { node: unknown; where: string }[] = [{ node: value, where: '' }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { node, where } = next;
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      for (const [index, item] of node.entries()) pending.push({ node: item, where: `${where}[${index}]` });
      continue;
    }
    const record = node as Record<string, unknown>;
    if (isSha256(record.sha256)) {
      const size = typeof record.size === 'number' ? record.size : undefined;
      const known = found.get(record.sha256);
      if (!known || (known.size === undefined && size !== undefined)) {
        found.set(record.sha256, { size, where: where === '' ? 'the record' : where.replace(/^\./, '') });
      }
    }
    for (const [key, field] of Object.entries(record)) {
      if (key !== 'sha256') pending.push({ node: field, where: `${where}.${key}` });
    }
  }
  return found;
}

const HEX_RUN = /[0-9a-fA-F]{64,}/g;

/**
 * Every 64-hex-digit run in the strings (keys and values) of a JSON value, lower-cased: the
 * hashes a client's input could make a record name, however a service derives its blob
 * fields from that input (`{ sha256 }` objects, `[name, hash]` pairs, `<hash>/<file>` urls).
 */
export function hashCandidatesIn(value: unknown): Set<string> {
  const found = new Set<string>();
  const add = (text: string) => {
    for (const match of text.matchAll(HEX_RUN)) {
      const run = match[0].toLowerCase();
      for (let start = 0; start + 64 <= run.length; start++) found.add(run.slice(start, start + 64));
    }
  };
  const pending: unknown[] = [value];
  for (let node = pending.pop(); node !== undefined || pending.length > 0; node = pending.pop()) {
    if (typeof node === 'string') add(node);
    else if (Array.isArray(node)) pending.push(...node);
    else if (node !== null && typeof node === 'object') {
      for (const [key, field] of Object.entries(node)) {
        add(key);
        pending.push(field);
      }
    }
  }
  return found;
}
